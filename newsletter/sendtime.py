"""When and whether an issue goes out: its ``status``, and ``send_at``, a day or a moment.

``send_at: 2024-03-10`` is a day: deadlines are judged on it, and ``send --due`` sends the
issue from the start of that day (UTC). ``send_at: 2024-03-10T09:00+01:00`` is a moment:
its day (in its own offset) for deadlines, the moment itself for ``send --due``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Annotated

from pydantic import PlainSerializer, PlainValidator


class IssueStatus(StrEnum):
    """An issue's way out: ``newsletter approve`` makes a draft approved, a complete send sent."""

    draft = "draft"
    approved = "approved"
    sent = "sent"


def check_send_at(value: object) -> date:
    """A ``date``, or an aware ``datetime``; from YAML's values or ISO 8601 text."""
    moment = value
    if isinstance(value, str):
        text = value.strip()
        try:
            moment = date.fromisoformat(text) if len(text) <= 10 else datetime.fromisoformat(text)
        except ValueError:
            moment = None
    if type(moment) is date or (isinstance(moment, datetime) and moment.utcoffset() is not None):
        return moment
    if isinstance(moment, datetime):
        raise ValueError(f"{value!s} has no offset from UTC; write it like 2024-03-10T09:00+01:00")
    raise ValueError(
        f"{value!r} is not a date; write it as YYYY-MM-DD, for example 2024-03-10, or with a "
        "time of day and its offset from UTC, 2024-03-10T09:00+01:00"
    )


def due_at(send_at: date | None) -> datetime | None:
    """The moment ``send --due`` may send: the time given, else the start of the day in UTC."""
    if isinstance(send_at, datetime) or send_at is None:
        return send_at
    return datetime.combine(send_at, time(), UTC)


def send_day(send_at: date | None) -> date | None:
    """The day it goes out, in the offset it was written with."""
    return send_at.date() if isinstance(send_at, datetime) else send_at


# The model's field: validated by ``check_send_at``, written back as ISO 8601 text.
SendAt = Annotated[
    date, PlainValidator(check_send_at), PlainSerializer(lambda v: v.isoformat(), when_used="json")
]
