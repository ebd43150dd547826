"""Signed provider payloads, made the way each provider documents it, and a fake SNS host.

Each signer follows the provider's documentation (named beside it); the keys and
certificates are made here, so the service verifies real signatures end to end.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

TOPIC = "arn:aws:sns:eu-west-1:123456789012:ses-events"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class FakeSns:
    """An https host serving the SNS signing certificate and answering SubscribeURL GETs."""

    root: Path
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    confirmed: list[str] = field(default_factory=list)
    port: int = 0

    def certificate_pem(self) -> bytes:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
        now = datetime.now(UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .sign(self.key, hashes.SHA256())
        )
        return cert.public_bytes(serialization.Encoding.PEM)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def cert_url(self) -> str:
        return f"https://{self.host}/SimpleNotificationService-test.pem"

    def sign(self, message: dict[str, str], version: str = "2") -> dict[str, str]:
        """AWS: "Verifying the signatures of Amazon SNS messages" (the fields, in order)."""
        names = (
            ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
            if message["Type"] == "Notification"
            else ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
        )
        text = "".join(f"{n}\n{message[n]}\n" for n in names if n in message).encode()
        digest = hashes.SHA1() if version == "1" else hashes.SHA256()
        signature = self.key.sign(text, padding.PKCS1v15(), digest)
        return {
            **message,
            "SignatureVersion": version,
            "Signature": base64.b64encode(signature).decode(),
            "SigningCertURL": self.cert_url,
        }

    def notification(
        self, ses_event: dict[str, Any], *, when: datetime | None = None, version: str = "2"
    ) -> dict[str, str]:
        """An SES event as SNS delivers it (SES: "Amazon SNS notification contents")."""
        return self.sign(
            {
                "Type": "Notification",
                "MessageId": secrets.token_hex(16),
                "TopicArn": TOPIC,
                "Message": json.dumps(ses_event),
                "Timestamp": iso(when or datetime.now(UTC)),
            },
            version,
        )

    def subscription(self) -> dict[str, str]:
        return self.sign(
            {
                "Type": "SubscriptionConfirmation",
                "MessageId": secrets.token_hex(16),
                "Token": secrets.token_hex(32),
                "TopicArn": TOPIC,
                "Message": "You have chosen to subscribe to the topic.",
                "SubscribeURL": f"https://{self.host}/?Action=ConfirmSubscription&Token=x",
                "Timestamp": iso(datetime.now(UTC)),
            }
        )


@contextmanager
def fake_sns(root: Path) -> Iterator[tuple[FakeSns, Path]]:
    """The fake SNS host over https (a trustme CA); yields it and the CA file to trust."""
    import trustme

    ca = trustme.CA()
    server_cert = ca.issue_cert("127.0.0.1")
    ca_file = root / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    sns = FakeSns(root)
    pem = sns.certificate_pem()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.endswith(".pem"):
                body = pem
            else:
                sns.confirmed.append(self.path)
                body = b"<ConfirmSubscriptionResponse/>"
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_cert.configure_cert(context)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    sns.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield sns, ca_file
    finally:
        httpd.shutdown()
        httpd.server_close()


def ses_bounce(email: str, *, permanent: bool = True, message_id: str = "") -> dict[str, Any]:
    return {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": "Permanent" if permanent else "Transient",
            "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": email, "diagnosticCode": "smtp; 550 5.1.1"}],
            "timestamp": iso(datetime.now(UTC)),
        },
        "mail": {"messageId": "0100abc", "headers": [{"name": "Message-ID", "value": message_id}]},
    }


def ses_complaint(email: str, *, message_id: str = "") -> dict[str, Any]:
    return {
        "notificationType": "Complaint",
        "complaint": {
            "complainedRecipients": [{"emailAddress": email}],
            "complaintFeedbackType": "abuse",
        },
        "mail": {"messageId": "0100abd", "headers": [{"name": "Message-ID", "value": message_id}]},
    }


@dataclass
class SendGridSigner:
    """Twilio SendGrid: "Getting Started with the Event Webhook Security Features"."""

    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )

    @property
    def public_key(self) -> str:
        der = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode()

    def headers(self, body: bytes, *, when: datetime | None = None) -> dict[str, str]:
        stamp = str(int((when or datetime.now(UTC)).timestamp()))
        signature = self.key.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": stamp,
            "content-type": "application/json",
        }


def sendgrid_event(email: str, event: str = "bounce", **extra: Any) -> dict[str, Any]:
    """SendGrid: "Event Webhook Reference" (delivery and engagement events)."""
    return {
        "email": email,
        "timestamp": int(datetime.now(UTC).timestamp()),
        "event": event,
        "sg_event_id": secrets.token_urlsafe(16),
        "sg_message_id": secrets.token_hex(8) + ".filter",
        "type": "bounce",
        "reason": "550 5.1.1 The email account that you tried to reach does not exist",
        **extra,
    }


def mailgun_body(key: str, data: dict[str, Any], *, token: str | None = None,
                 when: datetime | None = None) -> dict[str, Any]:  # fmt: skip
    """Mailgun: "Securing webhooks" (HMAC-SHA256 of timestamp + token)."""
    stamp = str(int((when or datetime.now(UTC)).timestamp()))
    token = token or secrets.token_hex(25)
    signature = hmac.new(key.encode(), (stamp + token).encode(), hashlib.sha256).hexdigest()
    return {"signature": {"timestamp": stamp, "token": token, "signature": signature},
            "event-data": data}  # fmt: skip


def mailgun_failed(email: str, *, permanent: bool = True) -> dict[str, Any]:
    """Mailgun: "Events" (a failed event with its severity)."""
    return {
        "event": "failed",
        "severity": "permanent" if permanent else "temporary",
        "recipient": email,
        "id": secrets.token_urlsafe(12),
        "timestamp": datetime.now(UTC).timestamp(),
        "delivery-status": {"code": 550, "description": "No such user"},
        "message": {"headers": {"message-id": "x@mailgun"}},
    }


def postmark_bounce(email: str, kind: str = "HardBounce") -> dict[str, Any]:
    """Postmark: "Bounce webhook" (RecordType Bounce)."""
    return {
        "RecordType": "Bounce",
        "ID": secrets.randbelow(10**9),
        "Type": kind,
        "TypeCode": 1,
        "Email": email,
        "BouncedAt": iso(datetime.now(UTC)),
        "Description": "The server was unable to deliver your message",
        "MessageStream": "broadcast",
        "Tag": "",
    }


def brevo_event(email: str, event: str = "hard_bounce") -> dict[str, Any]:
    """Brevo: "Transactional webhooks" (event, email, message-id, ts_event)."""
    return {
        "event": event,
        "email": email,
        "id": 1234,
        "message-id": f"<{secrets.token_hex(8)}@smtp-relay.mailin.fr>",
        "ts_event": int(datetime.now(UTC).timestamp()),
        "reason": "unknown user",
        "tag": "",
    }
