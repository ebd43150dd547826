"""Fetching: conditional requests, redirects, politeness, concurrency, the store's share."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from newsletter.collect import collect
from newsletter.collect.fetch import retry_after
from newsletter.project import Project
from newsletter.store import Store
from tests.conftest import LocalServer, Response
from tests.factories import collect_project as make_project
from tests.factories import source

FEED = "/feeds/mixed-months.xml"


def feed_project(tmp_path: Path, url: str, extra: str = "") -> Project:
    return make_project(tmp_path, source("News", "feed", url), extra)


def test_a_second_run_is_answered_by_304_and_stores_nothing_twice(
    tmp_path: Path, http_server: LocalServer
) -> None:
    project = feed_project(tmp_path, f"{http_server.url}{FEED}")
    with Store(project.store_path) as store:
        first = collect(project, store).sources[0]
        assert (first.new, first.not_modified) == (4, False)
        assert store.validators("News")[f"{http_server.url}{FEED}"][0]  # the ETag is kept
        second = collect(project, store).sources[0]
        assert second.ok and second.not_modified and second.new == second.updated == 0
        assert store.count() == 4
        headers = http_server.requests[-1][1]
        assert headers["If-None-Match"].startswith('"') and "If-Modified-Since" in headers
        third = collect(project, store, refresh=True).sources[0]
        assert (third.not_modified, third.unchanged) == (False, 4)
        assert "If-None-Match" not in http_server.requests[-1][1]


def test_last_modified_alone_is_enough(tmp_path: Path, http_server: LocalServer) -> None:
    body = (http_server.root / FEED.lstrip("/")).read_bytes()  # type: ignore[operator]
    stamp = "Tue, 03 Nov 2020 08:00:00 GMT"

    def dated(request: BaseHTTPRequestHandler) -> Response:
        if request.headers.get("If-Modified-Since") == stamp:
            return Response(b"", 304)
        return Response(body, 200, {"Content-Type": "application/rss+xml", "Last-Modified": stamp})

    http_server.routes["/dated.xml"] = dated
    project = feed_project(tmp_path, f"{http_server.url}/dated.xml")
    with Store(project.store_path) as store:
        assert collect(project, store).sources[0].new == 4
        assert collect(project, store).sources[0].not_modified


def test_requests_say_who_we_are(tmp_path: Path, http_server: LocalServer) -> None:
    with Store(feed_project(tmp_path, f"{http_server.url}{FEED}").store_path) as store:
        collect(Project.at(tmp_path), store)
    headers = http_server.requests[0][1]
    assert headers["User-Agent"].startswith("newsletter/")
    assert "application/rss+xml" in headers["Accept"]


def test_a_permanent_redirect_is_reported_and_a_temporary_one_is_not(
    tmp_path: Path, http_server: LocalServer
) -> None:
    http_server.routes["/old.xml"] = Response(b"", 301, {"Location": FEED})
    http_server.routes["/tmp.xml"] = Response(b"", 302, {"Location": FEED})
    project = make_project(
        tmp_path,
        source("Moved", "feed", f"{http_server.url}/old.xml")
        + source("Elsewhere", "feed", f"{http_server.url}/tmp.xml"),
    )
    with Store(project.store_path) as store:
        moved, elsewhere = collect(project, store).sources
    assert moved.ok and moved.moved_to == f"{http_server.url}{FEED}"
    assert f"moved permanently to {http_server.url}{FEED}" in moved.notices[0]
    assert elsewhere.ok and elsewhere.moved_to is None and elsewhere.merged == 4


def gate(parties: int) -> threading.Barrier:
    return threading.Barrier(parties, timeout=10)


def test_sources_are_fetched_concurrently(tmp_path: Path, http_server: LocalServer) -> None:
    # Each answer waits until three requests are in flight at once: a collector that fetched
    # one source after the other would make the barrier break and the sources fail.
    barrier = gate(3)
    body = (http_server.root / FEED.lstrip("/")).read_bytes()  # type: ignore[operator]

    def together(request: BaseHTTPRequestHandler) -> Response:
        barrier.wait()
        return Response(body, 200, {"Content-Type": "application/rss+xml"})

    for n in range(3):
        http_server.routes[f"/f{n}.xml"] = together
    project = make_project(
        tmp_path,
        "".join(source(f"S{n}", "feed", f"{http_server.url}/f{n}.xml") for n in range(3)),
        "\n[collect]\nper_host = 3\n",
    )
    with Store(project.store_path) as store:
        report = collect(project, store)
    assert not report.failed and store_count(project) == 4


def store_count(project: Project) -> int:
    with Store(project.store_path) as store:
        return store.count()


def test_no_more_requests_per_host_than_allowed(tmp_path: Path, http_server: LocalServer) -> None:
    body = (http_server.root / FEED.lstrip("/")).read_bytes()  # type: ignore[operator]
    arrived = threading.Condition()

    def held(request: BaseHTTPRequestHandler) -> Response:
        # Hold each answer until a third request is in flight (which the limit forbids), or
        # half a second has passed: without the limit all four would be in flight together.
        with arrived:
            arrived.notify_all()
            arrived.wait_for(lambda: http_server.in_flight > 2, timeout=0.5)
        return Response(body, 200, {"Content-Type": "application/rss+xml"})

    for n in range(4):
        http_server.routes[f"/p{n}.xml"] = held
    project = make_project(
        tmp_path,
        "".join(source(f"S{n}", "feed", f"{http_server.url}/p{n}.xml") for n in range(4)),
        "\n[collect]\nper_host = 2\nconcurrency = 4\n",
    )
    with Store(project.store_path) as store:
        report = collect(project, store)
    assert not report.failed
    assert http_server.max_in_flight == 2


def test_a_failing_source_leaves_its_items_and_validators_untouched(
    tmp_path: Path, http_server: LocalServer
) -> None:
    good = (http_server.root / FEED.lstrip("/")).read_bytes()  # type: ignore[operator]
    answer = {"now": Response(good, 200, {"Content-Type": "application/rss+xml", "ETag": '"v1"'})}
    http_server.routes["/feed.xml"] = lambda request: answer["now"]
    project = feed_project(tmp_path, f"{http_server.url}/feed.xml", "\n[collect]\nretries = 0\n")
    with Store(project.store_path) as store:
        assert collect(project, store).sources[0].new == 4
        before = {i.id: i for i in store.items()}
        for broken in (
            Response(b"oops", 500),
            Response(b"<rss><channel><item><title>half", 200, {"ETag": '"v2"'}),
            Response(b"<html><body>maintenance</body></html>", 200, {"ETag": '"v3"'}),
        ):
            answer["now"] = broken
            entry = collect(project, store).sources[0]
            assert not entry.ok
            assert {i.id: i for i in store.items()} == before
            assert store.validators("News")[f"{http_server.url}/feed.xml"] == ('"v1"', None)


def test_retry_after_forms() -> None:
    assert retry_after("120") == 120.0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: at once
    assert retry_after("soon") is None and retry_after(None) is None
