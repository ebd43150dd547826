"""A collect that is killed leaves no process behind: its feed-parsing workers, their fork
server and multiprocessing's resource tracker all end with it (real processes, checked in
/proc)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from newsletter.store import Store
from tests.conftest import FIXTURES, LocalServer, Response, write_project

pytestmark = [
    pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc"),
    pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the parser pool needs two cores"),
]
FEEDS = 9  # with the stalled one, more than parallel.MIN_FEEDS web feeds


def marked(mark: str) -> dict[int, str]:
    """Every process whose environment carries ``mark`` (the collect and all it started)."""
    found = {}
    needle = f"NEWSLETTER_TEST_MARK={mark}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes():
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:  # gone meanwhile, or not ours
            continue
    return {pid: cmd.decode(errors="replace") for pid, cmd in found.items()}


def wait_for(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def running_collect(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str, Path]]:
    """A `newsletter collect` over local feeds, its worker processes started, stalled on its
    last feed; survivors are killed afterwards whatever the test found."""
    feed = (FIXTURES / "feeds/mixed-months.xml").read_bytes()
    release = threading.Event()

    def stalled(_: BaseHTTPRequestHandler) -> Response:
        release.wait(60)
        return Response(feed, 200, {"Content-Type": "application/rss+xml"})

    mark = uuid.uuid4().hex
    with LocalServer(FIXTURES) as server:
        server.routes["/stalled.xml"] = stalled
        sources = [
            {"name": f"Feed {n}", "kind": "feed", "url": f"{server.url}/feeds/mixed-months.xml?{n}"}
            for n in range(FEEDS)
        ]
        sources.append({"name": "Stalled", "kind": "feed", "url": f"{server.url}/stalled.xml"})
        root = write_project(tmp_path, sources)
        with (root / "newsletter.toml").open("a") as config:
            config.write("\n[collect]\nworkers = 2\n")
        log = (tmp_path / "collect.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "newsletter", "collect"],
            cwd=root,
            env={**os.environ, "NEWSLETTER_TEST_MARK": mark},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            started = wait_for(
                lambda: sum("forkserver" in cmd for cmd in marked(mark).values()) >= 3, 60
            )
            assert started, f"the fork server and two workers never started: {marked(mark)}"
            yield process, mark, root
        finally:
            release.set()
            if process.poll() is None:
                process.kill()
            process.wait()
            log.close()
            for pid in marked(mark):
                os.kill(pid, signal.SIGKILL)


def test_sigkill_leaves_no_process_behind(
    running_collect: tuple[subprocess.Popen[bytes], str, Path],
) -> None:
    process, mark, _ = running_collect
    process.kill()
    process.wait()
    assert wait_for(lambda: not marked(mark), 20), f"still running: {marked(mark)}"


def test_sigterm_stops_collect_keeps_what_it_stored_and_leaves_no_process(
    running_collect: tuple[subprocess.Popen[bytes], str, Path],
) -> None:
    process, mark, root = running_collect
    with Store(root / ".newsletter" / "store.db") as store:
        assert wait_for(lambda: store.count() == 4, 30)  # the feeds before the stalled one
    process.terminate()
    assert process.wait(60) == 128 + signal.SIGTERM
    assert wait_for(lambda: not marked(mark), 20), f"still running: {marked(mark)}"
    output = (root / "collect.log").read_text()
    assert "collect stopped (SIGTERM); the sources stored so far are kept" in output
    assert "Traceback" not in output
    with Store(root / ".newsletter" / "store.db") as store:
        assert store.count() == 4
