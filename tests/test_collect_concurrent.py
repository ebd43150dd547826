"""Two collects at once: the store never inserts a story twice, and a second run says why it
stops instead of failing half-way."""

from __future__ import annotations

import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from newsletter.collect.lock import collect_lock
from newsletter.errors import StoreError
from newsletter.store import Store
from tests.conftest import FIXTURES, LocalServer, Response, write_project
from tests.pgserver import Backend
from tests.test_collect_store import story


def test_two_writers_that_both_saw_an_empty_store_store_each_story_once(backend: Backend) -> None:
    """Two runs (two machines, on PostgreSQL) that both read the store before either wrote."""
    with Store(backend.url) as first, Store(backend.url) as second:
        # Both runs loaded what was stored (nothing) before either wrote.
        first.index()
        second.index()
        assert first.write_source("Feed", [story(1), story(2)]).new == 2
        result = second.write_source("Feed", [story(1), story(2), story(3)])
        assert (result.new, result.unchanged) == (1, 2)
        mirror = second.write_source("Mirror", [story(1, "Mirror")])
        assert mirror.merged == 1
        # ...and the first connection sees what the second one stored in turn.
        assert first.write_source("Feed", [story(3)]).unchanged == 1
        assert first.count() == 3
        stored = first.get("id1-Feed")
        assert stored is not None and stored.sources == ["Feed", "Mirror"]


def test_the_collect_lock_is_held_by_one_run_at_a_time(tmp_path: Path) -> None:
    with collect_lock(tmp_path):
        try:
            with collect_lock(tmp_path):
                raise AssertionError("a second holder got the lock")
        except StoreError as exc:
            assert "another collect is running" in exc.message
            assert exc.hint and "wait for it to finish" in exc.hint
    with collect_lock(tmp_path):  # released when the first run ended
        pass


def test_a_second_collect_process_stops_with_a_clear_message(tmp_path: Path) -> None:
    feed = (FIXTURES / "feeds/mixed-months.xml").read_bytes()
    requested, release = threading.Event(), threading.Event()

    def stalled(_: BaseHTTPRequestHandler) -> Response:
        requested.set()
        release.wait(30)
        return Response(feed, 200, {"Content-Type": "application/rss+xml"})

    with LocalServer() as server:
        server.routes["/feed.xml"] = stalled
        root = write_project(
            tmp_path, [{"name": "News", "kind": "feed", "url": f"{server.url}/feed.xml"}]
        )
        command = [sys.executable, "-m", "newsletter", "collect"]
        first = subprocess.Popen(
            command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            assert requested.wait(30), "the first collect never fetched its feed"
            second = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=60)
            release.set()
            out, err = first.communicate(timeout=60)
        finally:
            release.set()
            if first.poll() is None:
                first.kill()
                first.wait()
    assert second.returncode == StoreError.exit_code, second.stdout + second.stderr
    message = second.stdout + second.stderr
    assert "another collect is running on this project" in message
    assert f"process {first.pid}" in message and "wait for it to finish" in message
    assert "UNIQUE" not in message and "Traceback" not in message
    assert first.returncode == 0, out + err
    with Store(root / ".newsletter" / "store.db") as store:
        assert store.count() == 4
