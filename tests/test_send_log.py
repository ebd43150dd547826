"""The send log on SQLite and PostgreSQL: claims have owners, and only a gone owner loses them.

"Gone" is tested with real processes: one that exited, one killed and not yet reaped (a
zombie), and this process under another start time (a reused pid). Runs on another host are
judged by their lease, with an injected clock.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from newsletter.errors import StoreError
from newsletter.store.engine import create_engine
from newsletter.store.owner import Owner, holds
from newsletter.store.sendlog import Outcome, SendLog
from newsletter.store.sendrun import SendRun
from newsletter.store.url import parse
from tests.pgserver import Backend

ISSUE = "2020-10"


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def exited_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def sql(backend: Backend, statement: str, **params: Any) -> list[tuple[Any, ...]]:
    """Run one statement on the backend's database, as another program would."""
    engine = create_engine(parse(backend.url, Path("/"), "test"))
    try:
        with engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return [tuple(r) for r in result] if result.returns_rows else []
    finally:
        engine.dispose()


def add_run(backend: Backend, run: str, owner: Owner, expires: float) -> None:
    sql(
        backend,
        "INSERT INTO send_runs VALUES (:run, :issue, :host, :machine, :pid, :started, 'then',"
        " :expires)",
        run=run, issue=ISSUE, host=owner.host, machine=owner.machine, pid=owner.pid,
        started=owner.started, expires=expires,
    )  # fmt: skip


def add_row(backend: Backend, key: str, status: str, run: str) -> None:
    sql(
        backend,
        "INSERT INTO send_log (issue, recipient, status, via, updated, run_id)"
        " VALUES (:issue, :key, :status, 'smtp', 'then', :run)",
        issue=ISSUE, key=key, status=status, run=run,
    )  # fmt: skip


def test_a_claim_is_taken_once_even_by_two_runs_at_the_same_time(backend: Backend) -> None:
    path = backend.url
    first, second = SendRun(path, ISSUE), SendRun(path, ISSUE)
    try:
        assert first.claim(["a@x.org", "b@x.org"], "smtp") == ["a@x.org", "b@x.org"]
        assert second.claim(["a@x.org", "c@x.org"], "smtp") == ["c@x.org"]
        # --resend-uncertain does not take a live run's claims, nor its messages in doubt.
        assert first.hand_over(["a@x.org"]) == ["a@x.org"]
        assert second.claim(["a@x.org", "b@x.org"], "smtp", retake=("sending",)) == []
        assert second.hand_over(["a@x.org"]) == [], "only the holder hands a message over"
        with SendLog(path) as log:
            assert log.standing(ISSUE) == {"a@x.org": "busy", "b@x.org": "busy",
                                           "c@x.org": "busy"}  # fmt: skip
        other = SendRun(path, "2020-11")  # another issue is another key
        assert other.claim(["a@x.org"], "smtp") == ["a@x.org"]
        assert other.close() is None
    finally:
        assert first.close() is None and second.close() is None
    with SendLog(path) as log:
        # Ended runs: unsent claims are free again, the message in doubt is uncertain.
        assert log.statuses(ISSUE) == {"a@x.org": "sending", "b@x.org": "deferred",
                                       "c@x.org": "deferred"}  # fmt: skip
        assert log.standing(ISSUE)["a@x.org"] == "uncertain"
    assert sql(backend, "SELECT COUNT(*) FROM send_runs") == [(0,)]


def test_outcomes_and_what_a_rerun_may_take_again(backend: Backend) -> None:
    path = backend.url
    keys = ["sent@x.org", "failed@x.org", "deferred@x.org", "uncertain@x.org"]
    run = SendRun(path, ISSUE)
    assert run.claim(keys, "smtp", message_ids=["<1@x>", None, None, None]) == keys
    assert run.hand_over(keys) == keys
    assert run.take_back(["deferred@x.org"]) == ["deferred@x.org"]  # refused after all
    run.record(
        [
            Outcome("sent@x.org", "sent", "250 OK", "<1@x>"),
            Outcome("failed@x.org", "failed", "550 no such user"),
            Outcome("deferred@x.org", "deferred", "451 later"),
            Outcome("uncertain@x.org", "uncertain", "connection lost"),
        ]
    )
    with SendLog(path) as log:
        assert log.statuses(ISSUE) == {
            "sent@x.org": "sent",
            "failed@x.org": "failed",
            "deferred@x.org": "deferred",
            "uncertain@x.org": "sending",  # unknown stays in doubt: never resent by default
        }
        # Let go by its run at once, so it is uncertain even while that run goes on.
        assert log.standing(ISSUE)["uncertain@x.org"] == "uncertain"
    assert run.claim(keys, "smtp") == ["deferred@x.org"]
    assert run.claim(keys, "smtp", retake=("sending",)) == ["uncertain@x.org"]
    assert run.claim(keys, "smtp", retake=("failed",)) == ["failed@x.org"]
    run.release(["failed@x.org"], "could not connect")
    assert run.close() is None
    with SendLog(path) as log:
        details = {r: d for r, _, d in log.rows(ISSUE)}
        assert details["failed@x.org"] == "could not connect"
        assert details["deferred@x.org"] == "released: the run stopped before handing it over"
        attempts = log.attempts(ISSUE)
        assert attempts == {"sent@x.org": 1, "failed@x.org": 2, "deferred@x.org": 2,
                            "uncertain@x.org": 2}  # fmt: skip


def test_the_claims_of_a_process_that_died_are_free_and_its_doubts_uncertain(
    backend: Backend,
) -> None:
    path = backend.url
    with SendLog(path):
        pass  # the tables
    here = Owner.current()
    dead = Owner(here.host, here.machine, exited_pid(), "1")
    add_run(backend, "dead", dead, expires=time.time() + 3600)  # a lease does not keep it alive
    for key, status in [("a@x.org", "claimed"), ("b@x.org", "sending")]:
        add_row(backend, key, status, "dead")
    with SendLog(path) as log:
        assert log.standing(ISSUE) == {"a@x.org": "deferred", "b@x.org": "uncertain"}
    run = SendRun(path, ISSUE)  # a new run tidies up after the dead one
    try:
        with SendLog(path) as log:
            assert log.statuses(ISSUE) == {"a@x.org": "deferred", "b@x.org": "sending"}
            assert sql(backend, "SELECT id FROM send_runs") == [(run.id,)]
        assert run.claim(["a@x.org", "b@x.org"], "smtp") == ["a@x.org"]
        assert run.claim(["b@x.org"], "smtp", retake=("sending",)) == ["b@x.org"]
    finally:
        run.close()


def test_a_killed_process_not_yet_reaped_and_a_reused_pid_are_gone() -> None:
    here = Owner.current()
    now = time.time()
    assert holds(here, 0.0, here=here, now=now), "this process, whatever its lease"
    reused = Owner(here.host, here.machine, here.pid, here.started + "0")
    assert not holds(reused, now + 3600, here=here, now=now)
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        child = Owner(here.host, here.machine, proc.pid, "")
        assert holds(child, 0.0, here=here, now=now)
        os.kill(proc.pid, signal.SIGKILL)
        wait_for(lambda: "Z" in Path(f"/proc/{proc.pid}/stat").read_text().split(")")[1][:3])
        assert not holds(child, now + 3600, here=here, now=now), "a zombie holds nothing"
    finally:
        proc.kill()
        proc.wait()


def test_a_run_on_another_host_holds_its_claims_while_its_lease_lasts(backend: Backend) -> None:
    path = backend.url
    clock = {"now": 1_000_000.0}
    with SendLog(path):
        pass
    elsewhere = Owner("other-host", "boot/pid:[1]", os.getpid(), "1")
    add_run(backend, "far", elsewhere, expires=clock["now"] + 30)
    add_row(backend, "a@x.org", "claimed", "far")
    with SendLog(path, clock=lambda: clock["now"]) as log:
        assert log.standing(ISSUE) == {"a@x.org": "busy"}
        assert log.claim(ISSUE, ["a@x.org"], "smtp", run="mine") == []
        clock["now"] += 31  # no heartbeat for longer than the lease
        assert log.standing(ISSUE) == {"a@x.org": "deferred"}
        assert log.claim(ISSUE, ["a@x.org"], "smtp", run="mine") == ["a@x.org"]
        # The far run, if it was only cut off, can no longer hand the message over.
        assert log.hand_over(ISSUE, ["a@x.org"], "far") == []


def test_the_heartbeat_moves_the_lease_on_and_notices_a_run_ended_as_gone(
    backend: Backend,
) -> None:
    run = SendRun(backend.url, ISSUE, lease=0.3)  # beats every 0.1 s
    try:

        def expires() -> float:
            return float(sql(backend, "SELECT expires FROM send_runs")[0][0])

        first = expires()
        wait_for(lambda: expires() > first)
        sql(backend, "DELETE FROM send_runs")  # as another run does with a gone one
        wait_for(lambda: run.lost)
    finally:
        run.close()


def test_a_log_from_before_owners_is_upgraded_and_its_sending_rows_are_uncertain(
    tmp_path: Path,
) -> None:
    path = tmp_path / "store.db"
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE send_log (
            issue TEXT NOT NULL, recipient TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed', 'deferred')),
            via TEXT NOT NULL, message_id TEXT, attempts INTEGER NOT NULL DEFAULT 0,
            detail TEXT, updated TEXT NOT NULL, PRIMARY KEY (issue, recipient));
        INSERT INTO send_log VALUES ('2020-10', 'a@x.org', 'sending', 'smtp', '<1@x>', 1,
                                     NULL, 'then');
        INSERT INTO send_log VALUES ('2020-10', 'b@x.org', 'sent', 'smtp', '<2@x>', 1,
                                     '250 OK', 'then');
        """
    )
    db.close()
    with SendLog(path) as log:
        assert log.standing(ISSUE) == {"a@x.org": "uncertain", "b@x.org": "sent"}
        assert log.rows(ISSUE) == [("a@x.org", "sending", None), ("b@x.org", "sent", "250 OK")]
    run = SendRun(path, ISSUE)
    assert run.claim(["a@x.org", "c@x.org"], "smtp") == ["c@x.org"]
    run.close()


def test_a_store_failure_keeps_the_answers_to_write_when_the_run_ends(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    run = SendRun(path, ISSUE)
    run.claim(["a@x.org"], "smtp")
    run.hand_over(["a@x.org"])
    holder = sqlite3.connect(path, timeout=0, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    with run.log.engine.connect() as conn:  # the log's one pooled connection waits briefly
        conn.exec_driver_sql("PRAGMA busy_timeout = 50")
    with pytest.raises(StoreError, match="cannot record what the server answered"):
        run.record([Outcome("a@x.org", "sent", "250 OK")])
    assert [o.key for o in run.unrecorded] == ["a@x.org"]
    holder.execute("ROLLBACK")
    holder.close()
    assert run.close() is None and run.unrecorded == []
    with SendLog(path) as log:
        assert log.statuses(ISSUE) == {"a@x.org": "sent"}
