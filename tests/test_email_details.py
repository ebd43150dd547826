"""The details readers notice in the email and the web page: links screen readers announce
well, a call to action under every call, a date badge Outlook can draw, buttons that show in
dark mode, valid markup, a <main> on the web page, and an archive that counts in English."""

import re
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser, LexborNode

from newsletter.archive import build_archive
from newsletter.build import build_month, render_month
from newsletter.checks import CheckReport, check_theme
from newsletter.checks.linkpurpose import link_name
from newsletter.config import Brand
from newsletter.issuefile import load_issue
from newsletter.models import Issue
from newsletter.project import Project
from newsletter.render.textfmt import labels_for
from newsletter.render.theme import NON_TEXT, build_theme, contrast_ratio
from newsletter.render.transforms import apply_transforms
from tests.conftest import GOLDEN, REPO

FULL_ISSUE = GOLDEN / "issues" / "2024-03.yaml"


@pytest.fixture(scope="module")
def full() -> tuple[Issue, str, str]:
    """The 12-story issue (lead, cards, calls, events): its email and its web page."""
    issue = load_issue(FULL_ISSUE)
    done = render_month(Project.at(REPO), issue.month, issue=issue, web=True)
    return issue, done.preview_html, done.web or ""


def style(node: LexborNode) -> str:
    return (node.attributes.get("style") or "").replace(" ", "").lower()


def visible_text(node: LexborNode) -> str:
    """The link's text without what is there for screen readers only (font-size 0)."""
    markup = re.sub(r"<span[^>]*font-size:0;[^>]*>.*?</span>", "", node.html or "")
    return " ".join((LexborHTMLParser(markup).text() or "").split())


def test_every_call_and_event_ends_with_a_visible_link(full: tuple[Issue, str, str]) -> None:
    issue, html, _ = full
    tree = LexborHTMLParser(html)
    items = tree.css("td.nl-item")
    dated = [s for s in issue.stories() if s.kind.value in ("call", "event", "award")]
    assert len(items) == len(dated) > 0
    theme = build_theme(Project.at(REPO).config.brand)
    for item in items:
        title = item.css_first("h3 a")
        cta = item.css_first("p.nl-cta a")
        assert title is not None and cta is not None, item.html
        assert cta.attributes["href"] == title.attributes["href"]
        assert visible_text(cta)  # readers see words, not only screen readers
        css = style(cta)
        assert "text-decoration:underline" in css and "font-weight:bold" in css
        colour = re.search(r"(?<![-\w])color:(#[0-9a-f]{6})", css)
        assert colour and contrast_ratio(colour.group(1), theme.light.surface) >= 4.5
        assert "display:inline-block" in css and "padding:12px0" in css  # 44 px tall


def test_read_more_names_its_story_in_text_not_aria_label(full: tuple[Issue, str, str]) -> None:
    issue, html, _ = full
    tree = LexborHTMLParser(html)
    buttons = tree.css("td.nl-btn a")
    assert buttons
    titles = {s.title for s in issue.stories()}
    names = [link_name(a) for a in buttons]
    for a, name in zip(buttons, names, strict=True):
        assert "aria-label" not in a.attributes  # Yahoo drops it
        assert visible_text(a) == "Read more", name
        assert name.startswith("Read more: ") and name.removeprefix("Read more: ") in titles
        hidden = a.css_first("span.nl-sr")
        assert hidden is not None
        assert {"font-size:0", "mso-hide:all", "max-height:0"} <= set(style(hidden).split(";"))
        assert "display:none" not in style(hidden)  # that would hide it from screen readers
        assert "position" not in style(hidden)  # Gmail drops it and the text would show
    assert len(set(names)) == len(names)


def test_a_linked_image_is_hidden_from_screen_readers(full: tuple[Issue, str, str]) -> None:
    _, html, web = full
    for page in (html, web):
        tree = LexborHTMLParser(page)
        image_links = [a for a in tree.css("a") if a.css_first("img") and not link_text(a)]
        assert image_links
        text_targets = {a.attributes.get("href") for a in tree.css("a") if link_text(a)}
        for a in image_links:
            assert a.attributes.get("aria-hidden") == "true"
            assert a.attributes.get("tabindex") == "-1"
            assert a.attributes.get("href") in text_targets  # still reachable by its title


def link_text(a: LexborNode) -> str:
    return " ".join((a.text(deep=True) or "").split())


def test_an_image_link_with_no_text_twin_is_left_alone() -> None:
    html = '<a href="https://x.example/a"><img src="p.jpg" alt="A"></a>'
    assert apply_transforms(html) == html


def test_the_date_badge_is_two_table_rows(full: tuple[Issue, str, str]) -> None:
    _, html, _ = full
    tree = LexborHTMLParser(html)
    badges = tree.css('table[aria-hidden="true"]')
    assert badges
    for badge in badges:
        for span in badge.css("span"):
            assert "display:block" not in style(span)  # Outlook for Windows: "4APR"
        day = badge.css_first("td.nl-date-day")
        if day is None:  # an open call: one cell
            assert badge.css_first("td.nl-date-open") is not None
            continue
        rows = [tr for tr in badge.css("tr") if tr.css_first("td")]
        assert len(rows) == 2
        assert rows[0].css_first("td.nl-date-day") is not None
        assert rows[1].css_first("td.nl-date-month") is not None


def test_no_invalid_attributes_from_mjml(full: tuple[Issue, str, str]) -> None:
    _, html, web = full
    for page in (html, web):
        assert not re.search(r'<img\b[^>]*\sheight="auto"', page)
        assert not re.search(r"<td\b[^>]*\svertical-align=", page)
        assert '<td align="left" class="nl-btn"' in page or 'class="nl-btn"' in page


def test_the_web_version_is_a_page_with_main(full: tuple[Issue, str, str]) -> None:
    _, html, web = full
    tree = LexborHTMLParser(web)
    mains = tree.css("main")
    assert len(mains) == 1 and mains[0].parent is not None and mains[0].parent.tag == "body"
    assert mains[0].css_first("h1") is not None
    assert 'aria-roledescription="email"' not in web
    assert "<main" not in html and 'aria-roledescription="email"' in html  # the email as before


def test_dark_mode_buttons_keep_their_shape() -> None:
    brand = Project.at(REPO).config.brand
    theme = build_theme(brand)
    for palette in (theme.light, theme.dark):
        assert contrast_ratio(palette.button_background, palette.surface) >= NON_TEXT
        assert contrast_ratio(palette.button_text, palette.button_background) >= 4.5
    for primary in ("#6b1f57", "#005f73", "#000000", "#1d2024", "#0b3d91"):
        dark = build_theme(Brand(primary_color=primary)).dark
        assert contrast_ratio(dark.button_background, dark.surface) >= NON_TEXT, primary
        assert contrast_ratio(dark.button_text, dark.button_background) >= 4.5, primary


def test_check_reports_a_button_that_vanishes_on_the_card() -> None:
    from dataclasses import replace

    theme = build_theme(Brand(primary_color="#6b1f57"))
    vanishing = replace(theme, dark=replace(theme.dark, button_background="#6b1f57"))
    report = CheckReport("2020-10")
    check_theme(report, vanishing)
    (finding,) = [f for f in report.errors if "button shape" in f.message]
    assert "dark" in finding.message and "1.53:1" in finding.message


def test_dark_styles_recolour_the_buttons(full: tuple[Issue, str, str]) -> None:
    _, html, _ = full
    dark = build_theme(Project.at(REPO).config.brand).dark
    block = html[html.index("prefers-color-scheme: dark") :]
    rule = ".nl-surface .nl-btn td, .nl-surface .nl-btn a { background: "
    assert rule + dark.button_background in block


def test_the_archive_counts_stories_in_words(sample_project: Path) -> None:
    project = Project.at(sample_project)
    issue = (sample_project / "issues" / "2020-10.yaml").read_text(encoding="utf-8")
    one = sample_project / "issues" / "2020-09.yaml"
    start = issue.index("      - id: ca6b012e8ca49e61")
    end = issue.index("intro:")
    one.write_text(
        issue[:start].replace("month: 2020-10", "month: 2020-09") + issue[end:], encoding="utf-8"
    )
    assert len(load_issue(one).stories()) == 1
    build_month(project, "2020-09")
    build_month(project, "2020-10")
    build_archive(project)
    archive = LexborHTMLParser((sample_project / "build" / "index.html").read_text())
    counts = [p.text().strip() for p in archive.css("p.meta")]
    assert counts == ["4 stories", "1 story"]


@pytest.mark.parametrize(
    ("lang", "one", "many"), [("en", "1 story", "3 stories"), ("nb", "1 sak", "3 saker")]
)
def test_labels_count_with_the_right_form(lang: str, one: str, many: str) -> None:
    labels = labels_for(lang)
    assert labels.count(1, "story") == one and labels.count(3, "story") == many
    assert labels.count(0, "story").startswith("0 ")
