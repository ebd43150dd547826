"""The archive and its feed publish only sent issues; `build --drafts` previews the rest,
marked on the archive page and still kept out of the feed."""

from __future__ import annotations

import shutil
from pathlib import Path

import feedparser
from selectolax.lexbor import LexborHTMLParser

from newsletter.preview.snapshot import take_snapshot
from tests.clirun import cli
from tests.conftest import GOLDEN
from tests.factories import approve

FEED_URL = "https://news.oslocancercluster.no/"


def three_issues(root: Path) -> Path:
    """The sample (2020-10 and 2024-03, both sent) with a draft 2024-04 and an approved
    2024-05 (the full golden issue, renamed)."""
    for month in ("2024-04", "2024-05"):
        text = (GOLDEN / "issues" / "2024-03.yaml").read_text()
        (root / "issues" / f"{month}.yaml").write_text(
            text.replace("month: 2024-03", f"month: {month}")
        )
    approve(root, "2024-05")
    return root


def archive(root: Path) -> list[tuple[str, str]]:
    """(link, class) of each issue on the archive page."""
    page = LexborHTMLParser((root / "build" / "index.html").read_text())
    return [
        (a.attributes.get("href") or "", article.attributes.get("class") or "")
        for article in page.css("article")
        for a in article.css("h2 a")
    ]


def feed_links(root: Path) -> list[str]:
    feed = feedparser.parse((root / "build" / "feed.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    return [entry.link for entry in feed.entries]


def test_only_sent_issues_are_published(sample_project: Path) -> None:
    root = three_issues(sample_project)
    done = cli("build", "all", cwd=root)
    assert done.returncode == 0, done.stderr
    for month in ("2024-04", "2024-05"):  # each unsent issue's own page is built for previews
        assert (root / "build" / month / "index.html").is_file()
    assert archive(root) == [("2024-03/", ""), ("2020-10/", "")]
    assert feed_links(root) == [f"{FEED_URL}2024-03/", f"{FEED_URL}2020-10/"]
    assert "Not in the archive until sent: 2024-04, 2024-05 (--drafts lists them" in done.stdout


def test_build_all_drafts_lists_the_rest_marked_but_not_in_the_feed(sample_project: Path) -> None:
    root = three_issues(sample_project)
    done = cli("build", "all", "--drafts", cwd=root)
    assert done.returncode == 0, done.stderr
    assert archive(root) == [
        ("2024-05/", "draft"), ("2024-04/", "draft"), ("2024-03/", ""), ("2020-10/", ""),
    ]  # fmt: skip
    page = LexborHTMLParser((root / "build" / "index.html").read_text())
    badges = [span.text() for span in page.css("article .badge")]
    assert badges == ["Not sent: approved", "Not sent: draft"]
    assert feed_links(root) == [f"{FEED_URL}2024-03/", f"{FEED_URL}2020-10/"]
    assert "Listed as not sent yet (not in the feed): 2024-04, 2024-05." in done.stdout

    # The next plain build publishes only the sent issues again.
    assert cli("build", "2024-04", cwd=root).returncode == 0
    assert [link for link, _ in archive(root)] == ["2024-03/", "2020-10/"]


def test_an_issue_marked_sent_joins_the_archive(sample_project: Path) -> None:
    root = three_issues(sample_project)
    assert cli("build", "all", cwd=root).returncode == 0
    path = root / "issues" / "2024-05.yaml"
    path.write_text(path.read_text().replace("status: approved", "status: sent"))
    assert cli("build", "2024-05", cwd=root).returncode == 0
    assert archive(root)[0] == ("2024-05/", "")
    assert feed_links(root)[0] == f"{FEED_URL}2024-05/"


def test_the_preview_says_an_issue_is_not_sent(sample_project: Path) -> None:
    from newsletter.preview.server import Build, render_page

    root = three_issues(sample_project)
    shutil.rmtree(root / "sources")  # a preview renders from the issue file alone
    for month, shown in (("2024-04", "draft"), ("2024-05", "approved"), ("2020-10", None)):
        snap = take_snapshot(root, month)
        page = render_page(month, Build(snapshot=snap), root / "issues" / f"{month}.yaml")
        status = LexborHTMLParser(page).css_first("header.bar h1 .status")
        assert (status.text() if status else None) == shown, month
