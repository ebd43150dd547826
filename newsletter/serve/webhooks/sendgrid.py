"""SendGrid's signed Event Webhook: ECDSA P-256 over timestamp + raw body.

(Twilio SendGrid: "Getting Started with the Event Webhook Security Features".)
"""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from newsletter.deliver.feedback import issue_of
from newsletter.serve.webhooks.base import (
    Context,
    Incoming,
    Refused,
    b64,
    fresh,
    json_body,
    parse_time,
    register,
)
from newsletter.store.events import Event, Kind

SIGNATURE = "x-twilio-email-event-webhook-signature"
TIMESTAMP = "x-twilio-email-event-webhook-timestamp"
KINDS = {
    "delivered": Kind.delivered,
    "deferred": Kind.deferred,
    "bounce": Kind.bounce,
    "spamreport": Kind.complaint,
    "unsubscribe": Kind.unsubscribe,
    "group_unsubscribe": Kind.unsubscribe,
}


class SendGrid:
    name = "sendgrid"

    def configured(self, ctx: Context) -> bool:
        return bool(ctx.settings.sendgrid_public_key)

    def _key(self, ctx: Context) -> ec.EllipticCurvePublicKey:
        key = ctx.cache.get("key")
        if key is None:
            try:
                key = serialization.load_der_public_key(b64(ctx.settings.sendgrid_public_key or ""))
            except ValueError:
                raise Refused(
                    500, "[webhooks] sendgrid_public_key is not a DER public key"
                ) from None
            ctx.cache["key"] = key
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise Refused(500, "[webhooks] sendgrid_public_key is not an ECDSA key")
        return key

    def verify(self, request: Incoming, ctx: Context) -> None:
        signature, timestamp = request.headers.get(SIGNATURE), request.headers.get(TIMESTAMP)
        if not signature or not timestamp or not timestamp.isdigit():
            raise Refused(401, "the SendGrid signature headers are missing")
        try:
            self._key(ctx).verify(
                b64(signature), timestamp.encode() + request.body, ec.ECDSA(hashes.SHA256())
            )
        except InvalidSignature:
            raise Refused(401, "the SendGrid signature does not match") from None
        fresh(parse_time(int(timestamp), request.now), request, ctx)

    def events(self, request: Incoming, ctx: Context) -> list[Event]:
        body = json_body(request)
        if not isinstance(body, list):
            raise Refused(400, "a SendGrid batch is a JSON array")
        return [e for item in body if isinstance(item, dict) and (e := self._one(item, request))]

    def _one(self, item: dict[str, Any], request: Incoming) -> Event | None:
        kind = KINDS.get(str(item.get("event")))
        email, event_id = item.get("email"), item.get("sg_event_id")
        if kind is None or not isinstance(email, str) or not isinstance(event_id, str):
            return None
        severity = None
        if kind is Kind.bounce:  # "blocked" is temporary; "bounce" is permanent
            severity = "soft" if item.get("type") == "blocked" else "hard"
        issue = issue_of(item.get("issue"), item.get("category"), item.get("smtp-id"))
        detail = str(item.get("reason") or item.get("response") or "")
        at = parse_time(item.get("timestamp"), request.now)
        return Event("sendgrid", event_id, kind, email, at, item, severity, issue, detail)


register(SendGrid())
