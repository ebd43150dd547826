"""Postmark webhooks: basic-auth credentials on the webhook URL (Postmark signs nothing).

(Postmark: "Webhooks overview", "Bounce webhook", "Spam complaint webhook",
"Subscription change webhook".)"""

from __future__ import annotations

from typing import Any

from newsletter.deliver.feedback import issue_of
from newsletter.serve.webhooks.base import (
    Context,
    Incoming,
    Refused,
    basic_or_bearer,
    json_body,
    obj,
    parse_time,
    register,
)
from newsletter.store.events import Event, Kind

AUTH_ENV = "NEWSLETTER_POSTMARK_WEBHOOK_AUTH"  # user:password
HARD = {"HardBounce", "BadEmailAddress", "ManuallyDeactivated"}
SOFT = {"SoftBounce", "Transient", "DnsError", "Blocked", "Unknown"}
COMPLAINT = {"SpamNotification", "SpamComplaint"}


class Postmark:
    name = "postmark"

    def configured(self, ctx: Context) -> bool:
        return ":" in ctx.env.get(AUTH_ENV, "")

    def verify(self, request: Incoming, ctx: Context) -> None:
        if not request.headers.get("authorization", "").lower().startswith("basic "):
            raise Refused(401, "basic auth required")
        basic_or_bearer(request, ctx.env[AUTH_ENV])

    def events(self, request: Incoming, ctx: Context) -> list[Event]:
        body = json_body(request)
        if not isinstance(body, dict):
            raise Refused(400, "a Postmark webhook is a JSON object")
        found = self._one(body, request)
        return [found] if found else []

    def _one(self, body: dict[str, Any], request: Incoming) -> Event | None:
        record = body.get("RecordType")
        email = body.get("Email") or body.get("Recipient")
        if not isinstance(email, str):
            return None
        severity = None
        if record == "Bounce":
            kind_name = str(body.get("Type"))
            if kind_name in COMPLAINT:
                kind = Kind.complaint
            elif kind_name in HARD or kind_name in SOFT:
                kind, severity = Kind.bounce, ("hard" if kind_name in HARD else "soft")
            else:
                return None
        elif record == "SpamComplaint":
            kind = Kind.complaint
        elif record == "SubscriptionChange":
            if not body.get("SuppressSending"):
                return None
            kind = Kind.unsubscribe
        elif record == "Delivery":
            kind = Kind.delivered
        else:
            return None
        ident = body.get("ID") or body.get("MessageID")
        if ident is None:
            return None
        at = parse_time(
            body.get("BouncedAt") or body.get("DeliveredAt") or body.get("ChangedAt"), request.now
        )
        metadata = obj(body.get("Metadata"))
        issue = issue_of(metadata.get("issue"), body.get("Tag"))
        detail = str(body.get("Description") or body.get("Details") or "")
        return Event("postmark", f"{record}:{ident}:{email.lower()}", kind, email, at, body,
                     severity, issue, detail)  # fmt: skip


register(Postmark())
