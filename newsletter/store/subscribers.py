"""Subscribers and their consent history.

A subscriber is one normalised address with a name, an edition language, topics and a
status. Every change of status or preferences appends a consent record (when, how, the
wording of the form, the IP address, the confirmation time) and never overwrites one:
GDPR Art. 7(1) and Norway's Marketing Control Act ask the sender to *prove* consent.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from newsletter.store.db import insert
from newsletter.store.schema import consent_events, consent_texts, stamp, subscribers
from newsletter.store.subscriber import (
    Consent,
    Method,
    SignupOutcome,
    Status,
    Subscriber,
    stored_values,
    text_version,
    utc,
)

if TYPE_CHECKING:
    from newsletter.project import Project

__all__ = [
    "CONFIRMATION_INTERVAL",
    "Consent",
    "Method",
    "SignupOutcome",
    "Status",
    "Subscriber",
    "Subscribers",
    "insert_ignore",
    "open_subscribers",
    "text_version",
]


CONFIRMATION_INTERVAL = timedelta(hours=1)


def insert_ignore(conn: Connection, table: sa.Table, values: dict[str, Any]) -> bool:
    """Insert unless a row with the same key exists; True when this call inserted it.

    Told by the row RETURNING gives back, not by the row count: psycopg reports -1 for an
    INSERT ... ON CONFLICT DO NOTHING through SQLAlchemy, which read as "inserted" every time.
    """
    statement = insert(conn, table).on_conflict_do_nothing().values(**values)
    return conn.execute(statement.returning(sa.literal_column("1"))).first() is not None


class Subscribers:
    """The subscriber table and its consent history, on one SQLAlchemy engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- reading ------------------------------------------------------------------------------

    def get(self, email: str, *, conn: Connection | None = None) -> Subscriber | None:
        query = sa.select(subscribers).where(subscribers.c.email == email.lower())
        if conn is not None:
            row = conn.execute(query).first()
        else:
            with self.engine.connect() as own:
                row = own.execute(query).first()
        return Subscriber.from_row(row) if row else None

    def iter(
        self, *, status: Status | None = None, topic: str | None = None
    ) -> Iterator[Subscriber]:
        query = sa.select(subscribers).order_by(subscribers.c.email)
        if status is not None:
            query = query.where(subscribers.c.status == status.value)
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                found = Subscriber.from_row(row)
                if topic is None or topic in found.topics:
                    yield found

    def history(self, email: str) -> list[dict[str, Any]]:
        query = (
            sa.select(consent_events, consent_texts.c.text)
            .outerjoin(consent_texts, consent_texts.c.version == consent_events.c.text_version)
            .where(consent_events.c.email == email.lower())
            .order_by(consent_events.c.id)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        out = []
        for row in rows:
            m = row._mapping
            at, confirmed = utc(m["at"]), utc(m["confirmed_at"])
            out.append(
                {
                    "at": at.isoformat() if at else None,
                    "action": m["action"],
                    "method": m["method"],
                    "ip": m["ip"],
                    "form_text_version": m["text_version"],
                    "form_text": m["text"],
                    "confirmed_at": confirmed.isoformat() if confirmed else None,
                    "details": json.loads(m["details"] or "{}"),
                }
            )
        return out

    def unsubscribed_between(self, start: datetime, end: datetime | None) -> list[datetime]:
        """When unsubscribes happened in [start, end): by link, one-click or a provider."""
        query = sa.select(consent_events.c.at).where(
            consent_events.c.action == Status.unsubscribed.value,
            consent_events.c.at >= stamp(start),
        )
        if end is not None:
            query = query.where(consent_events.c.at < stamp(end))
        with self.engine.connect() as conn:
            return [t for (at,) in conn.execute(query) if (t := utc(at)) is not None]

    def counts(self) -> dict[str, int]:
        query = sa.select(subscribers.c.status, sa.func.count()).group_by(subscribers.c.status)
        with self.engine.connect() as conn:
            return {status: n for status, n in conn.execute(query).all()}

    # --- writing ------------------------------------------------------------------------------

    def _record(
        self,
        conn: Connection,
        email: str,
        action: str,
        consent: Consent,
        now: datetime,
        *,
        confirmed_at: datetime | None = None,
    ) -> None:
        version = None
        if consent.text:
            version = text_version(consent.text)
            # Concurrent first sign-ups race to record the same wording: the first one wins.
            insert_ignore(
                conn,
                consent_texts,
                {"version": version, "text": consent.text, "first_used": stamp(now)},
            )
        conn.execute(
            consent_events.insert().values(
                email=email,
                at=stamp(now),
                action=action,
                method=consent.method.value,
                text_version=version,
                ip=consent.ip,
                confirmed_at=stamp(confirmed_at) if confirmed_at else None,
                details=json.dumps(consent.details, sort_keys=True),
            )
        )

    def _lock(self, conn: Connection, email: str) -> Subscriber | None:
        query = sa.select(subscribers).where(subscribers.c.email == email)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = conn.execute(query).first()
        return Subscriber.from_row(row) if row else None

    def _insert(self, conn: Connection, email: str, values: dict[str, Any]) -> bool:
        """Insert a new row; False when another writer inserted the address first."""
        return insert_ignore(conn, subscribers, {"email": email, **stored_values(values)})

    def request(
        self,
        email: str,
        *,
        name: str,
        language: str,
        topics: Sequence[str],
        consent: Consent,
        now: datetime,
    ) -> SignupOutcome:
        """A sign-up from a form: pending until confirmed by the emailed link.

        A confirmed subscriber's sign-up changes nothing (and sends nothing); a pending or
        unsubscribed one gets a fresh confirmation link, at most once an hour.
        """
        email = email.lower()
        with self.engine.begin() as conn:
            current = self._lock(conn, email)
            if current is None:
                nonce = secrets.token_urlsafe(16)
                inserted = self._insert(
                    conn,
                    email,
                    {
                        "name": name,
                        "language": language,
                        "topics": json.dumps(sorted(set(topics))),
                        "status": Status.pending.value,
                        "created_at": now,
                        "updated_at": now,
                        "confirm_nonce": nonce,
                        "confirmation_sent_at": now,
                    },
                )
                if inserted:
                    self._record(conn, email, "subscribe-requested", consent, now)
                    found = self._lock(conn, email)
                    assert found is not None
                    return SignupOutcome(found, send_confirmation=True)
                current = self._lock(conn, email)
                assert current is not None
            if current.status is Status.confirmed:
                return SignupOutcome(current, send_confirmation=False)
            if current.status in (Status.bounced, Status.complained):
                # A complaint or hard bounce is only lifted by an operator (subscribers add).
                return SignupOutcome(current, send_confirmation=False)
            recent = current.confirmation_sent_at
            due = recent is None or now - recent >= CONFIRMATION_INTERVAL
            updates: dict[str, Any] = {
                "name": name,
                "language": language,
                "topics": json.dumps(sorted(set(topics))),
                "updated_at": now,
            }
            if current.status is Status.unsubscribed:
                updates["status"] = Status.pending.value
            if due:
                updates["confirm_nonce"] = secrets.token_urlsafe(16)
                updates["confirmation_sent_at"] = now
            conn.execute(
                subscribers.update()
                .where(subscribers.c.id == current.id)
                .values(**stored_values(updates))
            )
            self._record(conn, email, "subscribe-requested", consent, now, confirmed_at=None)
            found = self._lock(conn, email)
            assert found is not None
            return SignupOutcome(found, send_confirmation=due)

    def confirm(
        self, email: str, nonce: str, *, consent: Consent, now: datetime
    ) -> Subscriber | None:
        """Confirm with the link's nonce; None when the link is stale or was used already."""
        email = email.lower()
        with self.engine.begin() as conn:
            current = self._lock(conn, email)
            if current is None or current.status is not Status.pending:
                return None
            if not current.confirm_nonce or not secrets.compare_digest(
                current.confirm_nonce, nonce
            ):
                return None
            conn.execute(
                subscribers.update()
                .where(subscribers.c.id == current.id)
                .values(
                    status=Status.confirmed.value,
                    confirmed_at=stamp(now),
                    confirm_nonce=None,
                    updated_at=stamp(now),
                )
            )
            self._record(conn, email, "confirmed", consent, now, confirmed_at=now)
            return self._lock(conn, email)

    def set_status(
        self, email: str, status: Status, *, consent: Consent, now: datetime
    ) -> Subscriber | None:
        """Unsubscribe, bounce or complain (or an operator's change); None if unknown."""
        email = email.lower()
        with self.engine.begin() as conn:
            current = self._lock(conn, email)
            if current is None:
                return None
            if current.status is not status:
                conn.execute(
                    subscribers.update()
                    .where(subscribers.c.id == current.id)
                    .values(status=status.value, confirm_nonce=None, updated_at=stamp(now))
                )
            self._record(conn, email, status.value, consent, now)
            return self._lock(conn, email)

    def update_preferences(
        self,
        email: str,
        *,
        name: str,
        language: str,
        topics: Sequence[str],
        consent: Consent,
        now: datetime,
    ) -> Subscriber | None:
        email = email.lower()
        with self.engine.begin() as conn:
            current = self._lock(conn, email)
            if current is None:
                return None
            conn.execute(
                subscribers.update()
                .where(subscribers.c.id == current.id)
                .values(
                    name=name,
                    language=language,
                    topics=json.dumps(sorted(set(topics))),
                    updated_at=stamp(now),
                )
            )
            details = {"language": language, "topics": sorted(set(topics))}
            record = Consent(consent.method, consent.text, consent.ip, details)
            self._record(conn, email, "preferences-changed", record, now)
            return self._lock(conn, email)

    def add(
        self,
        email: str,
        *,
        name: str,
        language: str,
        topics: Sequence[str],
        status: Status,
        consent: Consent,
        now: datetime,
    ) -> tuple[Subscriber, bool]:
        """An operator's or an import's subscriber; True when it is new."""
        email = email.lower()
        with self.engine.begin() as conn:
            current = self._lock(conn, email)
            confirmed_at = now if status is Status.confirmed else None
            values: dict[str, Any] = {
                "name": name,
                "language": language,
                "topics": json.dumps(sorted(set(topics))),
                "status": status.value,
                "updated_at": now,
                "confirmed_at": confirmed_at,
                "confirm_nonce": None,
            }
            created = False
            if current is None:
                created = self._insert(conn, email, {**values, "created_at": now})
            if not created:
                conn.execute(
                    subscribers.update()
                    .where(subscribers.c.email == email)
                    .values(**stored_values(values))
                )
            action = "added" if created else "updated"
            self._record(conn, email, action, consent, now, confirmed_at=confirmed_at)
            found = self._lock(conn, email)
            assert found is not None
            return found, created

    def erase(self, email: str) -> bool:
        """Forget the person: their row and history go (the caller keeps a hashed suppression)."""
        email = email.lower()
        with self.engine.begin() as conn:
            gone = conn.execute(subscribers.delete().where(subscribers.c.email == email))
            conn.execute(consent_events.delete().where(consent_events.c.email == email))
            return bool(gone.rowcount)


def open_subscribers(project: Project) -> Subscribers:
    """The subscriber tables in the project's database (its schema brought up to date or
    checked first)."""
    from newsletter.store.engine import create_engine
    from newsletter.store.migrate import ensure_current

    url = project.database
    engine = create_engine(url)
    ensure_current(url, engine)
    return Subscribers(engine)
