"""Send-log claims: what the send log costs per recipient, on the backend in effect.

Timed: for each of 2,000 recipients (500 in quick mode), what a send does around one
message: claim it, hand it over (``sending``, committed before the message's final "."),
record the answer (``sent``). Three durable transactions per recipient, through ``SendRun``
as ``newsletter send`` uses it. Two sends at once on PostgreSQL take turns in the same way.

The store is a fresh SQLite file, or the PostgreSQL database that ``NEWSLETTER_DATABASE_URL``
names (its send log is emptied first; ``newsletter db upgrade`` must have run there). Target:
at least 200 recipients/s, far above what a mail server takes from one sender.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from benchmarks.harness import Row, make_row, repeats

RECIPIENTS = 2_000
RECIPIENTS_QUICK = 500
TARGET_PER_S = 200.0


def one_send(target: str | Path, count: int, issue: str) -> float:
    from newsletter.store.sendlog import Outcome
    from newsletter.store.sendrun import SendRun

    run = SendRun(target, issue)
    start = time.perf_counter()
    try:
        for n in range(count):
            key = f"r{n:06d}@example.org"
            assert run.claim([key], "smtp") == [key]
            run.hand_over([key])
            run.record([Outcome(key, "sent", "250 OK", f"<{n}@bench>")])
    finally:
        run.close()
    return time.perf_counter() - start


def run(quick: bool) -> Row:
    from sqlalchemy import delete

    from newsletter.store.db import Database, database_url
    from newsletter.store.schema import send_log, send_runs

    count = RECIPIENTS_QUICK if quick else RECIPIENTS
    configured = os.environ.get("NEWSLETTER_DATABASE_URL", "").strip()
    with tempfile.TemporaryDirectory(prefix="bench-sendlog-") as tmp:
        target: str | Path = configured or Path(tmp) / "store.db"
        backend = database_url(target).backend
        times = []
        for attempt in range(repeats(quick)):
            with Database(target) as db, db.transaction() as conn:
                conn.execute(delete(send_log))
                conn.execute(delete(send_runs))
            times.append(one_send(target, count, f"2024-{attempt + 1:02d}"))
    ours = sorted(times)[len(times) // 2]
    rate = count / ours
    return make_row(
        f"sendlog claims ({count:,} recipients, {backend})",
        ours,
        None,
        f"at least {TARGET_PER_S:.0f} recipients/s",
        met=rate >= TARGET_PER_S,
        note=f"{rate:,.0f} recipients/s: claim, hand over and record, three durable "
        f"transactions each, on {backend}",
    )
