"""After the send, end to end: SMTP bounces, provider events, clicks and the issue report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from newsletter.deliver.send import make_transport, plan_send, run_send
from newsletter.project import Project
from tests.clirun import cli
from tests.pgserver import Backend
from tests.serve_support import (
    SECRET,
    SmtpServer,
    free_port,
    running_service,
    serve_env,
    serve_project,
)
from tests.test_webhooks import webhook_config
from tests.webhook_support import SendGridSigner, fake_sns, sendgrid_event, ses_complaint

ADDRESSES = [f"reader{i:02d}@example.org" for i in range(50)]
HARD = ADDRESSES[:5]  # refused with 550 at send time
COMPLAINER, SG_BOUNCE = ADDRESSES[5], ADDRESSES[6]


def test_send_bounce_complain_click_report_and_skip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: Backend
) -> None:
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    for name in ("HOST", "PORT", "SECURITY", "USERNAME", "PASSWORD", "TIMEOUT"):
        monkeypatch.delenv(f"NEWSLETTER_SMTP_{name}", raising=False)
    with SmtpServer() as smtp, fake_sns(tmp_path) as (sns, ca_file):
        signer = SendGridSigner()
        port = free_port()
        extra = webhook_config(sns, signer)
        root = serve_project(tmp_path / "p", smtp.port, port, extra, backend.url)
        audience = tmp_path / "audience.csv"
        audience.write_text(
            "email,name\n" + "".join(f"{a},R{i}\n" for i, a in enumerate(ADDRESSES))
        )
        for address in HARD:
            smtp.handler.fault(address, "rcpt", "550 5.1.1 no such user")
        project = Project.at(root)
        plan = plan_send(project, "2020-10", audience)
        report = run_send(plan, make_transport(plan.prepared, "smtp"))
        assert report.sent == 45 and len(report.failed) == 5

        env = serve_env(SSL_CERT_FILE=str(ca_file))
        with running_service(root, port, env=env) as base:
            message = next(r.message for r in smtp.handler.received if r.rcpt == [COMPLAINER])
            complaint = sns.notification(
                ses_complaint(COMPLAINER, message_id=message["Message-ID"])
            )
            assert (
                httpx.post(f"{base}/webhooks/ses", content=json.dumps(complaint)).status_code == 200
            )
            body = json.dumps([sendgrid_event(SG_BOUNCE, issue="2020-10")]).encode()
            answer = httpx.post(
                f"{base}/webhooks/sendgrid", content=body, headers=signer.headers(body)
            )
            assert answer.status_code == 200

            # Story links go through the redirect; a click counts, and says nothing of who.
            html = message.get_body(("html",))
            assert html is not None
            tracked = sorted(
                set(re.findall(rf'href="({re.escape(base)}/r/[0-9a-f]+)"', html.get_content()))
            )
            assert tracked, "no story link goes through the redirect"
            first = httpx.get(tracked[0])
            assert first.status_code == 302 and first.headers["location"].startswith("https://")
            httpx.get(tracked[0])
            assert httpx.get(f"{base}/r/0000000000000000").status_code == 404

        result = cli("report", "2020-10", "--format", "json", "--html", str(tmp_path / "r.html"),
                     cwd=root)  # fmt: skip
        assert result.returncode == 0, result.stderr
        found = json.loads(result.stdout)
        assert found["sent"] == 45
        assert found["bounced_hard"] == 6  # 5 refused at send time, 1 reported by SendGrid
        assert found["complained"] == 1
        assert sum(c["clicks"] for c in found["clicks"]) == 2
        assert found["clicks"][0]["clicks"] == 2 and not found["clicks"][0]["title"].startswith(
            "http"
        )
        page = (tmp_path / "r.html").read_text()
        assert "<svg" in page and "Clicks per story" in page
        table = cli("report", "2020-10", cwd=root)
        assert table.returncode == 0 and "bounced, hard" in table.stdout

        # The next issue leaves out all seven.
        following = plan_send(Project.at(root), "2024-03", audience)
        skipped = {r.value for r in following.audience.rejected if r.kind == "suppressed"}
        assert skipped == {*HARD, COMPLAINER, SG_BOUNCE}
        assert len(following.recipients) == 43


def test_a_burst_of_webhook_events_is_stored_once_each(tmp_path: Path, backend: Backend) -> None:
    """10,000 events in SendGrid batches of 100, each posted as soon as the last is answered
    (no slower than the 1,000 a second a provider's burst brings): none lost, none twice."""
    with SmtpServer() as smtp, fake_sns(tmp_path) as (sns, _):
        signer = SendGridSigner()
        port = free_port()
        extra = webhook_config(sns, signer)
        root = serve_project(tmp_path / "p", smtp.port, port, extra, backend.url)
        batches = [
            [sendgrid_event(f"burst{b:03d}-{i:03d}@example.org", "delivered", issue="2020-10")
             for i in range(100)]
            for b in range(100)
        ]  # fmt: skip
        with running_service(root, port) as base, httpx.Client(base_url=base, timeout=30) as client:
            for batch in batches:
                body = json.dumps(batch).encode()
                answer = client.post(
                    "/webhooks/sendgrid", content=body, headers=signer.headers(body)
                )
                assert answer.status_code == 200 and answer.json()["new"] == 100
            again = json.dumps(batches[0]).encode()
            replay = client.post("/webhooks/sendgrid", content=again, headers=signer.headers(again))
            assert replay.json() == {"new": 0, "duplicates": 100}
        result = cli("report", "2020-10", "--format", "json", cwd=root, env={"COLUMNS": "200"})
        assert json.loads(result.stdout)["delivered"] == 10_000
