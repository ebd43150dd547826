"""The send log: one row per (issue, recipient), the memory that makes sending exactly-once.

It lives in the project's store file (``.newsletter/store.db``) on its own connection, with
``synchronous=FULL`` so that a row written before a crash or power cut is really on disk.

Every ``send`` is a *run* (``send_runs``): its owner (host, process) and a lease that a
heartbeat renews while the process is alive (see ``store/owner.py`` for how "alive" is told).
Life of a row:

- ``claimed``: a run has taken the recipient, after any ``--rate`` pacing and with its
  connection to the server ready. Nothing has been handed over yet: if the run dies, the
  claim is simply free again. While the run is alive, no other run can take it.
- ``sending``: committed right before the point of no return (SMTP: just before the final
  "." of the message; SES: just before the request), and turned back into ``claimed`` when
  the server refuses. This is the only state in which the server may have accepted the
  message without our knowing.
- ``sent`` after the server accepted it, ``failed`` after a permanent refusal, ``deferred``
  after temporary refusals ran out of retries (or a claim was released unsent).

A rerun sends to everyone without a row and retries ``deferred`` ones (and free claims). It
never repeats ``sent`` rows. A ``sending`` row whose run is gone (or that its run found in
doubt: the connection was lost while waiting for the server's answer) is *uncertain*: the
server may or may not have accepted it. We choose at-most-once for that window (a subscriber
must never get an issue twice), so such rows are reported and resent only on request
(``--resend-uncertain``), and even then never while the run that holds them is alive.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from newsletter.store.db import Database
from newsletter.store.owner import Owner, holds

Status = Literal["claimed", "sending", "sent", "failed", "deferred"]
# How a recipient stands for a new run: "busy" is held by another run that is alive.
Standing = Literal["sent", "failed", "deferred", "uncertain", "busy"]

SEND_LOG = """
CREATE TABLE IF NOT EXISTS send_log (
    issue       TEXT NOT NULL,
    recipient   TEXT NOT NULL,          -- the address, lower-cased
    status      TEXT NOT NULL
                CHECK (status IN ('claimed', 'sending', 'sent', 'failed', 'deferred')),
    via         TEXT NOT NULL,
    message_id  TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    detail      TEXT,
    updated     TEXT NOT NULL,
    run_id      TEXT,                   -- the run holding a claimed or sending row, else NULL
    PRIMARY KEY (issue, recipient)
);
"""
SCHEMA = (
    SEND_LOG
    + """
CREATE TABLE IF NOT EXISTS send_runs (
    id       TEXT PRIMARY KEY,
    issue    TEXT NOT NULL,
    host     TEXT NOT NULL,
    machine  TEXT NOT NULL,             -- boot id and pid namespace (store/owner.py)
    pid      INTEGER NOT NULL,
    started  TEXT NOT NULL,             -- the process's start time, to spot a reused pid
    since    TEXT NOT NULL,
    expires  REAL NOT NULL              -- unix time; the heartbeat moves it on
);
"""
)
_COLUMNS = "issue, recipient, status, via, message_id, attempts, detail, updated"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Outcome:
    """What happened to one recipient's message (``skipped``: another run holds it now)."""

    key: str
    status: Literal["sent", "failed", "deferred", "uncertain", "skipped"]
    detail: str = ""
    message_id: str | None = None


class SendLog(Database):
    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.here = Owner.current()
        super().__init__(path, SCHEMA, durable=True, what="the send log")

    def migrate(self) -> None:
        """Logs written before runs had owners: rebuilt with ``run_id`` (old claims: none)."""
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(send_log)")}
        if "run_id" not in columns:
            with self.transaction("update the send log to this version"):
                self.db.execute("ALTER TABLE send_log RENAME TO send_log_old")
                self.db.execute(SEND_LOG)
                self.db.execute(
                    f"INSERT INTO send_log ({_COLUMNS}) SELECT {_COLUMNS} FROM send_log_old"
                )
                self.db.execute("DROP TABLE send_log_old")
        self.db.execute("CREATE INDEX IF NOT EXISTS send_log_run ON send_log (run_id)")

    # -- reading ------------------------------------------------------------------------------

    def statuses(self, issue: str) -> dict[str, Status]:
        rows = self.db.execute(
            "SELECT recipient, status FROM send_log WHERE issue = ?", (issue,)
        ).fetchall()
        return {r: s for r, s in rows}

    def counts(self, issue: str) -> dict[str, int]:
        rows = self.db.execute(
            "SELECT status, COUNT(*) FROM send_log WHERE issue = ? GROUP BY status", (issue,)
        ).fetchall()
        return {s: int(n) for s, n in rows}

    def first_sent(self) -> dict[str, str]:
        """When each issue's first message was accepted (ISO 8601, UTC), oldest issue first."""
        rows = self.db.execute(
            "SELECT issue, MIN(updated) FROM send_log WHERE status = 'sent' "
            "GROUP BY issue ORDER BY issue"
        ).fetchall()
        return {issue: str(first) for issue, first in rows}

    def rows(self, issue: str) -> list[tuple[str, str, str | None]]:
        return [
            (r, s, d)
            for r, s, d in self.db.execute(
                "SELECT recipient, status, detail FROM send_log WHERE issue = ? ORDER BY recipient",
                (issue,),
            )
        ]

    def standing(self, issue: str) -> dict[str, Standing]:
        """Every logged recipient of ``issue`` as a new run sees it (nothing is written)."""
        alive = self._alive()
        out: dict[str, Standing] = {}
        for key, status, run in self.db.execute(
            "SELECT recipient, status, run_id FROM send_log WHERE issue = ?", (issue,)
        ).fetchall():
            held = run is not None and alive.get(run, False)
            if status == "claimed":
                out[key] = "busy" if held else "deferred"
            elif status == "sending":
                out[key] = "busy" if held else "uncertain"
            else:
                out[key] = status
        return out

    def _alive(self) -> dict[str, bool]:
        """Which runs still hold their claims, by run id."""
        now = self.clock()
        return {
            run: holds(Owner(host, machine, pid, started), expires, here=self.here, now=now)
            for run, host, machine, pid, started, expires in self.db.execute(
                "SELECT id, host, machine, pid, started, expires FROM send_runs"
            ).fetchall()
        }

    # -- runs ---------------------------------------------------------------------------------

    def start_run(self, run: str, issue: str, lease: float) -> None:
        """Register this process's run, and free what runs that are gone left behind."""
        me = self.here
        with self.transaction("start a run in the send log"):
            for gone, is_alive in self._alive().items():
                if not is_alive:
                    self._end(gone, "the run that claimed it stopped before handing it over")
            self.db.execute(
                "INSERT INTO send_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (run, issue, me.host, me.machine, me.pid, me.started, _now(),
                 self.clock() + lease),
            )  # fmt: skip

    def renew(self, run: str, lease: float) -> bool:
        """Move the run's lease on; False when the run was ended (by itself or as gone)."""
        with self.transaction("renew the run's lease in the send log"):
            cursor = self.db.execute(
                "UPDATE send_runs SET expires = ? WHERE id = ?", (self.clock() + lease, run)
            )
        return cursor.rowcount == 1

    def end_run(self, run: str) -> None:
        """Claims the run still holds become free (``deferred``), messages in doubt uncertain."""
        with self.transaction("end the run in the send log"):
            self._end(run, "released: the run stopped before handing it over")

    def _end(self, run: str, detail: str) -> None:
        now = _now()
        self.db.execute(
            "UPDATE send_log SET status = 'deferred', run_id = NULL, detail = ?, updated = ?"
            " WHERE run_id = ? AND status = 'claimed'",
            (detail, now, run),
        )
        self.db.execute(
            "UPDATE send_log SET run_id = NULL, updated = ? WHERE run_id = ?", (now, run)
        )
        self.db.execute("DELETE FROM send_runs WHERE id = ?", (run,))

    # -- claims -------------------------------------------------------------------------------

    def claim(
        self,
        issue: str,
        keys: Sequence[str],
        via: str,
        *,
        run: str,
        retake: Iterable[Status] = ("deferred",),
        message_ids: Sequence[str | None] | None = None,
    ) -> list[str]:
        """Mark ``keys`` as ``claimed`` by ``run``, atomically; returns those it now holds.

        A key is free when it has no row, its status is in ``retake``, or it is ``claimed``
        by a run that is gone. A row held by a run that is alive is never taken, and a
        ``sending`` one only when ``retake`` has ``sending`` (``--resend-uncertain``).
        """
        retake = tuple(retake)
        ids = list(message_ids) if message_ids is not None else [None] * len(keys)
        claimed = []
        now = _now()
        with self.transaction("claim recipients in the send log"):
            alive = self._alive()
            for key, mid in zip(keys, ids, strict=True):
                row = self.db.execute(
                    "SELECT status, run_id FROM send_log WHERE issue = ? AND recipient = ?",
                    (issue, key),
                ).fetchone()
                if row is not None:
                    status, holder = row
                    held = holder is not None and alive.get(holder, False)
                    if held or (status != "claimed" and status not in retake):
                        continue
                self.db.execute(
                    "INSERT INTO send_log (issue, recipient, status, via, message_id, attempts,"
                    " updated, run_id) VALUES (?, ?, 'claimed', ?, ?, 1, ?, ?)"
                    " ON CONFLICT (issue, recipient) DO UPDATE SET status = 'claimed',"
                    " via = excluded.via, message_id = excluded.message_id,"
                    " attempts = attempts + 1, updated = excluded.updated,"
                    " run_id = excluded.run_id",
                    (issue, key, via, mid, now, run),
                )
                claimed.append(key)
        return claimed

    def hand_over(self, issue: str, keys: Iterable[str], run: str) -> list[str]:
        """``claimed`` -> ``sending`` for the keys ``run`` still holds; returns those."""
        return self._move(issue, keys, run, "claimed", "sending", "mark messages as sending")

    def take_back(self, issue: str, keys: Iterable[str], run: str) -> list[str]:
        """``sending`` -> ``claimed``: the server certainly did not accept them after all."""
        return self._move(issue, keys, run, "sending", "claimed", "note a refusal")

    def _move(self, issue: str, keys: Iterable[str], run: str, old: str, new: str,
              doing: str) -> list[str]:  # fmt: skip
        moved = []
        now = _now()
        with self.transaction(f"{doing} in the send log"):
            for key in keys:
                cursor = self.db.execute(
                    "UPDATE send_log SET status = ?, updated = ? WHERE issue = ?"
                    " AND recipient = ? AND run_id = ? AND status = ?",
                    (new, now, issue, key, run, old),
                )
                if cursor.rowcount:
                    moved.append(key)
        return moved

    def record(self, issue: str, outcomes: Iterable[Outcome], run: str) -> None:
        """Write what happened, in one transaction.

        ``sent`` is written whoever holds the row (it is the truth about a delivered
        message); the others only while ``run`` holds it. ``uncertain`` stays ``sending``
        but is let go by the run, so other runs see it as uncertain at once.
        """
        now = _now()
        with self.transaction("record what the server answered in the send log"):
            for o in outcomes:
                if o.status == "skipped":
                    continue
                if o.status == "uncertain":
                    self.db.execute(
                        "UPDATE send_log SET run_id = NULL, detail = ?, updated = ?"
                        " WHERE issue = ? AND recipient = ? AND run_id = ?",
                        (o.detail, now, issue, o.key, run),
                    )
                    continue
                self.db.execute(
                    "UPDATE send_log SET status = ?, detail = ?, run_id = NULL,"
                    " message_id = COALESCE(?, message_id), updated = ?"
                    " WHERE issue = ? AND recipient = ?"
                    + ("" if o.status == "sent" else " AND run_id = ?"),
                    (o.status, o.detail, o.message_id, now, issue, o.key)
                    + (() if o.status == "sent" else (run,)),
                )

    def release(self, issue: str, keys: Iterable[str], detail: str, run: str) -> None:
        """Give back claims for messages that never reached the server (``deferred``)."""
        now = _now()
        with self.transaction("release claims in the send log"):
            for key in keys:
                self.db.execute(
                    "UPDATE send_log SET status = 'deferred', run_id = NULL, detail = ?,"
                    " updated = ? WHERE issue = ? AND recipient = ? AND run_id = ?"
                    " AND status = 'claimed'",
                    (detail, now, issue, key, run),
                )
