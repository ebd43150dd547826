"""Export manifests name real addresses: region and data centre come from newsletter.toml."""

from __future__ import annotations

import json
import shutil
from email.utils import format_datetime
from pathlib import Path

import pytest

from newsletter.deliver.export import export_issue
from newsletter.errors import ConfigError
from newsletter.project import Project
from tests.conftest import REPO
from tests.factories import without_tables

SECRET = "endpoint-test-secret-0123456789"
AUDIENCE = REPO / "tests" / "fixtures" / "audiences" / "sample.csv"


def project(root: Path, providers: str) -> Project:
    root.mkdir()
    text = without_tables((REPO / "newsletter.toml").read_text(), "providers")
    (root / "newsletter.toml").write_text(
        text + '\n[providers]\nmailchimp_list_id = "a1"\nbrevo_list_ids = [2]\n'
        f"listmonk_list_ids = [1]\n{providers}"
    )
    shutil.copytree(REPO / "issues", root / "issues")
    shutil.copytree(REPO / "sources", root / "sources")
    return Project.at(root)


def urls(project: Project, provider: str, out: Path) -> list[str]:
    audience = None if provider in ("mailchimp", "brevo", "listmonk") else AUDIENCE
    export_issue(project, "2020-10", provider, out, audience)
    manifest = json.loads((out / "manifest.json").read_text())
    return [r["url"] for r in manifest["requests"]]


def test_every_manifest_url_is_real(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    p = project(
        tmp_path / "p",
        'ses_region = "eu-north-1"\n[providers.mailchimp]\ndc = "us21"\n'
        '[providers.mailgun]\nregion = "eu"\n[providers.listmonk]\nurl = "https://lists.example.org/"\n',
    )
    found = {name: urls(p, name, tmp_path / name)
             for name in ("sendgrid", "mailgun", "postmark", "ses", "mailchimp", "brevo",
                          "listmonk")}  # fmt: skip
    for name, addresses in found.items():
        for url in addresses:
            assert url.startswith("https://"), (name, url)
            assert "{region}" not in url and "{dc}" not in url, (name, url)
    assert all(u.startswith("https://us21.api.mailchimp.com/3.0/") for u in found["mailchimp"])
    assert all(u.startswith("https://email.eu-north-1.amazonaws.com/v2/") for u in found["ses"])
    assert found["mailgun"][0] == "https://api.eu.mailgun.net/v3/oslocancercluster.no/messages"
    assert found["listmonk"][-1].startswith("https://lists.example.org/api/campaigns/")
    assert found["sendgrid"][0] == "https://api.sendgrid.com/v3/mail/send"


def test_the_data_centre_comes_from_the_key_or_is_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = project(tmp_path / "p", "")
    monkeypatch.delenv("NEWSLETTER_MAILCHIMP_API_KEY", raising=False)
    with pytest.raises(ConfigError, match=r"providers\.mailchimp\.dc"):
        export_issue(p, "2020-10", "mailchimp", tmp_path / "a")
    monkeypatch.setenv("NEWSLETTER_MAILCHIMP_API_KEY", "0123abcd-us9")
    assert urls(p, "mailchimp", tmp_path / "b")[0].startswith("https://us9.api.mailchimp.com/")


def test_exports_carry_the_issues_send_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace
    from datetime import UTC, datetime, timedelta

    from newsletter.deliver.audience import Audience
    from newsletter.deliver.export import ExportContext, prepare
    from newsletter.registry import PROVIDERS

    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    p = project(tmp_path / "p", '[providers.mailchimp]\ndc = "us6"\n[providers.listmonk]\n'
                'url = "https://lists.example.org"\n')  # fmt: skip
    when = (datetime.now(UTC) + timedelta(hours=30)).replace(minute=30, second=0, microsecond=0)
    prepared = prepare(p, "2020-10")
    prepared = replace(prepared, issue=prepared.issue.model_copy(update={"send_at": when}))

    def bodies(name: str) -> list[tuple[str, object]]:
        from newsletter.deliver.export.files import MANIFEST

        out = tmp_path / name
        out.mkdir()
        audience = Audience(AUDIENCE) if name in ("sendgrid", "mailgun") else None
        PROVIDERS.get(name)(ExportContext(prepared, out, name, audience))  # type: ignore[operator]
        return [(f.name, json.loads(f.read_text())) for f in sorted(out.glob("0*.json"))
                if f.name != MANIFEST]  # fmt: skip

    assert bodies("sendgrid")[0][1]["send_at"] == int(when.timestamp())  # type: ignore[index]
    mailgun = bodies("mailgun")[0][1]
    assert mailgun["o:deliverytime"] == format_datetime(when)  # type: ignore[index]
    assert bodies("brevo")[-1][1]["scheduledAt"] == when.isoformat()  # type: ignore[index]
    schedule = bodies("mailchimp")[-1]
    assert schedule[0].endswith("-schedule.json")
    assert schedule[1] == {"schedule_time": when.strftime("%Y-%m-%dT%H:%M:%SZ")}
    listmonk = bodies("listmonk")
    assert listmonk[-2][1]["send_at"] == when.isoformat()  # type: ignore[index]
    assert listmonk[-1][1] == {"status": "scheduled"}
