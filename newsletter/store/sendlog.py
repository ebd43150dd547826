"""The send log: one row per (issue, recipient), the memory that makes sending exactly-once.

It lives in the project's store file (``.newsletter/store.db``) on its own connection, with
``synchronous=FULL`` so that a row written before a crash or power cut is really on disk.

Life of a row:

- ``sending`` is committed *before* the message is handed to the server (the claim),
- ``sent`` is committed right after the server accepted it, ``failed`` after a permanent
  (5xx) refusal, ``deferred`` after temporary (4xx) refusals ran out of retries.

A rerun sends to everyone without a row, and retries ``deferred`` ones. It never repeats
``sent`` rows. A row still ``sending`` means the process died between the claim and the
record: the server may or may not have accepted that message. We choose at-most-once for
that window (a subscriber must never get an issue twice), so such rows are reported as
*uncertain* and resent only on request (``--resend-uncertain``). The window is one message
wide for SMTP (the server's reply to the final ".") and one request wide for SES.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from newsletter.store.db import Database

Status = Literal["sending", "sent", "failed", "deferred"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS send_log (
    issue       TEXT NOT NULL,
    recipient   TEXT NOT NULL,          -- the address, lower-cased
    status      TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed', 'deferred')),
    via         TEXT NOT NULL,
    message_id  TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    detail      TEXT,
    updated     TEXT NOT NULL,
    PRIMARY KEY (issue, recipient)
);
"""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Outcome:
    """What happened to one recipient's message."""

    key: str
    status: Literal["sent", "failed", "deferred", "uncertain"]
    detail: str = ""
    message_id: str | None = None


class SendLog(Database):
    def __init__(self, path: Path) -> None:
        super().__init__(path, SCHEMA, durable=True, what="the send log")

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

    def claim(
        self,
        issue: str,
        keys: Sequence[str],
        via: str,
        *,
        retake: Iterable[Status] = ("deferred",),
        message_ids: Sequence[str | None] | None = None,
    ) -> list[str]:
        """Mark ``keys`` as ``sending``, atomically; returns those this process now owns.

        A key is claimable when it has no row, or its status is in ``retake``. Another process
        sending the same issue at the same time can therefore never claim the same recipient.
        """
        retake = tuple(retake)
        ids = list(message_ids) if message_ids is not None else [None] * len(keys)
        claimed = []
        now = _now()
        with self.transaction("claim recipients in the send log"):
            for key, mid in zip(keys, ids, strict=True):
                row = self.db.execute(
                    "SELECT status FROM send_log WHERE issue = ? AND recipient = ?", (issue, key)
                ).fetchone()
                if row is not None and row[0] not in retake:
                    continue
                self.db.execute(
                    "INSERT INTO send_log (issue, recipient, status, via, message_id, attempts,"
                    " updated) VALUES (?, ?, 'sending', ?, ?, 1, ?)"
                    " ON CONFLICT (issue, recipient) DO UPDATE SET status = 'sending',"
                    " via = excluded.via, message_id = excluded.message_id,"
                    " attempts = attempts + 1, updated = excluded.updated",
                    (issue, key, via, mid, now),
                )
                claimed.append(key)
        return claimed

    def record(self, issue: str, outcomes: Iterable[Outcome]) -> None:
        """Write what happened, in one transaction. ``uncertain`` leaves the row ``sending``."""
        now = _now()
        with self.transaction("record what the server answered in the send log"):
            for o in outcomes:
                if o.status == "uncertain":
                    self.db.execute(
                        "UPDATE send_log SET detail = ?, updated = ? WHERE issue = ?"
                        " AND recipient = ?",
                        (o.detail, now, issue, o.key),
                    )
                    continue
                self.db.execute(
                    "UPDATE send_log SET status = ?, detail = ?,"
                    " message_id = COALESCE(?, message_id), updated = ?"
                    " WHERE issue = ? AND recipient = ?",
                    (o.status, o.detail, o.message_id, now, issue, o.key),
                )

    def release(self, issue: str, keys: Iterable[str], detail: str) -> None:
        """Give back claims for messages that certainly never reached a server."""
        self.record(issue, [Outcome(k, "deferred", detail) for k in keys])

    def rows(self, issue: str) -> list[tuple[str, str, str | None]]:
        return [
            (r, s, d)
            for r, s, d in self.db.execute(
                "SELECT recipient, status, detail FROM send_log WHERE issue = ? ORDER BY recipient",
                (issue,),
            )
        ]
