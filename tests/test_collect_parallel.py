"""Feeds parsed in worker processes give exactly what parsing in-process gives."""

from __future__ import annotations

from pathlib import Path

from newsletter.collect import CollectReport, collect
from newsletter.collect.parallel import pool_size
from newsletter.config import CollectSettings
from newsletter.models import NewsItem
from newsletter.project import Project
from newsletter.store import Store
from tests.conftest import REPO, LocalServer, Response
from tests.factories import collect_project as make_project
from tests.factories import source

FEEDS = [
    "/tests/fixtures/feeds/atom.xml",
    "/tests/fixtures/feeds/rss10.rdf",
    "/tests/fixtures/feeds/rss091.xml",
    "/tests/fixtures/feeds/mixed-months.xml",
    "/tests/fixtures/feeds/hostile.xml",
    "/sources/cluster/feed.xml",
]


def run(project: Project) -> tuple[CollectReport, list[NewsItem]]:
    with Store(project.store_path) as store:
        return collect(project, store), store.items()


def test_workers_store_the_same_items_and_errors_as_in_process(tmp_path: Path) -> None:
    with LocalServer(REPO) as server:
        server.routes["/empty.xml"] = Response(b"  ", 200, {"Content-Type": "application/xml"})
        server.routes["/page.xml"] = Response(
            b"<!doctype html><html><body><p>Hello</p></body></html>",
            200,
            {"Content-Type": "text/html"},
        )
        urls = [f"{server.url}{path}" for path in FEEDS]
        urls += [f"{server.url}/empty.xml", f"{server.url}/page.xml"]
        sources = "".join(source(f"Feed {n}", "feed", url) for n, url in enumerate(urls))
        results = {}
        for workers in (1, 2):
            project = make_project(
                tmp_path / f"w{workers}", sources, f"\n[collect]\nworkers = {workers}\n"
            )
            results[workers] = run(project)
    (report1, items1), (report2, items2) = results[1], results[2]
    assert len(items1) > 10
    assert [i.model_dump() for i in items2] == [i.model_dump() for i in items1]
    failed = [(s.name, s.error, s.hint) for s in report1.failed]
    assert [s.name for s in report1.failed] == ["Feed 6", "Feed 7"]
    assert [(s.name, s.error, s.hint) for s in report2.failed] == failed
    assert "empty document" in (report2.failed[0].error or "")
    assert "HTML page" in (report2.failed[1].error or "")
    assert [(s.name, s.new, s.notices, s.skipped) for s in report2.sources] == [
        (s.name, s.new, s.notices, s.skipped) for s in report1.sources
    ]


def test_the_pool_is_only_used_for_several_web_feeds_on_several_cores() -> None:
    import os

    cores = os.cpu_count() or 1
    auto = CollectSettings()
    assert pool_size(auto, 3) == 0
    assert pool_size(auto, 50) == (cores if cores > 1 else 0)
    assert pool_size(CollectSettings(workers=1), 50) == 0
    assert pool_size(CollectSettings(workers=0), 50) == 0
    assert pool_size(CollectSettings(workers=64), 1) == (cores if cores > 1 else 0)
