"""`check` rules on client support (caniemail data), link purpose and http:// images."""

import json
from importlib import resources

import pytest
from selectolax.lexbor import LexborHTMLParser

from newsletter.checks import CheckReport, Level, check_html, check_issue
from newsletter.checks.clients import check_client_support, find_features, support_data
from newsletter.checks.images import check_image_sources
from newsletter.checks.linkpurpose import check_link_purpose
from newsletter.project import Project
from tests.conftest import REPO

PAGE = """<!doctype html><html lang="en" dir="ltr"><head>
<meta name="color-scheme" content="light dark">
<style>@media (prefers-color-scheme: dark) {{}}</style></head><body>{body}<a href="https://x.example/unsubscribe">Unsubscribe</a></body></html>"""


def findings(body: str, rule: str) -> list[tuple[Level, str, str]]:
    report = CheckReport("2020-10")
    check_html(report, PAGE.format(body=body))
    return [(f.level, f.message, f.where) for f in report.findings if f.rule == rule]


# --- client support ---------------------------------------------------------------------------


def test_the_vendored_data_says_where_and_when_it_is_from() -> None:
    raw = json.loads(
        resources.files("newsletter.checks").joinpath("data/caniemail.json").read_text("utf-8")
    )
    assert raw["source"].startswith("npm package caniemail ")
    data = support_data()
    assert len(data.date) == 10 and data.date[4] == "-"
    assert set(data.families) == {"gmail", "outlook", "apple-mail", "yahoo"}
    assert data.families["outlook"] == ["windows"]


def test_flexbox_is_a_warning_for_outlook() -> None:
    found = findings('<div style="display:flex"><p>Hi</p></div>', "client-support")
    (flex,) = [f for f in found if f[1].startswith("display:flex")]
    assert flex[0] is Level.warning
    assert "Outlook for Windows" in flex[1]
    assert flex[2] == '<div style="display: flex">'


def test_rounded_corners_are_a_note_about_outlook() -> None:
    cell = '<table><tr><td style="border-radius:4px">x</td></tr></table>'
    found = findings(cell, "client-support")
    (radius,) = [f for f in found if f[1].startswith("border-radius:")]
    assert radius[0] is Level.info
    assert "not supported in Outlook for Windows;" in radius[1]
    assert "caniemail.com/features/css-border-radius" in radius[1]


@pytest.mark.parametrize(
    ("markup", "slug"),
    [
        ("<style>@media (prefers-color-scheme: dark) { a { color: red } }</style>",
         "css-at-media-prefers-color-scheme"),
        ("<style>.a:hover { color: red }</style>", "css-pseudo-class-hover"),
        ('<p style="margin-inline-start: 4px">x</p>', "css-margin-inline-start-end"),
        ('<p style="width: calc(100% - 4px)">x</p>', "css-unit-calc"),
        ('<p style="font-size: 1rem">x</p>', "css-unit-rem"),
        ('<p style="--gap: 4px">x</p>', "css-variables"),
        ('<img src="https://x.example/a.webp" alt="a" width="10">', "image-webp"),
        ('<a href="#top">top</a>', "html-anchor-links"),
        ('<button type="submit">Go</button>', "html-button-submit"),
        ("<main><p>x</p></main>", "html-semantics"),
        ("<svg></svg>", "html-svg"),
    ],
)  # fmt: skip
def test_features_are_found_as_caniemail_names_them(markup: str, slug: str) -> None:
    assert slug in find_features(LexborHTMLParser(f"<html><body>{markup}</body></html>"))


def test_the_sample_issue_lists_what_its_fallbacks_cover() -> None:
    report = check_issue(Project.at(REPO), "2020-10")
    notes = {f.message.split(":")[0] for f in report.notes if f.rule == "client-support"}
    assert {"border-radius", "@media (prefers-color-scheme)", "aria-label attribute"} <= notes
    assert not [f for f in report.warnings if f.rule == "client-support"]


def test_a_feature_every_client_supports_is_not_listed() -> None:
    report = CheckReport("x")
    check_client_support(report, LexborHTMLParser('<html><body><p style="color:#111">x</p>'))
    assert [f.where for f in report.findings] == ["<body>"]  # Yahoo's apps replace <body>


# --- link purpose -----------------------------------------------------------------------------


def test_identical_read_more_links_are_reported() -> None:
    body = (
        '<a href="https://x.example/a?utm_source=n">Read more</a>'
        '<a href="https://x.example/b">Read more</a>'
    )
    (finding,) = findings(body, "link-purpose")
    assert finding[0] is Level.warning
    assert "2 links read only “Read more”" in finding[1]


def test_one_text_for_two_pages_is_ambiguous() -> None:
    body = (
        '<a href="https://x.example/a">The programme</a>'
        '<a href="https://x.example/b">The programme</a>'
        '<a href="https://x.example/a?utm_source=n">The programme</a>'
    )
    (finding,) = findings(body, "link-purpose")
    assert "3 links read “The programme” but go to 2 different pages" in finding[1]


def test_the_same_text_for_the_same_page_is_fine() -> None:
    body = (
        '<a href="https://x.example/a?utm_source=n">View in your browser</a>'
        '<a href="https://x.example/a">View in your browser</a>'
    )
    assert findings(body, "link-purpose") == []


def test_aria_label_is_not_enough_because_yahoo_drops_it() -> None:
    body = (
        '<a href="https://x.example/a" aria-label="Read more: A">Read more</a>'
        '<a href="https://x.example/b" aria-label="Read more: B">Read more</a>'
    )
    (finding,) = findings(body, "link-purpose")
    assert "Yahoo removes it" in finding[1]


def test_hidden_text_gives_read_more_its_context() -> None:
    body = (
        '<a href="https://x.example/a">Read more<span style="font-size:0">: A</span></a>'
        '<a href="https://x.example/b">Read more<span style="font-size:0">: B</span></a>'
        '<a href="https://x.example/a" aria-hidden="true" tabindex="-1"><img alt="A photo" '
        'src="https://x.example/a.jpg" width="10"></a>'
    )
    assert findings(body, "link-purpose") == []


def test_a_link_with_no_name_is_an_error() -> None:
    report = CheckReport("x")
    check_link_purpose(report, LexborHTMLParser('<a href="https://x.example/a"> </a>'))
    assert [(f.level, f.rule) for f in report.findings] == [(Level.error, "link-purpose")]


def test_the_sample_issues_have_no_ambiguous_links() -> None:
    project = Project.at(REPO)
    for month in project.months():
        report = check_issue(project, month)
        assert not [f for f in report.findings if f.rule == "link-purpose"], month


# --- http:// images ---------------------------------------------------------------------------


def test_an_http_image_is_reported_once() -> None:
    report = CheckReport("x")
    img = '<img src="http://x.example/a.jpg" alt="A" width="10">'
    check_image_sources(report, LexborHTMLParser(img * 2 + img.replace("http:", "https:")))
    assert [(f.level, f.rule, f.where) for f in report.findings] == [
        (Level.warning, "image-http", "http://x.example/a.jpg")
    ]


def test_check_html_reports_http_images() -> None:
    found = findings('<img src="http://x.example/a.jpg" alt="A" width="10">', "image-http")
    assert found and "https://" in found[0][1]


def test_notes_are_folded_away_in_the_pull_request_summary() -> None:
    from datetime import datetime

    from newsletter.preview.snapshot import Snapshot
    from newsletter.preview.summary import summary_markdown

    report = CheckReport("2020-10")
    report.add(Level.warning, "link-purpose", "two links read “More”")
    report.add(Level.info, "client-support", "border-radius: not supported in Outlook")
    snapshot = Snapshot(
        month="2020-10", sender="Test", subject="S", preheader="", html="<p>x</p>", text="",
        report=report, taken_at=datetime.now(),
    )  # fmt: skip
    summary = summary_markdown(snapshot, [])
    folded = summary[summary.index("<details>") :]
    assert "<summary>1 note(s)</summary>" in folded and "border-radius" in folded
    assert "two links read" in summary[: summary.index("<details>")]
