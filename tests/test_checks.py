"""`check` rules, each proven on a purposely broken template (tests/fixtures/templates/)."""

import json
import shutil
from pathlib import Path

import pytest

from newsletter.checks import (
    CheckReport,
    Expectations,
    Level,
    check_html,
    check_issue,
    check_url,
    nested_at_rule,
)
from newsletter.project import Project
from tests.clirun import CliResult
from tests.clirun import cli as run_cli
from tests.conftest import FIXTURES, REPO

BROKEN = FIXTURES / "templates"


def with_templates(project: Path, case: str) -> Project:
    """The sample project with one broken template set copied over the defaults."""
    shutil.copytree(BROKEN / case, project / "templates", dirs_exist_ok=True)
    return Project.at(project)


def rules(report: CheckReport, level: Level | None = None) -> set[str]:
    return {f.rule for f in report.findings if level is None or f.level is level}


def test_the_sample_issues_are_clean() -> None:
    project = Project.at(REPO)
    for month in project.months():
        report = check_issue(project, month)
        problems = report.errors + report.warnings  # notes on client support are expected
        assert problems == [], [str(f) for f in problems]
        assert 0 < report.html_bytes < 90 * 1024


@pytest.mark.parametrize(
    ("case", "rule", "level", "where"),
    [
        ("unknown-tag", "mjml-tag", Level.error, "partials/intro.mjml.j2:3"),
        ("unknown-attribute", "mjml-attribute", Level.error, "partials/intro.mjml.j2:4"),
        ("misplaced", "mjml-nesting", Level.warning, "partials/intro.mjml.j2:3"),
        ("image-without-alt", "alt", Level.error, "banner.png"),
        ("image-without-alt", "width", Level.error, "banner.png"),
        ("filename-alt", "alt", Level.error, "IMG_2041.jpg"),
        ("mj-image-without-alt", "alt", Level.error, "partials/intro.mjml.j2:4"),
        ("linked-image-empty-alt", "alt", Level.error, "photo.jpg"),
        ("bad-links", "link", Level.error, "javascript:alert(1)"),
        ("bad-links", "link", Level.error, "/about/"),
        ("http-link", "link", Level.warning, "http://news.example.org/calendar"),
        ("placeholders", "placeholder", Level.error, "email.html"),
        ("leftover-jinja", "placeholder", Level.error, "email.html"),
        ("skipped-heading", "headings", Level.error, "Welcome"),
        ("two-h1", "headings", Level.error, ""),
        ("layout-table", "table-role", Level.warning, "Left"),
        ("small-tap-target", "tap-target", Level.warning, "Go"),
        ("big-style", "style-size", Level.error, ""),
        ("nested-at-rule", "style-nesting", Level.error, ""),
        ("no-unsubscribe", "unsubscribe", Level.error, ""),
        ("utm-on-web-link", "utm", Level.error, "utm_source=newsletter"),
        ("visible-preheader", "preheader", Level.warning, ""),
        ("syntax-error", "render", Level.error, ""),
        ("mjml-error", "render", Level.error, ""),
        ("mjml-error", "mjml-structure", Level.error, "partials/intro.mjml.j2:3"),
        ("undefined-variable", "render", Level.error, ""),
        ("filter-error", "render", Level.error, ""),
    ],
)
def test_broken_template_is_reported(
    sample_project: Path, case: str, rule: str, level: Level, where: str
) -> None:
    report = check_issue(with_templates(sample_project, case), "2020-10")
    matching = [f for f in report.findings if f.rule == rule and f.level is level]
    assert matching, f"no {level} {rule} in {[str(f) for f in report.findings]}"
    assert any(where in f.where for f in matching), [f.where for f in matching]


def test_messages_name_what_is_wrong(sample_project: Path) -> None:
    report = check_issue(with_templates(sample_project, "placeholders"), "2020-10")
    messages = " ".join(f.message for f in report.errors)
    assert "*|FNAME|*" in messages and "%%first_nam%%" in messages

    report = check_issue(with_templates(sample_project, "syntax-error"), "2020-10")
    (render,) = [f for f in report.findings if f.rule == "render"]
    assert "partials/intro.mjml.j2:5" in render.message and "syntax" in render.message

    report = check_issue(with_templates(sample_project, "undefined-variable"), "2020-10")
    (render,) = [f for f in report.findings if f.rule == "render"]
    assert "introduction" in render.message and "intro.mjml.j2" in render.message

    report = check_issue(with_templates(sample_project, "filter-error"), "2020-10")
    (render,) = [f for f in report.findings if f.rule == "render"]
    assert "partials/intro.mjml.j2:5: TypeError" in render.message


def test_known_merge_tokens_are_not_placeholders() -> None:
    from newsletter.deliver import merge

    report = CheckReport("2020-10")
    tokens = "".join(merge.token(name) for name in merge.FIELDS)
    check_html(report, _minimal_html(f"<p>{tokens}</p>"), Expectations())
    assert "placeholder" not in rules(report)


def test_issue_file_rules(sample_project: Path) -> None:
    path = sample_project / "issues/2020-10.yaml"
    text = path.read_text()
    long_subject = (
        "A subject line that goes on and on, well past what any inbox shows in its list of mail"
    )
    assert len(long_subject) > 78
    text = text.replace(
        "subject: Students meet their mentors, and NOK 61 million for precision medicine",
        f"subject: {long_subject}",
    )
    text = text.replace("preheader: 'October", "preheader: '" + "Very long preheader. " * 6)
    path.write_text(text)
    report = check_issue(Project.at(sample_project), "2020-10")
    assert {"subject", "preheader"} <= rules(report, Level.warning)
    assert not report.errors


def test_low_contrast_theme_is_an_error(sample_project: Path) -> None:
    config = sample_project / "newsletter.toml"
    config.write_text(
        config.read_text().replace('muted_color = "#545e69"', 'muted_color = "#a0a8b0"')
    )
    report = check_issue(Project.at(sample_project), "2020-10")
    contrast = [f for f in report.errors if f.rule == "contrast"]
    assert contrast, [str(f) for f in report.findings]
    assert "#a0a8b0 on #ffffff" in contrast[0].message and "below 4.5:1" in contrast[0].message


def test_nested_at_rule_detection() -> None:
    assert nested_at_rule("@media screen { .a { color: red } } .b { color: blue }") is None
    assert nested_at_rule("@supports (x: y) { @media screen { .a { b: c } } }") == "@media"
    assert nested_at_rule('.a { content: "@media" } /* @media */') is None


@pytest.mark.parametrize(
    ("href", "level"),
    [
        ("https://example.org/a?b=c", None),
        ("mailto:news@example.org", None),
        ("http://example.org/", Level.warning),
        ("javascript:alert(1)", Level.error),
        ("data:text/html,hi", Level.error),
        ("/relative", Level.error),
        ("", Level.error),
        ("https:///nohost", Level.error),
        ("https://exa mple.org/", Level.error),
    ],
)
def test_check_url(href: str, level: Level | None) -> None:
    result = check_url(href)
    assert (result[0] if result else None) is level


def _minimal_html(body: str) -> str:
    return (
        '<!doctype html><html lang="en" dir="ltr"><head>'
        '<meta name="color-scheme" content="light dark">'
        "<style>@media (prefers-color-scheme: dark) { body { color: #fff } }</style></head>"
        f'<body><h1>News</h1>{body}<a href="https://example.org/u">Unsubscribe</a></body></html>'
    )


def test_cli_check_text_json_and_exit_codes(sample_project: Path) -> None:
    def cli(*args: str) -> CliResult:
        return run_cli(*args, cwd=sample_project)

    result = cli("check", "2020-10")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 error(s), 0 warning(s)" in result.stdout

    result = cli("check", "2020-10", "--format", "json")
    assert result.returncode == 0
    data = json.loads(result.stdout)
    assert data["month"] == "2020-10" and data["errors"] == 0 and data["warnings"] == 0
    assert {f["level"] for f in data["findings"]} == {"info"}

    with_templates(sample_project, "no-unsubscribe")
    result = cli("check", "2020-10", "--format", "json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert {"level": "error", "rule": "unsubscribe"}.items() <= data["findings"][0].items()
    result = cli("check", "2020-10")
    assert result.returncode == 1 and "no visible unsubscribe link" in result.stdout
    assert "Traceback" not in result.stderr
