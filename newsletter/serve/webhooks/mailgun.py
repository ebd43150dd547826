"""Mailgun webhooks: HMAC-SHA256 of timestamp + token with the webhook signing key; a token
is accepted once. (Mailgun: "Securing webhooks".)"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from newsletter.deliver.feedback import issue_of
from newsletter.serve.webhooks.base import (
    Context,
    Incoming,
    Refused,
    fresh,
    json_body,
    obj,
    parse_time,
    register,
)
from newsletter.store.events import Event, Kind

KEY_ENV = "NEWSLETTER_MAILGUN_WEBHOOK_KEY"


class Mailgun:
    name = "mailgun"

    def configured(self, ctx: Context) -> bool:
        return bool(ctx.env.get(KEY_ENV))

    def verify(self, request: Incoming, ctx: Context) -> None:
        body = json_body(request)
        signed = body.get("signature") if isinstance(body, dict) else None
        if not isinstance(signed, dict):
            raise Refused(401, "no Mailgun signature")
        timestamp, token, signature = (
            str(signed.get(k, "")) for k in ("timestamp", "token", "signature")
        )
        if not timestamp.isdigit() or not token or not signature:
            raise Refused(401, "an incomplete Mailgun signature")
        key = ctx.env[KEY_ENV].encode()
        expected = hmac.new(key, (timestamp + token).encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            raise Refused(401, "the Mailgun signature does not match")
        fresh(parse_time(int(timestamp), request.now), request, ctx)
        if not ctx.log.first_use("mailgun", token, now=request.now):
            raise Refused(409, "this Mailgun token was used before (a replay)")

    def events(self, request: Incoming, ctx: Context) -> list[Event]:
        data = json_body(request).get("event-data")
        if not isinstance(data, dict):
            raise Refused(400, "no event-data")
        found = self._one(data, request)
        return [found] if found else []

    def _one(self, data: dict[str, Any], request: Incoming) -> Event | None:
        name, email, event_id = data.get("event"), data.get("recipient"), data.get("id")
        if not isinstance(email, str) or not isinstance(event_id, str):
            return None
        severity = None
        if name == "failed":
            kind = Kind.bounce
            severity = "hard" if data.get("severity") == "permanent" else "soft"
        else:
            kind = {"delivered": Kind.delivered, "complained": Kind.complaint,
                    "unsubscribed": Kind.unsubscribe}.get(str(name), Kind.other)  # fmt: skip
        if kind is Kind.other:
            return None
        message = obj(data.get("message"))
        headers = obj(message.get("headers"))
        variables = obj(data.get("user-variables"))
        issue = issue_of(variables.get("issue"), data.get("tags"), headers.get("message-id"))
        status = obj(data.get("delivery-status"))
        detail = str(status.get("description") or status.get("message") or data.get("reason") or "")
        at = parse_time(data.get("timestamp"), request.now)
        return Event("mailgun", event_id, kind, email, at, data, severity, issue, detail)


register(Mailgun())
