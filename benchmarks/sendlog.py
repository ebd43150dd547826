"""Send-log claims: what the send log costs per recipient, on the backend in effect.

Timed: 2,000 recipients (500 in quick mode) through one ``SendRun``, the way ``newsletter
send`` drives it over ``CONNECTIONS`` SMTP connections: each connection, per message, commits
one step (the previous message's answer, ``sending`` for the message about to get its final
".", the claim of the next) and waits until it is on disk. The run's writer thread joins the
steps that are waiting into one durable transaction (group commit). Two rows: one connection
(one commit per message, nothing to join) and ``CONNECTIONS`` at once.

The store is a fresh SQLite file, or the PostgreSQL database that ``NEWSLETTER_DATABASE_URL``
names (its send log is emptied first; ``newsletter db upgrade`` must have run there). Target:
at least 200 recipients/s with the default connections, far above what a mail server takes
from one sender.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.harness import Row, make_row, repeats

RECIPIENTS = 2_000
RECIPIENTS_QUICK = 500
CONNECTIONS = 4  # [smtp] connections' default
TARGET_PER_S = 200.0


def one_send(target: str | Path, count: int, issue: str, connections: int) -> float:
    """Seconds for ``count`` recipients over ``connections`` senders sharing one run."""
    from newsletter.store.sendlog import Outcome, Step
    from newsletter.store.sendrun import SendRun

    run = SendRun(target, issue)
    keys = iter(f"r{n:06d}@example.org" for n in range(count))
    lock = threading.Lock()

    def take() -> str | None:
        with lock:
            return next(keys, None)

    def sender() -> None:
        sending: str | None = None
        following = take()
        run.commit(Step(claim=(following,) if following else ()))
        while sending or following:
            record = (Outcome(sending, "sent", "250 OK", f"<{sending}>"),) if sending else ()
            sending, following = following, take()
            step = Step(
                record=record,
                hand_over=(sending,) if sending else (),
                claim=(following,) if following else (),
            )
            done = run.commit(step)
            assert not sending or done.handed == [sending]

    start = time.perf_counter()
    try:
        threads = [threading.Thread(target=sender) for _ in range(connections)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        run.close()
    return time.perf_counter() - start


def run(quick: bool) -> list[Row]:
    from sqlalchemy import delete

    from newsletter.store.db import Database, database_url
    from newsletter.store.schema import send_log, send_runs

    count = RECIPIENTS_QUICK if quick else RECIPIENTS
    configured = os.environ.get("NEWSLETTER_DATABASE_URL", "").strip()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-sendlog-") as tmp:
        target: str | Path = configured or Path(tmp) / "store.db"
        backend = database_url(target).backend
        for connections in (1, CONNECTIONS):
            times = []
            for attempt in range(repeats(quick)):
                with Database(target) as db, db.transaction() as conn:
                    conn.execute(delete(send_log))
                    conn.execute(delete(send_runs))
                issue = f"2024-{attempt + 1:02d}"
                times.append(one_send(target, count, issue, connections))
            ours = sorted(times)[len(times) // 2]
            rate = count / ours
            rows.append(
                make_row(
                    f"sendlog claims ({count:,} recipients, {backend}, "
                    f"{connections} connection{'s' if connections > 1 else ''})",
                    ours,
                    None,
                    f"at least {TARGET_PER_S:.0f} recipients/s"
                    + (" (default connections)" if connections == CONNECTIONS else ""),
                    met=rate >= TARGET_PER_S if connections == CONNECTIONS else None,
                    vs="none: an absolute target (the send log alone, no mail)",
                    note=f"{rate:,.0f} recipients/s: claim, hand over and record in one "
                    f"group-committed step per message, on {backend}",
                )
            )
    return rows
