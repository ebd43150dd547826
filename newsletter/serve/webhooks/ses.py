"""Amazon SES events through SNS: subscription handshake and signed notifications.

The signature (SignatureVersion 1: RSA-SHA1, 2: RSA-SHA256) is checked with the signing
certificate, fetched only over https from an allow-listed SNS host, over the fields SNS
signs, in their order, each as ``Name\\nvalue\\n``. Only listed topics are accepted.
(AWS: "Verifying the signatures of Amazon SNS messages".)
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from newsletter.deliver.feedback import issue_of
from newsletter.serve.webhooks.base import (
    Context,
    Incoming,
    Refused,
    b64,
    fresh,
    json_body,
    obj,
    parse_time,
    register,
)
from newsletter.store.events import Event, Kind

SIGNED = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type",
    ),
}  # fmt: skip
SIGNED["UnsubscribeConfirmation"] = SIGNED["SubscriptionConfirmation"]
HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}
MAX_CERT = 16 * 1024


def string_to_sign(message: dict[str, str]) -> bytes:
    names = SIGNED[message["Type"]]
    return "".join(f"{n}\n{message[n]}\n" for n in names if n in message).encode("utf-8")


def allowed_url(url: str, ctx: Context) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" and any(
        re.fullmatch(host, parts.netloc) for host in ctx.settings.sns_cert_hosts
    )


class Ses:
    name = "ses"

    def configured(self, ctx: Context) -> bool:
        return bool(ctx.settings.sns_topic_arns)

    def _message(self, request: Incoming) -> dict[str, str]:
        message = json_body(request)
        if not isinstance(message, dict) or message.get("Type") not in SIGNED:
            raise Refused(400, "not an SNS message")
        needed = [n for n in SIGNED[message["Type"]] if n != "Subject"]
        needed += ["Signature", "SignatureVersion", "SigningCertURL"]
        if any(not isinstance(message.get(n), str) for n in needed):
            raise Refused(400, "an SNS field is missing")
        return message

    def _certificate(self, url: str, ctx: Context) -> rsa.RSAPublicKey:
        cached = ctx.cache.get(url)
        if cached is None:
            pem = ctx.fetch(url)
            if len(pem) > MAX_CERT:
                raise Refused(401, "the signing certificate is too large")
            try:
                cached = x509.load_pem_x509_certificate(pem)
            except ValueError:
                raise Refused(401, "the signing certificate is not a certificate") from None
            ctx.cache[url] = cached
        key = cached.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise Refused(401, "the signing certificate has no RSA key")
        return key

    def verify(self, request: Incoming, ctx: Context) -> None:
        message = self._message(request)
        if message["TopicArn"] not in ctx.settings.sns_topic_arns:
            raise Refused(403, "not one of [webhooks] sns_topic_arns")
        url = message["SigningCertURL"]
        if not allowed_url(url, ctx) or not urlsplit(url).path.endswith(".pem"):
            raise Refused(401, "the signing certificate is not on an SNS host")
        algorithm = HASHES.get(message["SignatureVersion"])
        if algorithm is None:
            raise Refused(401, "unknown SignatureVersion")
        key = self._certificate(url, ctx)
        try:
            key.verify(
                b64(message["Signature"]), string_to_sign(message), padding.PKCS1v15(), algorithm()
            )
        except InvalidSignature:
            raise Refused(401, "the SNS signature does not match") from None
        fresh(parse_time(message["Timestamp"], request.now.replace(year=1970)), request, ctx)

    def events(self, request: Incoming, ctx: Context) -> list[Event]:
        message = self._message(request)
        if message["Type"] == "SubscriptionConfirmation":
            if not allowed_url(message["SubscribeURL"], ctx):
                raise Refused(400, "the SubscribeURL is not on an SNS host")
            ctx.fetch(message["SubscribeURL"])  # confirms the subscription
            return []
        if message["Type"] != "Notification":
            return []
        try:
            ses = json.loads(message["Message"])
        except ValueError:
            raise Refused(400, "the SES event is not JSON") from None
        if not isinstance(ses, dict):
            raise Refused(400, "the SES event is not an object")
        return list(self._read(ses, message, request))

    def _read(self, ses: dict[str, Any], message: dict[str, str], request: Incoming) -> Any:
        kind = ses.get("notificationType") or ses.get("eventType")
        mail = obj(ses.get("mail"))
        headers = {
            str(h.get("name", "")).lower(): h.get("value")
            for h in mail.get("headers", [])
            if isinstance(h, dict)
        }
        common = obj(mail.get("commonHeaders"))
        tags = obj(mail.get("tags"))
        issue = issue_of(tags.get("issue"), headers.get("message-id"), common.get("messageId"))
        at = parse_time(message["Timestamp"], request.now)
        if kind == "Bounce":
            bounce = ses.get("bounce") or {}
            severity = "hard" if bounce.get("bounceType") == "Permanent" else "soft"
            for rcpt in bounce.get("bouncedRecipients") or []:
                email = rcpt.get("emailAddress") if isinstance(rcpt, dict) else None
                if isinstance(email, str):
                    detail = str(rcpt.get("diagnosticCode") or bounce.get("bounceSubType") or "")
                    yield Event("ses", f"{message['MessageId']}:{email.lower()}", Kind.bounce,
                                email, at, ses, severity, issue, detail)  # fmt: skip
        elif kind == "Complaint":
            complaint = ses.get("complaint") or {}
            for rcpt in complaint.get("complainedRecipients") or []:
                email = rcpt.get("emailAddress") if isinstance(rcpt, dict) else None
                if isinstance(email, str):
                    yield Event("ses", f"{message['MessageId']}:{email.lower()}", Kind.complaint,
                                email, at, ses, None, issue,
                                str(complaint.get("complaintFeedbackType") or ""))  # fmt: skip
        elif kind == "Delivery":
            for email in (ses.get("delivery") or {}).get("recipients") or []:
                if isinstance(email, str):
                    yield Event("ses", f"{message['MessageId']}:{email.lower()}", Kind.delivered,
                                email, at, ses, None, issue)  # fmt: skip


register(Ses())
