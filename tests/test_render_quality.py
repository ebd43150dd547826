"""What every rendered email guarantees: accessibility, dark mode, size, links, plain text."""

import itertools
import re
from datetime import date
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

from newsletter.checks import nested_at_rule
from newsletter.config import load_config
from newsletter.deliver import merge
from newsletter.errors import ConfigError, RenderError
from newsletter.issuefile import load_issue
from newsletter.models import Image, Issue, Kind, Section, Story
from newsletter.project import Project
from newsletter.render import (
    Rendered,
    make_environment,
    package_templates,
    plan_layout,
    project_environment,
    render_issue,
)
from newsletter.render.textfmt import add_utm, markdown_text
from newsletter.render.theme import build_theme, contrast_ratio, relative_luminance
from tests.conftest import GOLDEN, REPO, write_project

FULL_ISSUE = GOLDEN / "issues" / "2024-03.yaml"
# The full issue: the model, its render, the HTML as a preview fills it, and that HTML parsed.
Full = tuple[Issue, Rendered, str, LexborHTMLParser]


@pytest.fixture(scope="module")
def project() -> Project:
    return Project.at(REPO)


@pytest.fixture(scope="module")
def full(project: Project) -> Full:
    """The 12-story issue, rendered once for the module."""
    issue = load_issue(FULL_ISSUE)
    rendered = render_issue(project_environment(project), project.config, issue)
    html = merge.fill(rendered.html, merge.preview_values(project.config))
    return issue, rendered, html, LexborHTMLParser(html)


def test_full_issue_is_under_the_gmail_budget(full: Full) -> None:
    issue, _, html, _ = full
    assert len(issue.stories()) == 12
    assert len(html.encode()) < 90 * 1024


def test_html_lang_dir_and_layout_tables(full: Full) -> None:
    *_, tree = full
    html_tag = tree.css_first("html")
    assert html_tag is not None
    assert html_tag.attributes["lang"] == "en" and html_tag.attributes["dir"] == "ltr"
    tables = tree.css("table")
    assert tables and all(t.attributes.get("role") == "presentation" for t in tables)


def test_headings_one_h1_no_skipped_levels(full: Full) -> None:
    *_, tree = full
    levels = [int(tag[1]) for node in tree.css("h1, h2, h3, h4, h5, h6") if (tag := node.tag)]
    assert levels.count(1) == 1 and levels[0] == 1
    assert all(b <= a + 1 for a, b in itertools.pairwise(levels))
    assert 3 in levels  # cards sit under their section headings


def test_every_image_has_alt_and_width(full: Full) -> None:
    issue, _, _, tree = full
    images = tree.css("img")
    with_image = [s for s in issue.stories() if s.image]
    assert len(images) == len(with_image)
    for img in images:
        assert img.attributes.get("alt"), img.attributes
        assert (img.attributes.get("width") or "").isdigit()
        assert "background-color" not in (img.attributes.get("style") or "")  # kept in <style>


def test_hidden_preheader(full: Full) -> None:
    issue, _, _, tree = full
    div = tree.css_first("div.nl-preheader")
    assert div is not None
    style = div.attributes["style"] or ""
    for part in ("display:none", "max-height:0", "overflow:hidden", "mso-hide:all"):
        assert part in style
    assert (div.text() or "").startswith(issue.preheader)


def test_no_preheader_no_hidden_div(project: Project) -> None:
    issue = load_issue(FULL_ISSUE).model_copy(update={"preheader": ""})
    html = render_issue(project_environment(project), project.config, issue).html
    assert "nl-preheader" not in html


def test_dark_mode_and_style_blocks(full: Full, project: Project) -> None:
    *_, tree = full
    metas = {m.attributes.get("name"): m.attributes.get("content") for m in tree.css("meta")}
    assert (
        metas["color-scheme"] == "light dark" and metas["supported-color-schemes"] == "light dark"
    )
    styles = [s.text() or "" for s in tree.css("style")]
    dark = [s for s in styles if "prefers-color-scheme: dark" in s]
    assert len(dark) == 1
    theme = build_theme(project.config.brand)
    assert theme.dark.surface in dark[0] and theme.dark.text in dark[0]
    for css in styles:
        assert len(css.encode()) < 16 * 1024
        assert nested_at_rule(css) is None
    # The mobile rules live in another block, so a client rejecting dark CSS keeps them.
    assert not any("max-width: 479px" in s for s in dark)


def test_mj_style_inline_is_inlined_not_left_in_a_style_block(full: Full) -> None:
    _, rendered, html, tree = full
    assert 'mj-style inline="inline"' in rendered.mjml
    assert ".nl-kicker {" not in html
    kicker = tree.css_first("p.nl-kicker")
    assert kicker is not None and "text-transform: uppercase" in (kicker.attributes["style"] or "")


def test_buttons_and_footer_links_are_tap_targets(full: Full) -> None:
    *_, tree = full
    buttons = [a for a in tree.css("a") if "inline-block" in (a.attributes.get("style") or "")]
    # Read more on each news story, the link under each call and event, the footer links and
    # view in browser
    assert len(buttons) == len(full[0].stories()) + 3 + 1
    for a in buttons:
        style = a.attributes["style"] or ""
        height = re.search(r"line-height:\s*(\d+)px", style)
        assert height is not None, style
        line = int(height.group(1))
        pad = re.search(r"padding:\s*(\d+)px", style)
        assert pad and line + 2 * int(pad.group(1)) >= 44, style


def test_utm_only_on_story_links(full: Full, project: Project) -> None:
    issue, rendered, _, tree = full
    hrefs = [a.attributes.get("href") or "" for a in tree.css("a")]
    story_urls = {s.url for s in issue.stories()}
    for href in hrefs:
        base = href.split("?")[0]
        if base in story_urls:
            assert "utm_source=newsletter&utm_medium=email&utm_campaign=2024-03" in href
    settings = project.config.newsletter
    for untracked in (settings.unsubscribe_url, settings.preferences_url, settings.web_url):
        assert untracked
        for href in hrefs:
            if href.startswith(untracked):
                assert "utm_" not in href, href
    assert "utm_" not in rendered.text.split("-" * 78)[-1]  # the text footer


def test_utm_is_configurable(tmp_path: Path) -> None:
    root = write_project(tmp_path, [])
    config_path = root / "newsletter.toml"
    config_path.write_text(
        config_path.read_text() + '\n[utm]\nsource = "occ"\ncampaign = "monthly-{month}"\n'
    )
    config = load_config(config_path)
    story = Story(id="1", title="T", url="https://example.org/a?utm_source=keep&x=1")
    issue = Issue(month="2020-10", subject="S", sections=[Section(title="N", stories=[story])])
    rendered = render_issue(make_environment([package_templates()]), config, issue)
    assert "https://example.org/a?utm_source=keep&amp;x=1&amp;utm_medium=email" in rendered.html
    assert "utm_campaign=monthly-2020-10" in rendered.text
    config_path.write_text(config_path.read_text() + "enabled = false\n")
    config = load_config(config_path)
    rendered = render_issue(make_environment([package_templates()]), config, issue)
    assert "utm_medium" not in rendered.html and "utm_medium" not in rendered.text

    config_path.write_text(config_path.read_text().replace("{month}", "{year}"))
    with pytest.raises(ConfigError, match=r"utm.campaign"):
        load_config(config_path)


def test_add_utm_keeps_fragments_and_other_schemes() -> None:
    params = {"utm_source": "n"}
    assert add_utm("https://e.org/p#top", params) == "https://e.org/p?utm_source=n#top"
    assert add_utm("mailto:a@e.org", params) == "mailto:a@e.org"
    assert add_utm("https://e.org/p", {}) == "https://e.org/p"


def test_plain_text_part(full: Full) -> None:
    issue, rendered, *_ = full
    text = rendered.text
    for line in text.splitlines():
        assert len(line) <= 78 or "://" in line, line
    for story in issue.stories():
        assert re.search(
            rf"^(Read more|{re.escape(story.cta or 'x')}): {re.escape(story.url)}", text, re.M
        )
    assert "**" not in text  # Markdown emphasis is gone
    assert "full calendar (https://oslocancercluster.no/events/)" in text.replace("\n", " ")
    assert "Deadline: 4 April 2024" in text and "When: 21 March 2024" in text
    assert "%%unsubscribe_url%%" in text and not re.search(r"<[a-z/]", text)


def test_markdown_text() -> None:
    out = markdown_text(
        "Hello **world**, see [our site](https://e.org).\n\n- one\n- two\n\n1. a\n2. b"
    )
    assert out == ("Hello world, see our site (https://e.org).\n\n- one\n\n- two\n\n1. a\n\n2. b")


def test_layout_sorts_stories_into_places() -> None:
    issue = load_issue(FULL_ISSUE)
    layout = plan_layout(issue)
    assert layout.lead is not None and layout.lead.id == "r1"
    assert [s.title for s in layout.sections] == ["Research", "From the cluster"]
    assert [s.id for s in layout.calls] == ["k2", "k1", "k3"]  # soonest deadline, then open
    assert [s.id for s in layout.events] == ["e1", "e2"]
    assert layout.calls_title is None  # calls and events share one section in the file

    only_calls = Issue(
        month="2024-03",
        subject="S",
        sections=[
            Section(title="Calls & deadlines", stories=[
                Story(id="c", title="C", url="https://e.org/c", kind=Kind.call,
                      deadline=date(2024, 4, 1))]),
        ],
    )  # fmt: skip
    layout = plan_layout(only_calls)
    assert layout.calls_title == "Calls & deadlines" and layout.lead is None


def test_card_without_image_has_single_column(full: Full) -> None:
    _, rendered, *_ = full
    card = rendered.mjml.split("New group leader in tumour biology")[0].rsplit("<mj-section", 1)[1]
    assert "<mj-image" not in card and 'width="36%"' not in card


def test_norwegian_issue_uses_norwegian_labels(project: Project) -> None:
    issue = load_issue(FULL_ISSUE).model_copy(update={"language": "nb"})
    rendered = render_issue(project_environment(project), project.config, issue)
    assert 'lang="nb"' in rendered.html
    assert "Les mer" in rendered.html and "Mars 2024" in rendered.html
    assert "Frist: 4. april 2024" in rendered.text and "Meld deg av" in rendered.text


def test_right_to_left_language(project: Project) -> None:
    issue = load_issue(FULL_ISSUE).model_copy(update={"language": "ar"})
    html = render_issue(project_environment(project), project.config, issue).html
    assert re.search(r'<html[^>]* lang="ar"[^>]* dir="rtl"', html)


def test_unknown_mjml_tag_fails_the_build_with_template_and_line(
    sample_project: Path,
) -> None:
    templates = sample_project / "templates" / "partials"
    templates.mkdir(parents=True)
    (templates / "intro.mjml.j2").write_text(
        "    <mj-section>\n      <mj-column>\n        <mj-txt>Hi</mj-txt>\n"
        "      </mj-column>\n    </mj-section>\n"
    )
    project = Project.at(sample_project)
    issue = load_issue(project.issue_path("2020-10"))
    with pytest.raises(RenderError) as caught:
        render_issue(project_environment(project), project.config, issue)
    assert "unknown tag <mj-txt>" in caught.value.message
    assert "partials/intro.mjml.j2:3" in caught.value.message


def test_broken_images_degrade_to_a_tinted_box_with_alt_text(full: Full, project: Project) -> None:
    *_, tree = full
    css = " ".join(s.text() or "" for s in tree.css("style"))
    theme = build_theme(project.config.brand)
    assert re.search(rf"\.nl-img img {{[^}}]*min-height: 96px;[^}}]*{theme.light.placeholder}", css)


def test_contrast_math() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert relative_luminance("#fff") == pytest.approx(1.0)


def test_theme_palettes_pass_contrast(project: Project) -> None:
    from newsletter.render.theme import contrast_pairs

    failing = [p for p in contrast_pairs(build_theme(project.config.brand)) if not p.ok]
    assert failing == []


def test_font_family_is_validated(tmp_path: Path) -> None:
    root = write_project(tmp_path, [])
    config_path = root / "newsletter.toml"
    config_path.write_text(
        config_path.read_text() + '\n[brand]\nfont_family = "Arial; } body { display: none"\n'
    )
    with pytest.raises(ConfigError, match=r"brand\.font_family"):
        load_config(config_path)


def test_story_image_with_empty_alt_is_decorative_and_unlinked(project: Project) -> None:
    story = Story(
        id="1", title="A story", url="https://example.org/a",
        image=Image(url="https://example.org/a.jpg", alt=""),
    )  # fmt: skip
    issue = Issue(
        month="2020-10", subject="S", sections=[Section(title="N", stories=[story, story])]
    )
    html = render_issue(project_environment(project), project.config, issue).html
    tree = LexborHTMLParser(html)
    for img in tree.css("img"):
        assert img.attributes.get("alt") == ""
        assert img.parent is not None and img.parent.tag != "a"


def test_staff_overrides_are_what_gets_printed(project: Project) -> None:
    from newsletter.models import StoryOverrides

    story = Story(
        id="1", title="Source title", url="https://example.org/a", summary="Source summary",
        overrides=StoryOverrides(title="Edited title", summary="Edited summary", cta="Apply now"),
    )  # fmt: skip
    issue = Issue(month="2020-10", subject="S", sections=[Section(title="N", stories=[story])])
    rendered = render_issue(project_environment(project), project.config, issue)
    for part in (rendered.html, rendered.text):
        assert "Edited title" in part and "Edited summary" in part and "Apply now" in part
        assert "Source title" not in part and "Source summary" not in part


def test_logo_from_the_theme(tmp_path: Path) -> None:
    root = write_project(tmp_path, [])
    config_path = root / "newsletter.toml"
    config_path.write_text(
        config_path.read_text()
        + '\n[brand]\nlogo_url = "https://news.example.org/logo.png"\nlogo_width = 160\n'
        + "width = 640\nfont_family = \"Georgia, 'Times New Roman', serif\"\n"
    )
    config = load_config(config_path)
    issue = Issue(month="2020-10", subject="S", sections=[])
    html = render_issue(make_environment([package_templates()]), config, issue).html
    logo = LexborHTMLParser(html).css_first('img[src="https://news.example.org/logo.png"]')
    assert logo is not None
    assert logo.attributes["alt"] == "Test News" and logo.attributes["width"] == "160"
    assert "max-width:640px" in html
    assert "font-family: Georgia, 'Times New Roman', serif" in html  # CSS, not HTML-escaped
    assert "There is no news this month." in html
