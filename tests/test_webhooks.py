"""Provider events posted to the running service, signed as each provider signs them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from newsletter.project import Project
from newsletter.store.suppression import SuppressionList
from tests.pgserver import Backend
from tests.serve_support import SmtpServer, free_port, running_service, serve_env, serve_project
from tests.webhook_support import (
    TOPIC,
    FakeSns,
    SendGridSigner,
    brevo_event,
    fake_sns,
    mailgun_body,
    mailgun_failed,
    postmark_bounce,
    sendgrid_event,
    ses_bounce,
    ses_complaint,
)

MAILGUN_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
POSTMARK_AUTH = "postmark:hook-secret-123"
BREVO_TOKEN = "brevo-bearer-token-456"


@dataclass
class Hooks:
    base: str
    root: Path
    sns: FakeSns
    sendgrid: SendGridSigner

    def post(self, provider: str, body: object, **kwargs: object) -> httpx.Response:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return httpx.post(f"{self.base}/webhooks/{provider}", content=content, **kwargs)  # type: ignore[arg-type]

    def suppressed(self) -> set[str]:
        with SuppressionList(Project.at(self.root).database) as suppressions:
            return {e.email for e in suppressions.entries()}


def webhook_config(sns: FakeSns, signer: SendGridSigner) -> str:
    hosts = sns.host.replace(".", r"\\.")
    return (
        f'\n[webhooks]\nsns_topic_arns = ["{TOPIC}"]\nsns_cert_hosts = ["{hosts}"]\n'
        f'sendgrid_public_key = "{signer.public_key}"\nmax_age_seconds = 600\n'
    )


@pytest.fixture(scope="module")
def hooks(tmp_path_factory: pytest.TempPathFactory, module_backend: Backend) -> Iterator[Hooks]:
    """One service that takes every provider's events, on SQLite and then on PostgreSQL."""
    root = tmp_path_factory.mktemp("hooks")
    with SmtpServer() as smtp, fake_sns(root) as (sns, ca_file):
        signer = SendGridSigner()
        port = free_port()
        extra = webhook_config(sns, signer)
        project = serve_project(root / "p", smtp.port, port, extra, module_backend.url)
        env = serve_env(
            SSL_CERT_FILE=str(ca_file),
            NEWSLETTER_MAILGUN_WEBHOOK_KEY=MAILGUN_KEY,
            NEWSLETTER_POSTMARK_WEBHOOK_AUTH=POSTMARK_AUTH,
            NEWSLETTER_BREVO_WEBHOOK_AUTH=BREVO_TOKEN,
        )
        with running_service(project, port, env=env) as base:
            yield Hooks(base, project, sns, signer)


def test_ses_subscription_is_confirmed_after_its_signature_is_checked(hooks: Hooks) -> None:
    message = hooks.sns.subscription()
    assert hooks.post("ses", message).status_code == 200
    assert hooks.sns.confirmed and "ConfirmSubscription" in hooks.sns.confirmed[-1]
    tampered = {**hooks.sns.subscription(), "SubscribeURL": "https://evil.example/x"}
    before = len(hooks.sns.confirmed)
    assert hooks.post("ses", tampered).status_code == 401
    assert len(hooks.sns.confirmed) == before


@pytest.mark.parametrize("version", ["1", "2"])
def test_ses_bounce_and_complaint_suppress(hooks: Hooks, version: str) -> None:
    hard, complainer = f"ses-hard-{version}@example.org", f"ses-complaint-{version}@example.org"
    answer = hooks.post("ses", hooks.sns.notification(ses_bounce(hard), version=version))
    assert answer.status_code == 200 and answer.json() == {"new": 1, "duplicates": 0}
    assert hooks.post("ses", hooks.sns.notification(ses_complaint(complainer))).status_code == 200
    assert {hard, complainer} <= hooks.suppressed()


def test_ses_soft_bounces_suppress_only_at_the_limit(hooks: Hooks) -> None:
    soft = "ses-soft@example.org"
    for expected_in in (False, False, True):  # [bounces] soft_limit = 3 by default
        hooks.post("ses", hooks.sns.notification(ses_bounce(soft, permanent=False)))
        assert (soft in hooks.suppressed()) is expected_in


def test_ses_forged_tampered_expired_and_foreign_are_refused(hooks: Hooks) -> None:
    victim = "ses-victim@example.org"
    forged = hooks.sns.notification(ses_bounce(victim))
    other = FakeSns(hooks.sns.root, port=hooks.sns.port)  # another key, same certificate URL
    forged["Signature"] = other.notification(ses_bounce(victim))["Signature"]
    tampered = hooks.sns.notification(ses_bounce("someone@example.org"))
    tampered["Message"] = json.dumps(ses_bounce(victim))
    expired = hooks.sns.notification(
        ses_bounce(victim), when=datetime.now(UTC) - timedelta(hours=2)
    )
    foreign_cert = {**hooks.sns.notification(ses_bounce(victim)),
                    "SigningCertURL": "https://evil.example/cert.pem"}  # fmt: skip
    plain_http = {**hooks.sns.notification(ses_bounce(victim)),
                  "SigningCertURL": hooks.sns.cert_url.replace("https", "http")}  # fmt: skip
    unsigned = hooks.sns.notification(ses_bounce(victim))
    other_topic = hooks.sns.sign({**unsigned, "TopicArn": "arn:aws:sns:eu-west-1:999:other"})
    for message in (forged, tampered, expired, foreign_cert, plain_http, other_topic):
        assert 400 <= hooks.post("ses", message).status_code < 500
    assert hooks.post("ses", b"{not json").status_code == 400
    assert victim not in hooks.suppressed()


def test_ses_replay_is_counted_once(hooks: Hooks) -> None:
    message = hooks.sns.notification(ses_bounce("ses-replay@example.org"))
    assert hooks.post("ses", message).json() == {"new": 1, "duplicates": 0}
    assert hooks.post("ses", message).json() == {"new": 0, "duplicates": 1}


def test_sendgrid_signed_batch(hooks: Hooks) -> None:
    body = json.dumps([
        sendgrid_event("sg-hard@example.org"),
        sendgrid_event("sg-spam@example.org", "spamreport"),
        sendgrid_event("sg-blocked@example.org", type="blocked"),
        sendgrid_event("sg-ok@example.org", "delivered"),
    ]).encode()  # fmt: skip
    answer = hooks.post("sendgrid", body, headers=hooks.sendgrid.headers(body))
    assert answer.status_code == 200 and answer.json()["new"] == 4
    suppressed = hooks.suppressed()
    assert {"sg-hard@example.org", "sg-spam@example.org"} <= suppressed
    assert not {"sg-blocked@example.org", "sg-ok@example.org"} & suppressed


def test_sendgrid_forged_tampered_and_stale_are_refused(hooks: Hooks) -> None:
    body = json.dumps([sendgrid_event("sg-victim@example.org")]).encode()
    other = SendGridSigner()
    tampered_body = body.replace(b"sg-victim", b"sg-victiM")
    cases = [
        (body, other.headers(body)),
        (tampered_body, hooks.sendgrid.headers(body)),
        (body, hooks.sendgrid.headers(body, when=datetime.now(UTC) - timedelta(hours=1))),
        (body, {}),
    ]
    for content, headers in cases:
        assert hooks.post("sendgrid", content, headers=headers).status_code == 401
    assert "sg-victim@example.org" not in hooks.suppressed()


def test_mailgun_signature_and_replayed_token(hooks: Hooks) -> None:
    body = mailgun_body(MAILGUN_KEY, mailgun_failed("mg-hard@example.org"))
    assert hooks.post("mailgun", body).status_code == 200
    assert "mg-hard@example.org" in hooks.suppressed()
    assert hooks.post("mailgun", body).status_code == 409  # the same token again
    forged = mailgun_body("wrong-key", mailgun_failed("mg-victim@example.org"))
    stale = mailgun_body(MAILGUN_KEY, mailgun_failed("mg-victim@example.org"),
                         when=datetime.now(UTC) - timedelta(hours=2))  # fmt: skip
    tampered = mailgun_body(MAILGUN_KEY, mailgun_failed("someone@example.org"))
    tampered["signature"]["token"] = "0" * 50
    for payload in (forged, stale, tampered):
        assert hooks.post("mailgun", payload).status_code == 401
    assert "mg-victim@example.org" not in hooks.suppressed()


def test_postmark_needs_its_credentials(hooks: Hooks) -> None:
    event = postmark_bounce("pm-hard@example.org")
    user, password = POSTMARK_AUTH.split(":")
    assert hooks.post("postmark", event, auth=(user, "wrong")).status_code == 401
    assert hooks.post("postmark", event).status_code == 401
    assert "pm-hard@example.org" not in hooks.suppressed()
    assert hooks.post("postmark", event, auth=(user, password)).status_code == 200
    assert "pm-hard@example.org" in hooks.suppressed()
    change = {
        "RecordType": "SubscriptionChange",
        "MessageID": "m-1",
        "Recipient": "pm-unsub@example.org",
        "SuppressSending": True,
        "ChangedAt": "2026-01-01T00:00:00Z",
    }
    assert hooks.post("postmark", change, auth=(user, password)).status_code == 200
    assert "pm-unsub@example.org" in hooks.suppressed()


def test_brevo_bearer_token(hooks: Hooks) -> None:
    event = brevo_event("brevo-hard@example.org")
    wrong = {"authorization": "Bearer nope"}
    assert hooks.post("brevo", event, headers=wrong).status_code == 401
    right = {"authorization": f"Bearer {BREVO_TOKEN}"}
    assert hooks.post("brevo", event, headers=right).status_code == 200
    assert "brevo-hard@example.org" in hooks.suppressed()
