"""What happened after a send: provider events (bounces, complaints, deliveries) and clicks.

Every event is stored once, keyed by its provider's own id, with its raw payload kept for
audit. Clicks are counted per issue and link and say nothing about who clicked.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from newsletter.store.db import chunks, insert
from newsletter.store.schema import events, links, stamp
from newsletter.store.schema import webhook_nonces as nonces
from newsletter.store.subscribers import insert_ignore


class Kind(StrEnum):
    delivered = "delivered"
    deferred = "deferred"
    bounce = "bounce"
    complaint = "complaint"
    unsubscribe = "unsubscribe"
    other = "other"


@dataclass(frozen=True)
class Event:
    provider: str
    event_id: str
    kind: Kind
    email: str
    at: datetime
    payload: dict[str, Any]
    severity: str | None = None  # "hard" or "soft" for a bounce
    issue: str | None = None
    detail: str = ""


@dataclass
class Recorded:
    new: list[Event] = field(default_factory=list)
    duplicates: int = 0


class EventLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, found: Iterable[Event], *, now: datetime) -> Recorded:
        """Store each event once; the ones not seen before come back to have rules applied.

        One multi-row INSERT per 500 events (a provider posts them in batches of up to a
        thousand): what it gives back is what was new.
        """
        batch = list(found)
        rows = [
            {
                "provider": event.provider,
                "event_id": event.event_id[:255],
                "kind": event.kind.value,
                "severity": event.severity,
                "email": event.email.lower(),
                "issue": event.issue,
                "at": stamp(event.at),
                "received_at": stamp(now),
                "detail": event.detail[:2000],
                "payload": json.dumps(event.payload, sort_keys=True, default=str),
            }
            for event in batch
        ]
        inserted: set[tuple[str, str]] = set()
        if rows:
            with self.engine.begin() as conn:
                statement = (
                    insert(conn, events)
                    .on_conflict_do_nothing()
                    .returning(events.c.provider, events.c.event_id)
                )
                for part in chunks(rows):
                    inserted.update((str(p), str(e)) for p, e in conn.execute(statement, part))
        result = Recorded()
        for event, row in zip(batch, rows, strict=True):
            key = (row["provider"], row["event_id"])
            if key in inserted:
                inserted.discard(key)  # the same event twice in one batch is new once
                result.new.append(event)
            else:
                result.duplicates += 1
        return result

    def first_use(self, provider: str, nonce: str, *, now: datetime) -> bool:
        """True the first time ``nonce`` is seen for ``provider``; False for a replay."""
        with self.engine.begin() as conn:
            return insert_ignore(
                conn, nonces, {"provider": provider, "nonce": nonce[:255], "seen_at": stamp(now)}
            )

    def soft_bounces(self, email: str, since: datetime) -> int:
        query = (
            sa.select(sa.func.count())
            .select_from(events)
            .where(
                events.c.email == email.lower(),
                events.c.kind == Kind.bounce.value,
                events.c.severity == "soft",
                events.c.at >= stamp(since),
            )
        )
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def counts(self, issue: str) -> dict[str, int]:
        """Distinct addresses per kind of event for one issue (bounces split hard/soft)."""
        kind = sa.case(
            (
                events.c.kind == Kind.bounce.value,
                "bounce_" + sa.func.coalesce(events.c.severity, "hard"),
            ),
            else_=events.c.kind,
        )
        query = (
            sa.select(kind.label("k"), sa.func.count(sa.distinct(events.c.email)))
            .where(events.c.issue == issue)
            .group_by("k")
        )
        with self.engine.connect() as conn:
            return {str(k): int(n) for k, n in conn.execute(query).all()}

    def iter(self, issue: str | None = None) -> Iterator[dict[str, Any]]:
        query = sa.select(events).order_by(events.c.id)
        if issue is not None:
            query = query.where(events.c.issue == issue)
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                yield dict(row._mapping)

    # --- clicks -------------------------------------------------------------------------------

    def register_links(self, issue: str, urls: Sequence[tuple[str, str]]) -> None:
        """Make ``(id, url)`` pairs of ``issue`` known to the redirect."""
        with self.engine.begin() as conn:
            for link_id, url in urls:
                insert_ignore(conn, links, {"id": link_id, "issue": issue, "url": url, "clicks": 0})

    def click(self, link_id: str) -> str | None:
        """Count one click and give the link's address; None for an unknown link."""
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(links.c.url).where(links.c.id == link_id)).first()
            if row is None:
                return None
            conn.execute(
                links.update().where(links.c.id == link_id).values(clicks=links.c.clicks + 1)
            )
            return str(row[0])

    def clicks(self, issue: str) -> list[tuple[str, int]]:
        query = (
            sa.select(links.c.url, links.c.clicks)
            .where(links.c.issue == issue)
            .order_by(links.c.clicks.desc(), links.c.url)
        )
        with self.engine.connect() as conn:
            return [(str(u), int(c)) for u, c in conn.execute(query).all()]


def soft_window(days: int, now: datetime) -> datetime:
    return now - timedelta(days=days)
