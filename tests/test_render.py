import re
from pathlib import Path

import pytest

from newsletter.config import Config, load_config
from newsletter.errors import RenderError
from newsletter.models import Image, Issue, IssueStatus, Section
from newsletter.render import make_environment, package_templates, render_issue
from tests.conftest import write_project
from tests.factories import issue_of, story


@pytest.fixture
def config(tmp_path: Path) -> Config:
    root = write_project(tmp_path, [])
    return load_config(root / "newsletter.toml")


def test_story_text_stays_literal(config: Config) -> None:
    hostile = story(
        title="<script>alert(1)</script> {{ 7*7 }}",
        summary='<img src=x onerror="alert(1)"> {% if true %}x{% endif %}',
    )
    env = make_environment([package_templates()])
    rendered = render_issue(env, config, issue_of(hostile))
    assert "<script>alert" not in rendered.html
    assert "&lt;script&gt;" in rendered.html
    assert "{{ 7*7 }}" in rendered.html and "49" not in rendered.html
    assert "<img src=x" not in rendered.html
    assert "{% if true %}" in rendered.text


def test_story_without_image_has_no_img(config: Config) -> None:
    env = make_environment([package_templates()])
    html = render_issue(env, config, issue_of(story())).html
    assert "<img" not in html
    with_image = story(image=Image(url="https://example.org/i.jpg", alt="A photo"))
    html = render_issue(env, config, issue_of(with_image)).html
    assert 'alt="A photo"' in html


def test_template_syntax_error_names_template_and_line(config: Config, tmp_path: Path) -> None:
    custom = tmp_path / "templates"
    custom.mkdir()
    (custom / "email.mjml.j2").write_text("<mjml>\n<mj-body>\n{% if %}\n</mj-body></mjml>")
    env = make_environment([custom, package_templates()])
    with pytest.raises(RenderError, match=r"email.mjml.j2:3: template syntax error"):
        render_issue(env, config, issue_of(story()))


def test_unclosed_tag_is_reported_before_mjml_sees_it(config: Config, tmp_path: Path) -> None:
    custom = tmp_path / "templates"
    custom.mkdir()
    (custom / "email.mjml.j2").write_text("<mjml><mj-body><mj-section></mj-body></mjml>")
    env = make_environment([custom, package_templates()])
    with pytest.raises(RenderError, match=r"<mj-section> is not closed before </mj-body>"):
        render_issue(env, config, issue_of(story()))


def test_mjml_error_names_the_template_line(config: Config, tmp_path: Path) -> None:
    custom = tmp_path / "templates"
    custom.mkdir()
    # mjml-python rejects markup inside mj-preview with a ValueError.
    (custom / "email.mjml.j2").write_text(
        "<mjml>\n  <mj-head>\n    <mj-preview><b>Hi</b></mj-preview>\n  </mj-head>\n"
        "  <mj-body></mj-body>\n</mjml>\n"
    )
    env = make_environment([custom, package_templates()])
    with pytest.raises(RenderError, match="MJML error") as caught:
        render_issue(env, config, issue_of(story()))
    assert "email.mjml.j2:3" in caught.value.message


HOSTILE_TITLE = "<script>alert(1)</script> {{ 7*7 }}"
HOSTILE_SUMMARY = '<img src=x onerror="alert(1)"> javascript:alert(2) {% if true %}x{% endif %}'


def hostile_issue() -> Issue:
    return Issue(
        month="2020-10",
        subject="<b>Subject</b> {{ 7*7 }}",
        preheader="<script>x</script>",
        intro="Hello <script>alert(3)</script> [click](javascript:alert(4))",
        sections=[
            Section(
                title="<i>News</i>",
                stories=[
                    story(title=HOSTILE_TITLE, summary=HOSTILE_SUMMARY, kicker="<u>k</u>"),
                    story(id="2", title=HOSTILE_TITLE, summary=HOSTILE_SUMMARY,
                          image=Image(url="https://example.org/i.jpg", alt='"><script>')),
                ],
            )
        ],
    )  # fmt: skip


def assert_harmless(markup: str) -> None:
    lowered = markup.lower()
    assert "<script" not in lowered
    assert not re.search(r"<[^>]*\sonerror\s*=", lowered)  # as text it is harmless
    assert not re.search(r"(href|src)\s*=\s*[\"']?\s*javascript:", lowered)
    assert "49" not in markup
    assert "<b>subject" not in lowered and "<i>news" not in lowered and "<u>k" not in lowered


def test_hostile_text_is_literal_everywhere(tmp_path: Path) -> None:
    import feedparser
    from selectolax.lexbor import LexborHTMLParser

    from newsletter.archive import build_archive
    from newsletter.build import build_month
    from newsletter.issuefile import dump_yaml, issue_to_yaml, write_text
    from newsletter.project import Project
    from newsletter.render import project_environment, render_web

    root = write_project(tmp_path / "p", [])
    project = Project.at(root)
    issue = hostile_issue()
    env = project_environment(project)
    rendered = render_issue(env, project.config, issue)
    web = render_web(env, project.config, issue)
    for markup in (rendered.html, web):
        assert_harmless(markup)
        assert "{{ 7*7 }}" in markup and "{% if true %}" in markup
        tree = LexborHTMLParser(markup)
        assert not tree.css("script") and not [
            n for n in tree.css("img") if "onerror" in n.attributes
        ]
        assert any((h.text() or "").strip() == HOSTILE_TITLE for h in tree.css("h2, h3"))
    assert HOSTILE_TITLE in rendered.text and "{% if true %}" in rendered.text

    (root / "issues").mkdir()
    sent = issue.model_copy(update={"status": IssueStatus.sent})  # the feed lists sent issues
    write_text(project.issue_path("2020-10"), dump_yaml(issue_to_yaml(sent)))
    build_month(project, "2020-10")
    index, feed_path = build_archive(project)
    assert_harmless(index.read_text())
    feed = feedparser.parse(feed_path.read_bytes())
    assert not feed.bozo
    assert feed.entries[0].title == "<b>Subject</b> {{ 7*7 }}"
    assert "&lt;script&gt;" in feed_path.read_text() and "<script" not in feed_path.read_text()


def test_javascript_story_links_are_rejected_by_the_model() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        story(url="javascript:alert(1)")
