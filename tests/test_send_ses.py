"""`send --via ses` against moto's SES emulator in server mode, over real HTTP on localhost.

moto 5 emulates SESv2 identities but not ``CreateEmailTemplate`` or ``SendBulkEmail``; the
fixture adds those two operations on top of moto's own SES engine (its template store, its
"identity not verified" check and its bulk templated send), and renders every entry the way
SES does, so the test sees each recipient's actual message. boto3 still validates every
request against botocore's SESv2 model on the way out.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newsletter.deliver import merge
from newsletter.deliver.send import make_transport, plan_send, run_send
from newsletter.errors import SendError
from newsletter.store.sendlog import SendLog
from tests.clirun import cli
from tests.factories import audience
from tests.factories import send_project as make_project
from tests.test_send_smtp import free_port

pytest.importorskip("boto3")
pytest.importorskip("moto")

SECRET = "ses-test-secret-0123456789"
REGION = "eu-west-1"


class SesEmulator:
    """moto's server with SESv2 CreateEmailTemplate and SendBulkEmail added."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self.port = free_port()
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.delivered: list[dict[str, str]] = []  # one per recipient: to, subject, html, text
        self.calls: Counter[str] = Counter()
        self.fail_next: list[str] = []  # error codes to answer SendBulkEmail with
        self._patch()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _patch(self) -> None:
        from moto.core.exceptions import JsonRESTError
        from moto.ses.exceptions import TemplateNameAlreadyExists
        from moto.ses.template import parse_template
        from moto.sesv2.responses import SESV2Response

        emulator = self

        def create_email_template(self: Any) -> str:
            emulator.calls["CreateEmailTemplate"] += 1
            params = json.loads(self.body)
            content = params["TemplateContent"]
            try:
                self.sesv2_backend.core_backend.add_template(
                    {
                        "template_name": params["TemplateName"],
                        "subject_part": content["Subject"],
                        "html_part": content.get("Html", ""),
                        "text_part": content.get("Text", ""),
                    }
                )
            except TemplateNameAlreadyExists:
                raise JsonRESTError("AlreadyExistsException", "template exists") from None
            return "{}"

        def send_bulk_email(self: Any) -> str:
            emulator.calls["SendBulkEmail"] += 1
            if emulator.fail_next:
                raise JsonRESTError(emulator.fail_next.pop(0), "injected")
            params = json.loads(self.body)
            template = params["DefaultContent"]["Template"]
            entries = params["BulkEmailEntries"]
            assert len(entries) <= 50, "SES takes at most 50 entries"
            core = self.sesv2_backend.core_backend
            message = core.send_bulk_templated_email(
                source=params["FromEmailAddress"],
                template=template["TemplateName"],
                template_data=template["TemplateData"],
                destinations=[
                    {
                        "Destination": e["Destination"],
                        "ReplacementTemplateData": e["ReplacementEmailContent"][
                            "ReplacementTemplate"
                        ]["ReplacementTemplateData"],
                    }
                    for e in entries
                ],
            )
            stored = core.templates[template["TemplateName"]]
            defaults = json.loads(template["TemplateData"])
            for entry in entries:
                data = {
                    **defaults,
                    **json.loads(
                        entry["ReplacementEmailContent"]["ReplacementTemplate"][
                            "ReplacementTemplateData"
                        ]
                    ),
                }
                emulator.delivered.append(
                    {
                        "to": entry["Destination"]["ToAddresses"][0],
                        "subject": parse_template(stored["subject_part"], data),
                        "html": parse_template(stored["html_part"], data),
                        "text": parse_template(stored["text_part"], data),
                        "headers": json.dumps(
                            template.get("Headers", []) + entry.get("ReplacementHeaders", [])
                        ),
                    }
                )
            results = [{"Status": "SUCCESS", "MessageId": mid} for mid in message.ids]
            return json.dumps({"BulkEmailEntryResults": results})

        from moto.sesv2 import urls

        self._originals = {
            name: getattr(SESV2Response, name, None)
            for name in ("create_email_template", "send_bulk_email")
        }
        self._added_paths = [
            path
            for path in ("{0}/v2/email/templates$", "{0}/v2/email/outbound-bulk-emails$")
            if path not in urls.url_paths
        ]
        for path in self._added_paths:
            urls.url_paths[path] = SESV2Response.dispatch
        SESV2Response.create_email_template = create_email_template  # type: ignore[attr-defined]
        SESV2Response.send_bulk_email = send_bulk_email  # type: ignore[attr-defined]

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "sesv2",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def __enter__(self) -> SesEmulator:
        import urllib.request

        self.server.start()
        # moto keeps its state per process: start every test from an empty account.
        urllib.request.urlopen(urllib.request.Request(f"{self.url}/moto-api/reset", method="POST"))
        return self

    def __exit__(self, *exc: object) -> None:
        from moto.sesv2 import urls
        from moto.sesv2.responses import SESV2Response

        self.server.stop()
        for path in self._added_paths:
            urls.url_paths.pop(path, None)
        for name, original in self._originals.items():
            if original is None:
                delattr(SESV2Response, name)
            else:
                setattr(SESV2Response, name, original)


@pytest.fixture
def ses(monkeypatch: pytest.MonkeyPatch) -> Iterator[SesEmulator]:
    with SesEmulator() as emulator:
        for key, value in {
            "AWS_ENDPOINT_URL": emulator.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "NEWSLETTER_SECRET": SECRET,
        }.items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        yield emulator


def verify_sender(ses: SesEmulator) -> None:
    ses.client().create_email_identity(EmailIdentity="newsletter@oslocancercluster.no")


def test_ses_sends_in_batches_of_50_exactly_once(tmp_path: Path, ses: SesEmulator) -> None:
    verify_sender(ses)
    project = make_project(tmp_path / "p", 25)
    addresses = [f"s{i:03d}@example.org" for i in range(120)]
    path = audience(tmp_path / "a.csv", addresses)
    plan = plan_send(project, "2020-10", path, via="ses")
    report = run_send(plan, make_transport(plan.prepared, "ses"))
    assert report.sent == 120 and report.ok
    assert ses.calls == Counter({"SendBulkEmail": 3, "CreateEmailTemplate": 1})
    got = Counter(m["to"].rsplit("<", 1)[1].rstrip(">") for m in ses.delivered)
    assert got == Counter(addresses)
    # What SES rendered for one recipient is what our own SMTP copy would say.
    first = next(m for m in ses.delivered if "s007@" in m["to"])
    values = (
        merge.Personalizer(project.config, "2020-10", SECRET.encode())
        .personal(plan.recipients[7])
        .values
    )
    assert first["html"] == merge.fill(plan.prepared.html, values, escape=True)
    assert first["text"] == merge.fill(plan.prepared.text, values)
    headers = {h["Name"]: h["Value"] for h in json.loads(first["headers"])}
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert values["unsubscribe_url"] in headers["List-Unsubscribe"]

    plan = plan_send(project, "2020-10", path, via="ses")  # the rerun sends nothing
    assert plan.recipients == [] and plan.already_sent == 120
    assert run_send(plan, make_transport(plan.prepared, "ses")).sent == 0
    assert ses.calls["SendBulkEmail"] == 3


def test_ses_refusals(tmp_path: Path, ses: SesEmulator) -> None:
    project = make_project(tmp_path / "p", 25)
    path = audience(tmp_path / "a.csv", [f"t{i}@example.org" for i in range(3)])
    # An unverified sender: SES refuses the whole request, nothing is marked sent.
    plan = plan_send(project, "2020-10", path, via="ses")
    with pytest.raises(SendError, match="SES refused send_bulk_email: MessageRejected"):
        run_send(plan, make_transport(plan.prepared, "ses"))
    with SendLog(project.store_path) as log:
        assert log.counts("2020-10") == {"deferred": 3}
    # Throttling is retried (it proves nothing was sent); then the batch goes through.
    verify_sender(ses)
    ses.fail_next = ["TooManyRequestsException"]
    plan = plan_send(project, "2020-10", path, via="ses")
    report = run_send(plan, make_transport(plan.prepared, "ses"))
    assert report.sent == 3 and len(ses.delivered) == 3


def test_send_via_ses_from_the_command_line(tmp_path: Path, ses: SesEmulator) -> None:
    verify_sender(ses)
    project = make_project(tmp_path / "p", 25).root
    path = audience(tmp_path / "a.csv", [f"u{i}@example.org" for i in range(55)])
    args = ("send", "2020-10", "--via", "ses", "--audience", str(path), "--yes")
    first = cli(*args, cwd=project)
    assert first.returncode == 0, first.stderr
    assert "Amazon SES" in first.stdout and len(ses.delivered) == 55
    second = cli(*args, cwd=project)
    assert "Already sent earlier: 55" in second.stdout and len(ses.delivered) == 55
