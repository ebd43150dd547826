"""Bad input, each served over real HTTP: clean items or a clear per-source error, never a
crash, a hang or anything hostile in the store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from newsletter.collect import SourceReport
from newsletter.models import NewsItem
from tests.conftest import FIXTURES, LocalServer, Response
from tests.factories import collect_project as make_project
from tests.factories import source
from tests.test_collect_sources import assert_clean_html, run

RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}
# Short waits so the failure paths are tested without slowing the suite.
FAST = "\n[collect]\ntimeout = 1\nretries = 2\nbackoff = 0.01\nmax_retry_wait = 5\n"


def rss(items: str, encoding: str = "utf-8") -> str:
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>\n<rss version="2.0"><channel>'
        "<title>T</title><link>https://example.org/</link><description>d</description>"
        f"{items}</channel></rss>"
    )


def item(n: int, title: str | None = None) -> str:
    return (
        f"<item><title>{title or f'Story {n}'}</title>"
        f"<link>https://example.org/{n}</link><guid>https://example.org/?p={n}</guid>"
        f"<pubDate>Mon, 02 Nov 2020 {n % 24:02d}:00:00 +0000</pubDate>"
        f"<description>Summary of story {n}.</description></item>"
    )


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer(FIXTURES) as local:
        yield local


def collect_one(
    tmp_path: Path, url: str, kind: str = "feed", extra: str = FAST
) -> tuple[SourceReport, list[NewsItem]]:
    project = make_project(tmp_path, source("Src", kind, url), extra)
    report, items = run(project)
    (entry,) = report.sources
    return entry, items


def serve(server: LocalServer, path: str, body: bytes | str, **headers: str) -> str:
    data = body.encode() if isinstance(body, str) else body
    server.routes[path] = Response(data, 200, headers or dict(RSS))
    return f"{server.url}{path}"


def test_malformed_xml_that_can_be_read_leniently_keeps_its_items(
    tmp_path: Path, server: LocalServer
) -> None:
    url = serve(server, "/amp.xml", rss(item(1, "Salt & pepper") + item(2)))
    entry, items = collect_one(tmp_path, url)
    assert entry.ok and entry.new == 2
    assert [i.title for i in items] == ["Story 2", "Salt & pepper"]
    assert any("not well-formed" in n for n in entry.notices)


@pytest.mark.parametrize(
    "body",
    [
        '<?xml version="1.0"?>\n<<<< this is not xml >>>> &&& </rss>',
        '<?xml version="1.0"?><rss version="2.0"><channel><item><title>One</item></title>'
        "</channel>",
    ],
)
def test_malformed_xml_without_items_is_a_clear_error(
    tmp_path: Path, server: LocalServer, body: str
) -> None:
    entry, items = collect_one(tmp_path, serve(server, "/broken.xml", body))
    assert not entry.ok and items == []
    assert entry.error is not None and "is not a readable feed" in entry.error
    assert "line 2" in entry.error or "line 1" in entry.error


def test_a_truncated_feed_keeps_the_items_that_arrived_complete(
    tmp_path: Path, server: LocalServer
) -> None:
    whole = rss("".join(item(n) for n in range(1, 6)))
    cut = whole[: whole.index("<title>Story 4") + 12]  # in the middle of the 4th item
    entry, items = collect_one(tmp_path, serve(server, "/cut.xml", cut))
    assert entry.ok and sorted(i.title for i in items) == ["Story 1", "Story 2", "Story 3"]
    assert any("kept the 3 of 4 items that arrived complete" in n for n in entry.notices)


def test_an_html_page_where_a_feed_was_expected(tmp_path: Path, server: LocalServer) -> None:
    page = (
        "<!DOCTYPE html><html><head><title>News</title>"
        '<link rel="alternate" type="application/rss+xml" href="/feeds/mixed-months.xml">'
        "</head><body><h1>News</h1><p>Not a feed.</p></body></html>"
    )
    url = serve(server, "/news/", page, **{"Content-Type": "text/html; charset=utf-8"})
    entry, _ = collect_one(tmp_path, url)
    assert not entry.ok and entry.error is not None
    assert "is an HTML page, not an RSS/Atom feed" in entry.error
    assert entry.hint is not None and f"{server.url}/feeds/mixed-months.xml" in entry.hint


def test_an_iso_8859_1_feed(tmp_path: Path, server: LocalServer) -> None:
    body = rss(item(1, "Kreftforskning på Radiumhospitalet – Forskningsrådet"), "ISO-8859-1")
    url = serve(
        server, "/latin1.xml", body.replace("–", "-").encode("iso-8859-1"),
        **{"Content-Type": "application/rss+xml"},
    )  # fmt: skip
    entry, (story,) = collect_one(tmp_path, url)
    assert entry.ok and story.title == "Kreftforskning på Radiumhospitalet - Forskningsrådet"


def test_an_empty_feed_is_fine_and_an_empty_response_is_not(
    tmp_path: Path, server: LocalServer
) -> None:
    entry, items = collect_one(tmp_path / "a", serve(server, "/empty.xml", rss("")))
    assert entry.ok and entry.new == 0 and items == []
    entry, _ = collect_one(tmp_path / "b", serve(server, "/nothing.xml", b""))
    assert not entry.ok and entry.error is not None and "empty document" in entry.error


def test_404(tmp_path: Path, server: LocalServer) -> None:
    entry, _ = collect_one(tmp_path, f"{server.url}/gone.xml")
    assert not entry.ok and entry.error is not None
    assert entry.error == f"HTTP 404 Not Found from {server.url}/gone.xml"
    assert entry.hint is not None and "newsletter.toml" in entry.hint


def test_500_is_retried_then_reported(tmp_path: Path, server: LocalServer) -> None:
    server.routes["/fail.xml"] = Response(b"oops", 500)
    entry, _ = collect_one(tmp_path, f"{server.url}/fail.xml")
    assert not entry.ok and entry.error is not None
    assert "HTTP 500" in entry.error and "after 3 attempts" in entry.error
    assert len(server.requests) == 3


def test_503_with_retry_after_then_success(tmp_path: Path, server: LocalServer) -> None:
    answers = iter([Response(b"busy", 503, {"Retry-After": "0"}),
                    Response(b"slow down", 429, {"Retry-After": "0"})])  # fmt: skip
    good = Response(rss(item(1)).encode(), 200, dict(RSS))
    server.routes["/flaky.xml"] = lambda request: next(answers, good)
    entry, items = collect_one(tmp_path, f"{server.url}/flaky.xml")
    assert entry.ok and len(items) == 1 and len(server.requests) == 3


def test_a_retry_after_longer_than_we_wait_fails_at_once(
    tmp_path: Path, server: LocalServer
) -> None:
    server.routes["/later.xml"] = Response(b"", 429, {"Retry-After": "3600"})
    entry, _ = collect_one(tmp_path, f"{server.url}/later.xml")
    assert not entry.ok and entry.error is not None
    assert "retry after 3600 s, longer than the 5 s we wait" in entry.error
    assert len(server.requests) == 1


def test_a_server_that_stalls_for_30_seconds(tmp_path: Path, server: LocalServer) -> None:
    def stall(request: BaseHTTPRequestHandler) -> Response:
        server.stopping.wait(30)
        return Response(rss(item(1)).encode(), 200, dict(RSS))

    server.routes["/stall.xml"] = stall
    entry, items = collect_one(tmp_path, f"{server.url}/stall.xml")
    assert not entry.ok and items == [] and entry.error is not None
    assert "sent nothing for 1 s (read timeout)" in entry.error


def test_a_redirect_loop(tmp_path: Path, server: LocalServer) -> None:
    server.routes["/a"] = Response(b"", 302, {"Location": "/b"})
    server.routes["/b"] = Response(b"", 302, {"Location": "/a"})
    entry, _ = collect_one(tmp_path, f"{server.url}/a")
    assert not entry.ok and entry.error is not None
    assert "redirects in a loop (more than 10 redirects)" in entry.error


def big_feed(count: int) -> bytes:
    padding = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 7
    entries = "".join(
        f"<item><title>Story {n}</title><link>https://example.org/{n}</link>"
        f"<pubDate>Mon, 02 Nov 2020 {n % 24:02d}:{n % 60:02d}:00 +0000</pubDate>"
        f"<description>Story {n}. {padding}</description></item>"
        for n in range(count)
    )
    return rss(entries).encode()


def test_a_10_mb_feed_with_20000_items(tmp_path: Path, server: LocalServer) -> None:
    body = big_feed(20_000)
    assert len(body) > 10 * 1024 * 1024
    url = serve(server, "/huge.xml", body)
    entry, items = collect_one(tmp_path / "a", url)
    assert entry.ok and entry.new == 500 == len(items)
    assert "kept the newest 500 of 20000 items (max_items)" in entry.notices
    entry, items = collect_one(tmp_path / "b", url, extra=FAST + "max_mb = 5\n")
    assert not entry.ok and items == [] and entry.error is not None
    assert "larger than 5 MB" in entry.error


def assert_nothing_hostile(items: list[NewsItem]) -> None:
    for story in items:
        assert_clean_html(story.body_html)
        for text in (story.title, story.kicker or "", story.summary):
            assert "<" not in text and ">" not in text, text
            assert "\r" not in text and "\n" not in text
            assert "alert(" not in text and "javascript:" not in text.lower()
        if story.image:
            assert story.image.url.startswith(("https://", "http://"))
        assert story.url.startswith(("https://", "http://"))
        dumped = story.model_dump_json().lower()
        for bad in ("<script", "onerror", "onclick", "onload", "<iframe", "javascript:"):
            assert bad not in dumped, bad


def test_hostile_feed_items(tmp_path: Path, server: LocalServer) -> None:
    entry, items = collect_one(tmp_path, f"{server.url}/feeds/hostile.xml")
    assert entry.ok and entry.new == 2
    assert_nothing_hostile(items)
    titles = {i.title for i in items}
    assert titles == {
        'Breaking news about {{ 7*7 }} and {% include "x" %}',  # template syntax stays text
        "Title with an iframe",
    }
    breaking = next(i for i in items if i.title.startswith("Breaking"))
    assert "${7*7}" in breaking.summary and breaking.image is None
    # Relative links in an article resolve against the article's own address.
    assert 'href="https://hostile.example.org/relative/page"' in breaking.body_html
    assert 'src="https://hostile.example.org/pic.jpg"' in breaking.body_html
    framed = next(i for i in items if i.title == "Title with an iframe")
    assert framed.url == "https://hostile.example.org/2021/03/03/iframe-title/"
    assert len(entry.skipped) == 2
    assert all("is not an http(s) URL" in reason for reason in entry.skipped)


def test_hostile_listing_page(tmp_path: Path, server: LocalServer) -> None:
    entry, items = collect_one(tmp_path, f"{server.url}/pages/hostile.html", kind="page")
    assert entry.ok and entry.new == 2
    assert_nothing_hostile(items)
    assert {i.title for i in items} == {"First story {{ 7*7 }}", "Third story, on two lines"}
    assert any("A javascript: story" in reason for reason in entry.skipped)


def test_hostile_wordpress_posts(tmp_path: Path, server: LocalServer) -> None:
    posts = [
        {
            "id": 1,
            "date_gmt": "2021-03-01T09:00:00",
            "link": "https://wp.example.org/2021/03/01/x/?utm_campaign=spring",
            "guid": {"rendered": "https://wp.example.org/?p=1"},
            "title": {"rendered": "&#8220;Quoted&#8221; &amp; <script>alert(1)</script>safe"},
            "excerpt": {"rendered": "<p>An excerpt&#8230; with <img src=x onerror=alert(2)></p>"},
            "content": {"rendered": '<p>Body</p><iframe src="https://evil.example/"></iframe>'},
            "_embedded": {"wp:featuredmedia": [{"code": "rest_forbidden"}]},
        },
        {"id": 2, "date_gmt": "2021-03-02T09:00:00", "link": "javascript:alert(3)",
         "title": {"rendered": "Bad link"}},
        "not a post",
        {"id": 4, "link": "https://wp.example.org/no-date/", "title": {"rendered": "No date"}},
    ]  # fmt: skip
    serve(server, "/wp-json/wp/v2/posts", json.dumps(posts), **{"Content-Type": "application/json"})
    entry, items = collect_one(tmp_path, server.url, kind="wordpress")
    assert entry.ok and entry.new == 1
    assert_nothing_hostile(items)
    (story,) = items
    assert story.title == "“Quoted” & safe" and story.summary == "An excerpt… with"
    assert story.url == "https://wp.example.org/2021/03/01/x/"
    assert len(entry.skipped) == 2 and any("malformed" in n for n in entry.notices)


def test_a_site_without_the_wordpress_api(tmp_path: Path, server: LocalServer) -> None:
    entry, _ = collect_one(tmp_path, f"{server.url}/pages", kind="wordpress")
    assert not entry.ok and entry.error is not None and "HTTP 404" in entry.error
    serve(server, "/x/wp-json/wp/v2/posts", "<html>no</html>", **{"Content-Type": "text/html"})
    entry, _ = collect_one(tmp_path / "b", f"{server.url}/x", kind="wordpress")
    assert entry.error is not None and "is not JSON" in entry.error
