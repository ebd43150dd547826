"""One subscriber's record, its status, and the consent a change of it carries."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from newsletter.store.schema import moment, stamp


class Status(StrEnum):
    pending = "pending"
    confirmed = "confirmed"
    unsubscribed = "unsubscribed"
    bounced = "bounced"
    complained = "complained"


class Method(StrEnum):
    form = "form"
    import_ = "import"
    admin = "admin"
    link = "link"  # a signed link from an email
    one_click = "one-click"  # RFC 8058
    provider = "provider"  # a bounce or complaint event


def text_version(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def stored_values(values: dict[str, Any]) -> dict[str, Any]:
    """Row values as stored: moments as ISO 8601 text (``schema.stamp``)."""
    return {k: stamp(v) if isinstance(v, datetime) else v for k, v in values.items()}


def utc(value: str | datetime | None) -> datetime | None:
    if isinstance(value, str):
        return moment(value)
    # SQLite hands back naive datetimes; every time stored here is UTC.
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Subscriber:
    id: int
    email: str
    name: str
    language: str
    topics: tuple[str, ...]
    status: Status
    created_at: datetime
    updated_at: datetime
    confirmed_at: datetime | None
    confirm_nonce: str | None = None
    confirmation_sent_at: datetime | None = None

    @classmethod
    def from_row(cls, row: sa.Row[Any]) -> Subscriber:
        m = row._mapping
        return cls(
            id=m["id"],
            email=m["email"],
            name=m["name"],
            language=m["language"],
            topics=tuple(json.loads(m["topics"] or "[]")),
            status=Status(m["status"]),
            created_at=utc(m["created_at"]) or datetime.now(UTC),
            updated_at=utc(m["updated_at"]) or datetime.now(UTC),
            confirmed_at=utc(m["confirmed_at"]),
            confirm_nonce=m["confirm_nonce"],
            confirmation_sent_at=utc(m["confirmation_sent_at"]),
        )

    def public(self) -> dict[str, Any]:
        return {
            "email": self.email,
            "name": self.name,
            "language": self.language,
            "topics": list(self.topics),
            "status": self.status.value,
            "created_at": self.created_at.isoformat(),
            "confirmed_at": self.confirmed_at.isoformat() if self.confirmed_at else None,
        }


@dataclass(frozen=True)
class Consent:
    """Who agreed to what, how and from where: one record per change."""

    method: Method
    text: str | None = None  # the form's wording, when a form was shown
    ip: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SignupOutcome:
    """What a sign-up request did; the web answer is the same whatever it says."""

    subscriber: Subscriber
    send_confirmation: bool  # a new confirmation mail is due (at most one per hour)
