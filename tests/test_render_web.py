"""The web version of each issue, the archive that lists every issue, and its Atom feed."""

import shutil
from pathlib import Path

import feedparser
from selectolax.lexbor import LexborHTMLParser

from newsletter.archive import build_archive, issue_date
from newsletter.build import build_month
from newsletter.issuefile import load_issue
from newsletter.project import Project
from tests.clirun import CliResult
from tests.clirun import cli as run_cli
from tests.conftest import GOLDEN
from tests.factories import mark_sent


def cli(cwd: Path, *args: str) -> CliResult:
    return run_cli(*args, cwd=cwd)


def two_issues(sample_project: Path) -> Path:
    """The sample project with the full golden issue as its 2024-03, sent (the archive and
    the feed list sent issues only)."""
    shutil.copy(GOLDEN / "issues" / "2024-03.yaml", sample_project / "issues" / "2024-03.yaml")
    mark_sent(sample_project, "2024-03")
    return sample_project


def test_build_all_writes_pages_archive_and_feed(sample_project: Path) -> None:
    root = two_issues(sample_project)
    result = cli(root, "build", "all")
    assert result.returncode == 0, result.stderr
    for month in ("2020-10", "2024-03"):
        for name in ("email.html", "email.txt", "index.html"):
            assert (root / "build" / month / name).is_file(), (month, name)

    archive = LexborHTMLParser((root / "build/index.html").read_text())
    links = [a.attributes.get("href") for a in archive.css("article h2 a")]
    assert links == ["2024-03/", "2020-10/"]  # every issue, newest first
    titles = [a.text() for a in archive.css("article h2 a")]
    assert titles[1] == "Students meet their mentors, and NOK 61 million for precision medicine"
    html_tag = archive.css_first("html")
    assert html_tag is not None and html_tag.attributes.get("lang") == "en"
    assert archive.css_first('link[type="application/atom+xml"]') is not None

    feed = feedparser.parse((root / "build/feed.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.feed.title == "Oslo Cancer Community News"
    assert [e.link for e in feed.entries] == [
        "https://news.oslocancercluster.no/2024-03/",
        "https://news.oslocancercluster.no/2020-10/",
    ]
    assert feed.entries[1].published_parsed[:3] == (2020, 11, 3)  # the send date
    assert "IMPRESS leads the way" in feed.entries[1].content[0].value


def test_archive_lists_only_built_issues(sample_project: Path) -> None:
    root = two_issues(sample_project)
    assert cli(root, "build", "2024-03").returncode == 0
    archive = (root / "build/index.html").read_text()
    assert "2024-03/" in archive and "2020-10/" not in archive
    assert cli(root, "build", "2020-10").returncode == 0
    archive = (root / "build/index.html").read_text()
    assert "2024-03/" in archive and "2020-10/" in archive


def test_web_version_has_no_personal_links(sample_project: Path) -> None:
    project = Project.at(sample_project)
    out = build_month(project, "2020-10")
    web = (out / "index.html").read_text()
    email = (out / "email.html").read_text()
    tree = LexborHTMLParser(web)
    hrefs = [a.attributes.get("href") or "" for a in tree.css("a")]
    assert "%%" not in web
    assert not any("unsubscribe" in h or "preferences" in h for h in hrefs)
    assert "https://news.oslocancercluster.no/" in hrefs  # the archive (and sign-up page)
    assert "https://news.oslocancercluster.no/feed.xml" in hrefs
    assert "nl-preheader" not in web and "nl-preheader" in email
    assert "https://news.oslocancercluster.no/unsubscribe" in email


def test_feed_of_an_empty_archive_parses(tmp_path: Path, sample_project: Path) -> None:
    project = Project.at(sample_project)
    index, feed_path = build_archive(project)
    feed = feedparser.parse(feed_path.read_bytes())
    assert not feed.bozo and feed.entries == []
    assert "No issues yet." in index.read_text()


def test_issue_date_falls_back_to_the_newest_story() -> None:
    issue = load_issue(GOLDEN / "issues" / "2024-03.yaml")
    assert issue_date(issue).date().isoformat() == "2024-03-05"
    undated = issue.model_copy(update={"send_at": None})
    assert issue_date(undated).date().isoformat() == "2024-02-29"


def test_archive_shows_what_was_built_without_rereading_issue_files(sample_project: Path) -> None:
    root = two_issues(sample_project)
    assert cli(root, "build", "all").returncode == 0
    issue_file = root / "issues/2020-10.yaml"
    issue_file.write_text(issue_file.read_text().replace("subject: Students", "subject: Edited"))
    assert cli(root, "build", "2024-03").returncode == 0
    archive = (root / "build/index.html").read_text()
    assert "Students meet their mentors" in archive and "Edited meet" not in archive

    # A page built without its archive record (an older build) is read from its issue file.
    (root / "build/2020-10/issue.json").unlink()
    build_archive(Project.at(root))
    assert "Edited meet their mentors" in (root / "build/index.html").read_text()
