"""Editions: one store, one collect, an English and a Norwegian Bokmål issue (issue 16)."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from newsletter.i18n import package_locale
from newsletter.project import Project
from tests.clirun import cli
from tests.conftest import REPO

BILINGUAL = REPO / "examples" / "bilingual"


def bilingual_project(root: Path) -> Path:
    """A copy of examples/bilingual with the repository's sources beside it."""
    root.mkdir(parents=True)
    shutil.copy(BILINGUAL / "newsletter.toml", root / "newsletter.toml")
    shutil.copytree(REPO / "sources", root / "sources")
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = bilingual_project(tmp_path_factory.mktemp("editions") / "project")
    result = cli("run", "2020-10", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    return root


def catalog(code: str) -> dict[str, str]:
    with (package_locale() / f"{code}.po").open("rb") as handle:
        found = {}
        for message in read_po(handle):
            if message.context:
                text = message.string
                found[message.context] = text if isinstance(text, str) else str((text or [""])[-1])
        return found


def visible_text(html: str) -> str:
    tree = HTMLParser(html)
    for node in tree.css("style, script"):
        node.decompose()
    return tree.body.text(separator=" ") if tree.body else ""


def test_one_collect_drafts_and_builds_an_english_and_a_norwegian_edition(built: Path) -> None:
    en = (built / "issues" / "2020-10.en.yaml").read_text()
    nb = (built / "issues" / "2020-10.nb.yaml").read_text()
    assert "language: en" in en and "language: nb" in nb
    # The cluster's Norwegian articles are in the Norwegian edition, and only there.
    for slug in ("impress-viser-vei", "statsbudsjettet-613", "forsteklassingene-motte"):
        assert "oslocancercluster.no/nb/2020/10/" in nb and slug in nb
        assert slug not in en
    assert "impress-leads-the-way" in en and "impress-leads-the-way" not in nb
    assert "subject: Førsteklassingene møtte mentorene sine" in nb  # the Norwegian lead
    assert "Fra klyngen" in nb  # the edition's own section title
    for code in ("en", "nb"):
        out = built / "build" / code / "2020-10"
        assert (out / "email.html").is_file() and (out / "email.txt").is_file()
    page = (built / "build" / "nb" / "2020-10" / "email.html").read_text()
    assert '<html lang="nb"' in page and "Oktober 2020" in page
    assert "Institutt for kreftforskning" in page  # [editions.nb] about


@pytest.mark.parametrize(("code", "other"), [("en", "nb"), ("nb", "en")])
def test_no_label_of_the_other_language_in_a_build(built: Path, code: str, other: str) -> None:
    own, foreign = catalog(code), catalog(other)
    # Labels that both languages write the same way (names, "Feed" patterns) prove nothing.
    words = {
        key: text
        for key, text in foreign.items()
        if text and text != own.get(key) and not re.search(r"[{}]|^[dLy .M]+$", text)
    }
    out = built / "build" / code / "2020-10"
    texts = {
        "email.html": visible_text((out / "email.html").read_text()),
        "index.html": visible_text((out / "index.html").read_text()),
        "email.txt": (out / "email.txt").read_text(),
        "archive": visible_text((built / "build" / code / "index.html").read_text()),
    }
    for name, text in texts.items():
        for key, word in words.items():
            assert not re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text), (name, key, word)


def test_web_pages_link_their_other_language_version(built: Path) -> None:
    page = (built / "build" / "nb" / "2020-10" / "index.html").read_text()
    tree = HTMLParser(page)
    alternates = {
        n.attributes["hreflang"]: n.attributes["href"]
        for n in tree.css('link[rel="alternate"][hreflang]')
    }
    assert alternates == {
        "nb": "https://news.oslocancercluster.no/nb/2020-10/",
        "en": "https://news.oslocancercluster.no/en/2020-10/",
    }
    visible = tree.css_first('a[hreflang="en"]')
    assert visible is not None and visible.text() == "English"
    archive = HTMLParser((built / "build" / "en" / "index.html").read_text())
    link = archive.css_first('link[hreflang="nb"]')
    assert link is not None and str(link.attributes["href"]).endswith("/nb/")
    top = (built / "build" / "index.html").read_text()
    assert 'href="en/feed.xml"' in top  # the front page is the default edition's archive


def test_one_feed_per_edition(built: Path) -> None:
    ns = {"a": "http://www.w3.org/2005/Atom"}
    for code in ("en", "nb"):
        feed = ET.parse(built / "build" / code / "feed.xml").getroot()
        assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == code
        self_link = feed.find("a:link[@rel='self']", ns)
        assert self_link is not None
        assert self_link.get("href") == f"https://news.oslocancercluster.no/{code}/feed.xml"
        assert feed.find("a:entry", ns) is None  # drafts are never in a feed
    nb = (built / "build" / "nb" / "feed.xml").read_text()
    assert "Institutt for kreftforskning" in nb  # the edition's own about text


def test_catalogs_are_complete() -> None:
    english, bokmal = catalog("en"), catalog("nb")
    assert set(english) == set(bokmal)
    assert all(bokmal.values()), [k for k, v in bokmal.items() if not v]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('["en", "de"]', "'de': no story can match it"),
        ('["en", "e n"]', "not a BCP 47 language code"),
        ('["en", "en"]', "each language may appear once"),
    ],
)
def test_edition_codes_are_checked(tmp_path: Path, value: str, message: str) -> None:
    root = bilingual_project(tmp_path / "p")
    config = root / "newsletter.toml"
    config.write_text(config.read_text().replace('editions = ["en", "nb"]', f"editions = {value}"))
    result = cli("draft", "2020-10", cwd=root)
    assert result.returncode != 0
    assert "newsletter.editions" in (result.stdout + result.stderr) and message in (
        result.stdout + result.stderr
    )


def test_one_edition_keeps_the_historical_file_names(tmp_path: Path) -> None:
    project = Project.at(REPO)
    assert [e.code for e in project.editions] == ["en"]
    assert project.issue_path("2020-10").name == "2020-10.yaml"
    assert project.issue_build_dir("2020-10") == REPO / "build" / "2020-10"


def test_the_suggested_subject_names_the_month_in_the_editions_language() -> None:
    from newsletter.editor.draft import suggest_subject
    from tests.factories import news_item

    project = Project.at(BILINGUAL)
    nb = project.edition("nb")
    lead = news_item(title="Ny studie")
    assert suggest_subject(project.config, "2024-03", lead, nb).endswith(", mars 2024")
    english = suggest_subject(project.config, "2024-03", lead, project.edition("en"))
    assert english.endswith(", March 2024")
    assert suggest_subject(project.config, "2024-03", None, nb).endswith(
        "mars 2024: ingen nyheter denne måneden"
    )


def test_check_covers_every_edition_and_flags_language_and_translation(
    built: Path, tmp_path: Path
) -> None:
    root = tmp_path / "p"
    shutil.copytree(built, root, ignore=shutil.ignore_patterns("build"))
    both = cli("check", "2020-10", cwd=root)
    assert "Checked 2020-10 (en)" in both.stdout and "Checked 2020-10 (nb)" in both.stdout
    assert "story-language" not in both.stdout and "untranslated" not in both.stdout
    # An English story moved into the Norwegian edition, and a word no catalog translates.
    en, nb = root / "issues" / "2020-10.en.yaml", root / "issues" / "2020-10.nb.yaml"
    nb.write_text(nb.read_text().replace("language: no", "language: en", 1))
    (root / "templates" / "partials").mkdir(parents=True)
    (root / "templates" / "partials" / "team.mjml.j2").write_text('{{ _("Meet the team") }}\n')
    one = cli("check", "2020-10", "--edition", "nb", "--format", "json", cwd=root)
    assert '"edition": "nb"' in one.stdout and "Checked" not in one.stdout
    assert '"rule": "story-language"' in one.stdout
    assert "'Meet the team' has no nb translation" in one.stdout
    assert en.read_text() == (built / "issues" / "2020-10.en.yaml").read_text()
