"""A team's shared PostgreSQL store through the real command line.

Two `send` processes at once reach each recipient exactly once (counted at a real SMTP
server); a SIGKILLed `collect` or `send` loses nothing stored before and a rerun completes;
`db copy` moves the sample project's SQLite store to PostgreSQL, and a `send` there skips
everyone the SQLite send log had already sent.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from newsletter.store import Store
from newsletter.store.sendlog import SendLog
from tests.conftest import FIXTURES, REPO, LocalServer, Response, write_project
from tests.factories import audience
from tests.factories import send_project as make_project
from tests.pgserver import Backend
from tests.test_send_smtp import SmtpServer

pytestmark = pytest.mark.postgresql
SECRET = "pg-test-secret-0123456789"
ENV = {"NEWSLETTER_SECRET": SECRET, "PYTHONPATH": str(REPO), "COLUMNS": "200"}


def cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newsletter", *args],
        cwd=cwd, capture_output=True, text=True, timeout=300,
        env={**os.environ, **ENV, **env},
    )  # fmt: skip


def popen(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "newsletter", *args],
        cwd=cwd, env={**os.environ, **ENV}, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def sent_count(stdout: str) -> int:
    match = re.search(r"│ sent\s+│\s+(\d+) │", stdout)
    assert match, stdout
    return int(match.group(1))


def wait_for(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_two_send_processes_on_one_database_reach_each_recipient_once(
    tmp_path: Path, pg_store: Backend
) -> None:
    addresses = [f"reader{i:04d}@example.org" for i in range(2000)]
    path = audience(tmp_path / "audience.csv", addresses)
    with SmtpServer() as server:
        project = make_project(tmp_path / "p", server.port).root
        args = ("send", "2020-10", "--via", "smtp", "--audience", str(path), "--yes")
        first, second = popen(*args, cwd=project), popen(*args, cwd=project)
        (out1, err1), (out2, err2) = first.communicate(timeout=600), second.communicate(timeout=600)
        assert first.returncode == 0, err1
        assert second.returncode == 0, err2
        counted = server.handler.count()
    assert counted == Counter(addresses), "every recipient exactly one message"
    one, two = sent_count(out1), sent_count(out2)
    assert one + two == 2000 and one > 0 and two > 0, (one, two)
    with SendLog(pg_store.url) as log:
        assert log.counts("2020-10") == {"sent": 2000}


def test_a_killed_send_on_postgresql_resumes_and_sends_each_once(
    tmp_path: Path, pg_store: Backend
) -> None:
    addresses = [f"k{i:02d}@example.org" for i in range(20)]
    path = audience(tmp_path / "a.csv", addresses)
    with SmtpServer() as server:
        # One connection: the kill lands at one exact point (tests/test_send_lanes.py kills
        # sends over four; the two-process test above uses the default four).
        project = make_project(tmp_path / "p", server.port, connections=1).root
        args = ("send", "2020-10", "--via", "smtp", "--audience", str(path), "--yes")
        proc = popen(*args, cwd=project)
        # The server takes the 7th message, then kills the sender before it hears "250".
        server.handler.on_message = lambda n: os.kill(proc.pid, signal.SIGKILL) if n == 7 else None
        proc.communicate(timeout=120)
        assert proc.returncode == -signal.SIGKILL
        server.handler.on_message = None
        with SendLog(pg_store.url) as log:
            # Nothing lost: the 7th in doubt; the 8th claimed with the 7th's hand-over but not
            # sent, so it is free for the next run.
            assert log.counts("2020-10") == {"sent": 6, "sending": 1, "claimed": 1}
        rerun = cli(*args, cwd=project)
        assert rerun.returncode == 0, rerun.stderr
        assert "Uncertain from an interrupted run: 1" in rerun.stdout
        assert server.handler.count() == Counter(addresses), "each exactly once"
    with SendLog(pg_store.url) as log:
        assert log.counts("2020-10") == {"sent": 19, "sending": 1}


def test_a_killed_collect_on_postgresql_keeps_what_it_stored_and_a_rerun_completes(
    tmp_path: Path, pg_store: Backend
) -> None:
    feed = (FIXTURES / "feeds/mixed-months.xml").read_bytes()
    slow_feed = (FIXTURES / "feeds/atom.xml").read_bytes()
    release = threading.Event()

    def stalled(_: BaseHTTPRequestHandler) -> Response:
        release.wait(60)
        return Response(slow_feed, 200, {"Content-Type": "application/atom+xml"})

    with LocalServer() as server:
        server.routes["/fast.xml"] = Response(feed, 200, {"Content-Type": "application/rss+xml"})
        server.routes["/slow.xml"] = stalled
        root = write_project(
            tmp_path / "p",
            [
                {"name": "Fast", "kind": "feed", "url": f"{server.url}/fast.xml"},
                {"name": "Slow", "kind": "feed", "url": f"{server.url}/slow.xml"},
            ],
        )
        proc = popen("collect", cwd=root)
        try:
            with Store(pg_store.url) as store:
                wait_for(lambda: store.count() > 0)  # the fast source is stored...
                before = {i.id for i in store.items()}
            os.kill(proc.pid, signal.SIGKILL)  # ...and the run is killed waiting for the slow one
            proc.communicate(timeout=60)
        finally:
            release.set()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        with Store(pg_store.url) as store:
            assert {i.id for i in store.items()} == before, "nothing stored before is lost"
        rerun = cli("collect", cwd=root)
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        again = cli("collect", cwd=root)
        assert again.returncode == 0 and "0 new" in again.stdout, again.stdout
    with Store(pg_store.url) as store:
        ids = {i.id for i in store.items()}
        assert before < ids  # the slow source's stories came on the rerun
        assert {s for i in store.items() for s in i.sources} == {"Fast", "Slow"}


def test_db_copy_moves_the_sample_store_and_send_there_skips_who_was_sent(
    tmp_path: Path, sample_project: Path, pg_store: Backend
) -> None:
    addresses = [f"s{i:02d}@example.org" for i in range(8)]
    path = audience(tmp_path / "a.csv", addresses)
    with SmtpServer() as server:
        project = make_project(tmp_path / "p", server.port).root
        for folder in ("sources",):
            os.symlink(sample_project / folder, project / folder)
        sqlite = {"NEWSLETTER_DATABASE_URL": ""}  # the project's own .newsletter/store.db
        assert cli("collect", cwd=project, **sqlite).returncode == 0
        # Half the audience was sent from SQLite; one address unsubscribed meanwhile.
        half = audience(tmp_path / "half.csv", addresses[:4])
        sent = cli("send", "2020-10", "--via", "smtp", "--audience", str(half), "--yes",
                   cwd=project, **sqlite)  # fmt: skip
        assert sent.returncode == 0, sent.stderr
        suppressed = cli("suppress", "add", addresses[7], "--reason", "unsubscribed",
                         cwd=project, **sqlite)  # fmt: skip
        assert suppressed.returncode == 0, suppressed.stderr
        with Store(project / ".newsletter" / "store.db") as store:
            stories = store.count()
        copied = cli("db", "copy", "--to", pg_store.url, cwd=project, **sqlite)
        assert copied.returncode == 0, copied.stderr
        assert f"{stories} items" in copied.stdout and "4 send_log" in copied.stdout
        with Store(pg_store.url) as store:
            assert store.count() == stories
        # Now on PostgreSQL (NEWSLETTER_DATABASE_URL points there): the rest, once.
        rest = cli("send", "2020-10", "--via", "smtp", "--audience", str(path), "--yes",
                   cwd=project)  # fmt: skip
        assert rest.returncode == 0, rest.stderr
        assert "Already sent earlier: 4" in rest.stdout and "1 suppressed" in rest.stdout
        assert server.handler.count() == Counter(addresses[:7])
    with SendLog(pg_store.url) as log:
        assert log.counts("2020-10") == {"sent": 7}
