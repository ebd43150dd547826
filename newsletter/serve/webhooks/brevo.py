"""Brevo webhooks: basic auth or a bearer token configured on the webhook.

(Brevo: "Transactional webhooks" and "Marketing webhooks".)"""

from __future__ import annotations

from typing import Any

from newsletter.deliver.feedback import issue_of
from newsletter.serve.webhooks.base import (
    Context,
    Incoming,
    basic_or_bearer,
    json_body,
    parse_time,
    register,
)
from newsletter.store.events import Event, Kind

AUTH_ENV = "NEWSLETTER_BREVO_WEBHOOK_AUTH"  # user:password, or a bearer token
KINDS = {
    "hard_bounce": (Kind.bounce, "hard"),
    "soft_bounce": (Kind.bounce, "soft"),
    "spam": (Kind.complaint, None),
    "complaint": (Kind.complaint, None),
    "unsubscribed": (Kind.unsubscribe, None),
    "unsubscribe": (Kind.unsubscribe, None),
    "delivered": (Kind.delivered, None),
}


class Brevo:
    name = "brevo"

    def configured(self, ctx: Context) -> bool:
        return bool(ctx.env.get(AUTH_ENV))

    def verify(self, request: Incoming, ctx: Context) -> None:
        basic_or_bearer(request, ctx.env[AUTH_ENV])

    def events(self, request: Incoming, ctx: Context) -> list[Event]:
        body = json_body(request)
        items = body if isinstance(body, list) else [body]
        return [e for item in items if isinstance(item, dict) and (e := self._one(item, request))]

    def _one(self, item: dict[str, Any], request: Incoming) -> Event | None:
        found = KINDS.get(str(item.get("event")))
        email = item.get("email")
        if found is None or not isinstance(email, str):
            return None
        kind, severity = found
        message_id = str(item.get("message-id") or item.get("camp_id") or "")
        stamp = str(item.get("ts_event") or item.get("ts") or item.get("date") or "")
        tags = item.get("tags") if isinstance(item.get("tags"), list) else [item.get("tag")]
        issue = issue_of(tags, item.get("message-id"))
        detail = str(item.get("reason") or "")
        at = parse_time(item.get("ts_event") or item.get("date"), request.now)
        event_id = f"{item.get('event')}:{message_id}:{email.lower()}:{stamp}"
        return Event("brevo", event_id, kind, email, at, item, severity, issue, detail)


register(Brevo())
