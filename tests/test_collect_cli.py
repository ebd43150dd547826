"""`newsletter collect` and `newsletter items` through the command line.

The first test is the collector's acceptance run: healthy, broken, slow and hostile sources
together. Every real story is stored once, every failing source is named with its reason,
the exit code says some failed, and a second run is answered by 304s and stores nothing.
The store is SQLite, then PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.clirun import CliResult
from tests.clirun import cli as run_cli
from tests.conftest import FIXTURES, REPO, LocalServer, Response
from tests.factories import collect_project as make_project
from tests.factories import news_item, source, store_items
from tests.test_collect_sources import SOURCES

EXIT_SOME_SOURCES_FAILED = 3


def cli(*args: str, cwd: Path) -> CliResult:
    return run_cli(*args, cwd=cwd, columns=250)


def etagged(pages: dict[int, bytes], tag: str, **headers: str) -> Callable[..., Response]:
    """A route that answers If-None-Match with 304, like a real server with ETags."""

    def answer(request: BaseHTTPRequestHandler) -> Response:
        page = int(parse_qs(urlsplit(request.path).query).get("page", ["1"])[0])
        etag = f'"{tag}-{page}"'
        if request.headers.get("If-None-Match") == etag:
            return Response(b"", 304, {"ETag": etag})
        return Response(pages[page], 200, {"ETag": etag, **headers})

    return answer


def mixed_sources(server: LocalServer) -> str:
    feed = (SOURCES / "cluster/feed.xml").read_text()
    mirror = feed.replace("/</link>", "/?utm_source=sister&amp;utm_medium=rss</link>")
    mirror = mirror.replace("oslocancercluster.no/?p=", "sister.example.org/?p=")
    rss = {"Content-Type": "application/rss+xml"}
    server.routes["/mirror.xml"] = etagged({1: mirror.encode()}, "m", **rss)
    wp = {"Content-Type": "application/json", "X-WP-Total": "10", "X-WP-TotalPages": "2"}
    pages = {n: (SOURCES / f"cluster/wp-json/posts-page{n}.json").read_bytes() for n in (1, 2)}
    server.routes["/wp-json/wp/v2/posts"] = etagged(pages, "wp", **wp)
    server.routes["/feeds/broken.xml"] = Response(b"<?xml version='1.0'?><<<", 200, rss)
    server.routes["/loop"] = Response(b"", 302, {"Location": "/loop"})
    server.routes["/down.xml"] = Response(b"", 503)

    def stall(request: BaseHTTPRequestHandler) -> Response:
        server.stopping.wait(30)
        return Response(b"", 200)

    server.routes["/stall.xml"] = stall
    url = server.url
    return (
        source("Cluster feed", "feed", f"{url}/sources/cluster/feed.xml")
        + source("Cluster API", "wordpress", url)
        + source("Sister site", "feed", f"{url}/mirror.xml")
        + source("Institute", "page", f"{url}/sources/institute/news-2024-03-05.html")
        + source("Hostile", "feed", f"{url}/tests/fixtures/feeds/hostile.xml")
        + source("Announcements", "folder", str(SOURCES / "announcements"))
        + source("Gone", "feed", f"{url}/nowhere.xml")
        + source("Broken", "feed", f"{url}/feeds/broken.xml")
        + source("Not a feed", "feed", f"{url}/sources/institute/news-2021-12-03.html")
        + source("Loop", "feed", f"{url}/loop")
        + source("Down", "feed", f"{url}/down.xml")
        + source("Slow", "feed", f"{url}/stall.xml", timeout=1)
    )


FAILING = {
    "Gone": "HTTP 404 Not Found",
    "Broken": "is not a readable feed",
    "Not a feed": "is an HTML page, not an RSS/Atom feed",
    "Loop": "redirects in a loop",
    "Down": "HTTP 503",
    "Slow": "sent nothing for 1 s",
}


def rows(stdout: str) -> dict[str, list[str]]:
    found = {}
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.strip("│┃ ").split("│")]
        if len(cells) == 6 and cells[0]:
            found[cells[0]] = cells[1:]
    return found


@pytest.mark.usefixtures("backend")
def test_collect_over_healthy_broken_slow_and_hostile_sources(tmp_path: Path) -> None:
    with LocalServer(REPO) as server:
        project = make_project(
            tmp_path, mixed_sources(server), "\n[collect]\nbackoff = 0.01\nretries = 1\n"
        )
        first = cli("collect", cwd=project.root)
        assert first.returncode == EXIT_SOME_SOURCES_FAILED, first.stderr
        table = rows(first.stdout)
        for name, reason in FAILING.items():
            assert table[name][-1].startswith("failed:") and reason in table[name][-1], name
        assert table["Cluster feed"][:4] == ["10", "0", "0", "0"]
        assert table["Cluster API"][:4] == ["0", "0", "10", "0"]
        assert table["Sister site"][:4] == ["0", "0", "10", "0"]
        assert table["Institute"][0] == "6" and table["Hostile"][0] == "2"
        assert "Traceback" not in first.stdout + first.stderr

        listed = json.loads(cli("items", "--format", "json", cwd=project.root).stdout)
        assert len(listed) == 10 + 6 + 2 + 1  # every real story exactly once
        assert len({item["url"] for item in listed}) == len(listed)
        cluster = [i for i in listed if i["source"] == "Cluster feed"]
        assert all(i["sources"] == ["Cluster API", "Cluster feed", "Sister site"] for i in cluster)
        assert all(i["first_seen"] and i["last_seen"] for i in listed)
        dumped = json.dumps(listed).lower()
        assert "<script" not in dumped and "javascript:" not in dumped and "onerror" not in dumped

        served = len(server.requests)
        second = cli("collect", cwd=project.root)
        assert second.returncode == EXIT_SOME_SOURCES_FAILED
        again = rows(second.stdout)
        for name in ("Cluster feed", "Cluster API", "Sister site", "Institute", "Hostile"):
            assert again[name][:4] == ["0", "0", "0", "0"], name
            assert again[name][-1].startswith("unchanged (HTTP 304)"), name
        assert again["Announcements"][:4] == ["0", "0", "0", "1"]  # a local folder: re-read
        for name, reason in FAILING.items():
            assert reason in again[name][-1], name
        asked = [(path, headers) for path, headers in server.requests[served:]
                 if not path.startswith(("/nowhere", "/feeds/broken", "/loop", "/down", "/stall",
                                         "/sources/institute/news-2021"))]  # fmt: skip
        # One conditional request each, and one per page of the API (an edit to an older
        # post changes only its own page).
        assert len(asked) == 6 and all("If-None-Match" in headers for _, headers in asked)
        assert sum("/wp-json/" in path for path, _ in asked) == 2
        after = json.loads(cli("items", "--format", "json", cwd=project.root).stdout)
        assert len(after) == len(listed)


@pytest.mark.usefixtures("backend")
def test_items_filters_and_formats(tmp_path: Path) -> None:
    project = make_project(
        tmp_path,
        source("Cluster feed", "feed", str(SOURCES / "cluster/feed.xml"))
        + source("Cluster API", "wordpress", str(SOURCES / "cluster/wp-json/posts.json"))
        + source("Hand", "folder", str(SOURCES / "announcements")),
    )
    assert cli("collect", cwd=project.root).returncode == 0
    october = json.loads(cli("items", "--month", "2020-10", "-f", "json", cwd=project.root).stdout)
    assert len(october) == 5 and all(i["published"].startswith("2020-10") for i in october)
    by_api = json.loads(
        cli("items", "--source", "Cluster API", "-f", "json", cwd=project.root).stdout
    )
    assert len(by_api) == 10  # the API's stories, though the feed carried them first
    found = json.loads(cli("items", "--search", "EHiN", "-f", "json", cwd=project.root).stdout)
    assert {i["title"] for i in found} >= {"Save the date: EHiN 2020, 10–11 November"}
    table = cli("items", "--month", "2020-10", cwd=project.root).stdout
    assert "2020-11-10" in table and "event" in table  # the event's date is shown


def test_the_sample_project_collects_everything_offline(sample_project: Path) -> None:
    result = cli("collect", cwd=sample_project)
    assert result.returncode == 0, result.stdout + result.stderr
    listed = json.loads(cli("items", "--format", "json", cwd=sample_project).stdout)
    names = {name for item in listed for name in item["sources"]}
    assert names == {
        "Oslo Cancer Cluster", "Oslo Cancer Cluster (WordPress)", "Institute for Cancer Research",
        "Institute for Cancer Research (March 2024)",
        "Institute for Cancer Research (December 2021)", "Announcements",
    }  # fmt: skip
    assert len(listed) == 10 + 6 + 6 + 5 + 1
    assert all(i["url"].startswith("https://") for i in listed)


def test_collect_help_documents_the_exit_code() -> None:
    result = cli("collect", "--help", cwd=FIXTURES)
    assert result.returncode == 0 and "3 when some failed" in result.stdout


def test_items_json_is_what_one_json_dumps_of_the_list_gives(tmp_path: Path) -> None:
    """The streamed writer (pydantic's JSON per record) prints what the standard library would,
    including a focal point small enough that the two write floats differently."""
    from newsletter.models import Image

    project = make_project(tmp_path / "p", "")
    photo = "https://example.org/p.jpg"
    store_items(
        project,
        news_item("Plain story", body_html="<p>Blåbær «quoted» \\ and \"q\"</p>", sources=[]),
        news_item("Tiny focus", "2020-10-06T09:00:00",
                  image=Image(url=photo, alt="A", focus=(1e-05, 0.5))),
        news_item("Normal focus", "2020-10-07T09:00:00",
                  image=Image(url=photo, alt="B", focus=(0.25, 1.0), width=800)),
    )  # fmt: skip
    shown = cli("items", "--format", "json", cwd=project.root)
    assert shown.returncode == 0, shown.stderr
    records = json.loads(shown.stdout)
    assert [r["title"] for r in records] == ["Normal focus", "Tiny focus", "Plain story"]
    assert records[1]["image"]["focus"] == [1e-05, 0.5]
    assert shown.stdout == json.dumps(records, indent=2, ensure_ascii=False) + "\n"
