"""When an issue is to go out, as providers that schedule take it.

The issue file's ``send_at`` (a date and time of day with an offset) is read through
``send_at``: it passes on to the providers that can hold a message until then (SendGrid
``send_at``, Mailgun ``o:deliverytime``, Brevo ``scheduledAt``, Mailchimp's schedule action,
listmonk ``send_at``). A time already past means "now", so it is not passed on.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from newsletter.errors import SendError

if TYPE_CHECKING:
    from newsletter.models import Issue

Now = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def send_at(issue: Issue, now: Now = _utcnow) -> datetime | None:
    """The issue's send time when it has a time of day that is still ahead, else None."""
    # Read defensively: older issue models have only ``send_date`` (a day, no time).
    value = getattr(issue, "send_at", None)
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value if value > now() else None


def within(when: datetime, limit: timedelta, provider: str, now: Now = _utcnow) -> datetime:
    """``when``, or an error when the provider cannot schedule that far ahead."""
    if when - now() > limit:
        hours = int(limit.total_seconds() // 3600)
        raise SendError(
            f"{provider} schedules at most {hours} hours ahead; the issue's send_at is "
            f"{when.isoformat()}",
            hint="send nearer the time (`newsletter send --due` from cron does that)",
        )
    return when
