"""The send log: one row per (issue, recipient), the memory that makes sending exactly-once.

It lives in the project's store (a SQLite file with ``synchronous=FULL``, so a row written
before a crash or power cut is really on disk, or a PostgreSQL database that every machine
sending for the project shares). Every change to it takes the send log's lock (SQLite's write
lock; a PostgreSQL advisory lock): claims by two processes, on one machine or two, never
overlap.

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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Connection

from newsletter.store.db import Database, Target
from newsletter.store.owner import Owner, holds
from newsletter.store.schema import send_log, send_runs
from newsletter.store.sendsteps import Writing

Status = Literal["claimed", "sending", "sent", "failed", "deferred"]
# How a recipient stands for a new run: "busy" is held by another run that is alive.
Standing = Literal["sent", "failed", "deferred", "uncertain", "busy"]
LOCK = "send_log"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Outcome:
    """What happened to one recipient's message (``skipped``: another run holds it now)."""

    key: str
    status: Literal["sent", "failed", "deferred", "uncertain", "skipped"]
    detail: str = ""
    message_id: str | None = None


@dataclass(frozen=True)
class Step:
    """One sender's changes, committed together (SendRun's writer joins several steps in one
    transaction): answers, refusals taken back, claims given back, hand-overs, new claims."""

    record: Sequence[Outcome] = ()
    take_back: Sequence[str] = ()
    release: Sequence[str] = ()
    release_detail: str = ""
    hand_over: Sequence[str] = ()
    claim: Sequence[str] = ()
    message_ids: Sequence[str | None] = ()  # one per claim, or none at all

    def doing(self) -> str:
        """What a failure of this step is reported as (the most important part first)."""
        if self.record:
            return "record what the server answered"
        if self.hand_over:
            return "mark messages as sending"
        if self.claim:
            return "claim recipients"
        return "note a refusal" if self.take_back else "release claims"


@dataclass(frozen=True)
class Done:
    """What a committed step got (the keys left out are held by another run now)."""

    handed: list[str]
    claimed: list[str]
    taken_back: list[str] = field(default_factory=list)


class SendLog(Database):
    def __init__(self, target: Target, *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.here = Owner.current()
        super().__init__(target, durable=True, what="the send log")

    # -- reading ------------------------------------------------------------------------------

    def statuses(self, issue: str) -> dict[str, Status]:
        query = select(send_log.c.recipient, send_log.c.status).where(send_log.c.issue == issue)
        with self.read("read the send log") as conn:
            return {r: s for r, s in conn.execute(query)}

    def counts(self, issue: str) -> dict[str, int]:
        query = (
            select(send_log.c.status, func.count())
            .where(send_log.c.issue == issue)
            .group_by(send_log.c.status)
        )
        with self.read("read the send log") as conn:
            return {s: int(n) for s, n in conn.execute(query)}

    def first_sent(self) -> dict[str, str]:
        """When each issue's first message was accepted (ISO 8601, UTC), oldest issue first."""
        query = (
            select(send_log.c.issue, func.min(send_log.c.updated))
            .where(send_log.c.status == "sent")
            .group_by(send_log.c.issue)
            .order_by(send_log.c.issue)
        )
        with self.read("read the send log") as conn:
            return {issue: str(first) for issue, first in conn.execute(query)}

    def rows(self, issue: str) -> list[tuple[str, str, str | None]]:
        query = (
            select(send_log.c.recipient, send_log.c.status, send_log.c.detail)
            .where(send_log.c.issue == issue)
            .order_by(send_log.c.recipient)
        )
        with self.read("read the send log") as conn:
            return [(r, s, d) for r, s, d in conn.execute(query)]

    def attempts(self, issue: str) -> dict[str, int]:
        query = select(send_log.c.recipient, send_log.c.attempts).where(send_log.c.issue == issue)
        with self.read("read the send log") as conn:
            return {r: int(n) for r, n in conn.execute(query)}

    def standing(self, issue: str) -> dict[str, Standing]:
        """Every logged recipient of ``issue`` as a new run sees it (nothing is written)."""
        query = select(send_log.c.recipient, send_log.c.status, send_log.c.run_id).where(
            send_log.c.issue == issue
        )
        with self.read("read the send log") as conn:
            alive = self._alive(conn)
            found = conn.execute(query).all()
        out: dict[str, Standing] = {}
        for key, status, run in found:
            held = run is not None and alive.get(run, False)
            if status == "claimed":
                out[key] = "busy" if held else "deferred"
            elif status == "sending":
                out[key] = "busy" if held else "uncertain"
            else:
                out[key] = status
        return out

    def _alive(self, conn: Connection) -> dict[str, bool]:
        """Which runs still hold their claims, by run id."""
        now = self.clock()
        query = select(
            send_runs.c.id, send_runs.c.host, send_runs.c.machine, send_runs.c.pid,
            send_runs.c.started, send_runs.c.expires,
        )  # fmt: skip
        return {
            run: holds(Owner(host, machine, pid, started), expires, here=self.here, now=now)
            for run, host, machine, pid, started, expires in conn.execute(query)
        }

    # -- runs ---------------------------------------------------------------------------------

    def start_run(self, run: str, issue: str, lease: float) -> None:
        """Register this process's run, and free what runs that are gone left behind."""
        me = self.here
        with self.transaction("start a run in the send log", lock=LOCK) as conn:
            for gone, is_alive in self._alive(conn).items():
                if not is_alive:
                    _end(conn, gone, "the run that claimed it stopped before handing it over")
            conn.execute(
                send_runs.insert().values(
                    id=run, issue=issue, host=me.host, machine=me.machine, pid=me.pid,
                    started=me.started, since=_now(), expires=self.clock() + lease,
                )
            )  # fmt: skip

    def renew(self, run: str, lease: float) -> bool:
        """Move the run's lease on; False when the run was ended (by itself or as gone)."""
        with self.transaction("renew the run's lease in the send log") as conn:
            cursor = conn.execute(
                update(send_runs).where(send_runs.c.id == run).values(expires=self.clock() + lease)
            )
        return cursor.rowcount == 1

    def end_run(self, run: str) -> None:
        """Claims the run still holds become free (``deferred``), messages in doubt uncertain."""
        with self.transaction("end the run in the send log", lock=LOCK) as conn:
            _end(conn, run, "released: the run stopped before handing it over")

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
        step = Step(claim=tuple(keys), message_ids=tuple(message_ids or ()))
        return self.apply(issue, run, [step], via=via, retake=tuple(retake))[0].claimed

    def apply(
        self, issue: str, run: str, steps: Sequence[Step], *, via: str = "smtp",
        retake: tuple[Status, ...] = ("deferred",),
    ) -> list[Done]:  # fmt: skip
        """Commit ``steps`` of ``run`` in one durable transaction; one ``Done`` per step."""
        doing = next((d for d in (s.doing() for s in steps) if d), "write")
        wanted: dict[str, str | None] = {}
        for step in steps:
            ids = step.message_ids or [None] * len(step.claim)
            wanted.update(zip(step.claim, ids, strict=True))
        with self.transaction(f"{doing} in the send log", lock=LOCK) as conn:
            writing = Writing(conn, issue, run, _now())
            back = writing.move([k for s in steps for k in s.take_back], "sending", "claimed")
            for step in steps:
                if step.release:
                    writing.release(step.release, step.release_detail)
            writing.record([o for step in steps for o in step.record])
            handed = writing.move([k for s in steps for k in s.hand_over], "claimed", "sending")
            claimed = self._claim_in(writing, wanted, via, retake) if wanted else set()
        return [
            Done(
                [k for k in step.hand_over if k in handed],
                [k for k in step.claim if k in claimed],
                [k for k in step.take_back if k in back],
            )
            for step in steps
        ]

    def _claim_in(
        self, writing: Writing, wanted: dict[str, str | None], via: str,
        retake: tuple[Status, ...],
    ) -> set[str]:  # fmt: skip
        found = writing.found(list(wanted))
        # Who is alive is asked only when a row has a holder (never on a first send).
        alive = self._alive(writing.conn) if any(holder for _, _, holder in found) else {}
        taken: set[str] = set()
        for key, status, holder in found:
            held = holder is not None and alive.get(holder, False)
            if held or (status != "claimed" and status not in retake):
                taken.add(key)
        claimed = [k for k in wanted if k not in taken]
        writing.claim(wanted, claimed, via)
        return set(claimed)

    def hand_over(self, issue: str, keys: Iterable[str], run: str) -> list[str]:
        """``claimed`` -> ``sending`` for the keys ``run`` still holds; returns those."""
        return self.apply(issue, run, [Step(hand_over=tuple(keys))])[0].handed

    def take_back(self, issue: str, keys: Iterable[str], run: str) -> list[str]:
        """``sending`` -> ``claimed``: the server certainly did not accept them after all."""
        return self.apply(issue, run, [Step(take_back=tuple(keys))])[0].taken_back

    def record(self, issue: str, outcomes: Iterable[Outcome], run: str) -> None:
        """Write what happened, in one transaction.

        ``sent`` is written whoever holds the row (it is the truth about a delivered
        message); the others only while ``run`` holds it. ``uncertain`` stays ``sending``
        but is let go by the run, so other runs see it as uncertain at once.
        """
        self.apply(issue, run, [Step(record=tuple(outcomes))])

    def release(self, issue: str, keys: Iterable[str], detail: str, run: str) -> None:
        """Give back claims for messages that never reached the server (``deferred``)."""
        self.apply(issue, run, [Step(release=tuple(keys), release_detail=detail)])


def _end(conn: Connection, run: str, detail: str) -> None:
    now = _now()
    conn.execute(
        update(send_log)
        .where(send_log.c.run_id == run, send_log.c.status == "claimed")
        .values(status="deferred", run_id=None, detail=detail, updated=now)
    )
    conn.execute(update(send_log).where(send_log.c.run_id == run).values(run_id=None, updated=now))
    conn.execute(delete(send_runs).where(send_runs.c.id == run))
