"""The send log's writes during a send: claims, hand-overs, answers, take-backs, releases.

A send commits one step per message per connection, so these statements are built once per
dialect and reused with their values bound: building SQLAlchemy statements anew (and their
cache keys) cost some 2 ms per step, ten times SQLite's own commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.engine import Connection

from newsletter.store.db import chunks, dialect_insert
from newsletter.store.schema import send_log


class Answer(Protocol):
    """What happened to one message (``sendlog.Outcome``, which imports this module)."""

    @property
    def key(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def detail(self) -> str: ...
    @property
    def message_id(self) -> str | None: ...


_c = send_log.c
_ROW = and_(_c.issue == bindparam("b_issue"), _c.recipient == bindparam("b_key"))
_HELD = and_(_ROW, _c.run_id == bindparam("b_run"))
_MINE = and_(
    _c.issue == bindparam("b_issue"), _c.recipient.in_(bindparam("b_keys", expanding=True)),
    _c.run_id == bindparam("b_run"),
)  # fmt: skip
_ANSWER: dict[str, Any] = {
    "status": bindparam("b_new"), "detail": bindparam("b_detail"), "run_id": None,
    "message_id": func.coalesce(bindparam("b_mid"), _c.message_id), "updated": bindparam("b_now"),
}  # fmt: skip
LET_GO = (
    update(send_log)
    .where(_HELD)
    .values(run_id=None, detail=bindparam("b_detail"), updated=bindparam("b_now"))
)
SENT = update(send_log).where(_ROW).values(**_ANSWER)
ANSWERED = update(send_log).where(_HELD).values(**_ANSWER)
MOVE = (
    update(send_log)
    .where(_MINE, _c.status == bindparam("b_old"))
    .values(status=bindparam("b_new"), updated=bindparam("b_now"))
)
MOVED = select(_c.recipient).where(_MINE, _c.status == bindparam("b_new"))
RELEASE = (
    update(send_log)
    .where(_MINE, _c.status == "claimed")
    .values(status="deferred", run_id=None, detail=bindparam("b_detail"))
    .values(updated=bindparam("b_now"))
)
_BY_STATUS = {"uncertain": LET_GO, "sent": SENT}  # every other answer: ANSWERED
FOUND = select(_c.recipient, _c.status, _c.run_id).where(
    _c.issue == bindparam("b_issue"), _c.recipient.in_(bindparam("b_keys", expanding=True))
)


@cache
def claim_upsert(dialect: str) -> Any:
    """INSERT a claim, or take over the row of a recipient a rerun may retry."""
    stmt = dialect_insert(dialect, send_log)
    return stmt.on_conflict_do_update(
        index_elements=[_c.issue, _c.recipient],
        set_={
            "status": "claimed",
            "via": stmt.excluded.via,
            "message_id": stmt.excluded.message_id,
            "attempts": _c.attempts + 1,
            "updated": stmt.excluded.updated,
            "run_id": stmt.excluded.run_id,
        },
    )


@dataclass(frozen=True)
class Writing:
    """One transaction's fixed values: the connection, the issue, the run and the time."""

    conn: Connection
    issue: str
    run: str
    now: str

    def found(self, keys: Sequence[str]) -> list[Any]:
        """(recipient, status, run_id) of the rows ``keys`` already have."""
        rows: list[Any] = []
        for part in chunks(list(keys)):
            rows += self.conn.execute(FOUND, {"b_issue": self.issue, "b_keys": list(part)}).all()
        return rows

    def claim(self, wanted: dict[str, str | None], keys: Sequence[str], via: str) -> None:
        upsert = claim_upsert(self.conn.dialect.name)
        for part in chunks(list(keys)):
            self.conn.execute(
                upsert,
                [
                    {"issue": self.issue, "recipient": key, "status": "claimed", "via": via,
                     "message_id": wanted[key], "attempts": 1, "updated": self.now,
                     "run_id": self.run}
                    for key in part
                ],
            )  # fmt: skip

    def record(self, outcomes: Iterable[Answer]) -> None:
        """The answers: ``sent`` whoever holds the row, the rest only while this run does."""
        batches: dict[Any, list[dict[str, Any]]] = {LET_GO: [], SENT: [], ANSWERED: []}
        fixed = {"b_issue": self.issue, "b_run": self.run, "b_now": self.now}
        for o in outcomes:
            if o.status == "skipped":
                continue
            stmt = _BY_STATUS.get(o.status, ANSWERED)
            batches[stmt].append(
                {**fixed, "b_key": o.key, "b_detail": o.detail, "b_mid": o.message_id,
                 "b_new": o.status}
            )  # fmt: skip
        for stmt, batch in batches.items():
            if batch:
                self.conn.execute(stmt, batch)

    def move(self, keys: Sequence[str], old: str, new: str) -> set[str]:
        """``old`` -> ``new`` for the ``keys`` this run holds in ``old``; returns those."""
        moved: set[str] = set()
        for part in chunks(list(keys)):
            values = {"b_issue": self.issue, "b_keys": list(part), "b_run": self.run,
                      "b_old": old, "b_new": new, "b_now": self.now}  # fmt: skip
            done = self.conn.execute(MOVE, values)
            if done.rowcount == len(part):
                moved.update(part)
            elif done.rowcount:  # some were not ours (any more): ask which were
                moved |= {k for (k,) in self.conn.execute(MOVED, values)}
        return moved

    def release(self, keys: Sequence[str], detail: str) -> None:
        for part in chunks(list(keys)):
            values = {"b_issue": self.issue, "b_keys": list(part), "b_run": self.run,
                      "b_detail": detail, "b_now": self.now}  # fmt: skip
            self.conn.execute(RELEASE, values)
