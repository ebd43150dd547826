"""What a send teaches: bounces and complaints suppress addresses, by one set of rules.

Provider webhooks, the bounce mailbox and SMTP replies all end here:
- a hard bounce or a complaint suppresses the address at once;
- soft bounces suppress it after ``[bounces] soft_limit`` within ``soft_window_days``;
- a provider's own unsubscribe event unsubscribes.
Suppressed addresses are left out of every later send and export; a subscriber's status
follows (bounced, complained, unsubscribed), with a consent record naming the provider.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from newsletter.config import BounceSettings
from newsletter.project import Project
from newsletter.store.db import Target
from newsletter.store.events import Event, EventLog, Kind
from newsletter.store.subscribers import Consent, Method, Status, Subscribers

Suppress = Callable[[str, str], None]
_MONTH = re.compile(r"(?<!\d)(\d{4}-(?:0[1-9]|1[0-2]))(?!\d)")
_OUR_MESSAGE_ID = re.compile(r"<?(\d{4}-\d{2})\.[A-Za-z0-9_-]+@")


def issue_of(*hints: object) -> str | None:
    """The issue (YYYY-MM) an event is about, from a tag, a custom field or a Message-ID."""
    for hint in hints:
        if isinstance(hint, list | tuple):
            found = issue_of(*hint)
        elif isinstance(hint, str):
            match = _OUR_MESSAGE_ID.search(hint) or _MONTH.fullmatch(hint.strip())
            found = match.group(1) if match else None
        else:
            found = None
        if found:
            return found
    return None


@dataclass
class Taken:
    new: int = 0
    duplicates: int = 0
    suppressed: list[tuple[str, str]] = field(default_factory=list)  # (address, reason)


@dataclass
class Feedback:
    log: EventLog
    subscribers: Subscribers
    suppress: Suppress
    settings: BounceSettings

    def take(self, found: Iterable[Event], *, now: datetime) -> Taken:
        recorded = self.log.record(found, now=now)
        taken = Taken(new=len(recorded.new), duplicates=recorded.duplicates)
        for event in recorded.new:
            reason = self._reason(event, now)
            if reason is None:
                continue
            self.suppress(event.email.lower(), reason)
            status = {
                "bounced": Status.bounced,
                "complained": Status.complained,
                "unsubscribed": Status.unsubscribed,
            }[reason]
            details: dict[str, Any] = {"event": event.event_id, "kind": event.kind.value}
            if event.detail:
                details["detail"] = event.detail[:300]
            self.subscribers.set_status(
                event.email,
                status,
                consent=Consent(
                    Method.provider, None, None, {"provider": event.provider, **details}
                ),
                now=now,
            )
            taken.suppressed.append((event.email.lower(), reason))
        return taken

    def _reason(self, event: Event, now: datetime) -> str | None:
        if event.kind is Kind.complaint:
            return "complained"
        if event.kind is Kind.unsubscribe:
            return "unsubscribed"
        if event.kind is Kind.bounce:
            if event.severity != "soft":
                return "bounced"
            since = now - timedelta(days=self.settings.soft_window_days)
            if self.log.soft_bounces(event.email, since) >= self.settings.soft_limit:
                return "bounced"
        return None


def suppressor(store: Target) -> Suppress:
    """Puts an address on the project's suppression list (opened once, on first use)."""
    from newsletter.store.suppression import SuppressionList

    opened: list[SuppressionList] = []

    def suppress(email: str, reason: str) -> None:
        if not opened:
            opened.append(SuppressionList(store))
        opened[0].add([(0, email)], reason, source="events")

    return suppress


def project_feedback(project: Project) -> Feedback:
    from newsletter.store.subscribers import open_subscribers

    subscribers = open_subscribers(project)
    return Feedback(
        EventLog(subscribers.engine),
        subscribers,
        suppressor(project.database),
        project.config.bounces,
    )


_CODE = re.compile(r"^\s*([245])\d\d\b")


def take_send_failures(
    project: Project, issue: str, failures: Iterable[tuple[str, str]], *, now: datetime
) -> Taken:
    """SMTP replies of 5xx (``(address, reply)``) count as hard bounces."""
    events = [
        Event(
            "smtp",
            f"{issue}:{email.lower()}",
            Kind.bounce,
            email,
            now,
            {"reply": reply},
            "hard",
            issue,
            reply,
        )
        for email, reply in failures
        if (m := _CODE.match(reply)) and m.group(1) == "5"
    ]
    if not events:
        return Taken()
    return project_feedback(project).take(events, now=now)
