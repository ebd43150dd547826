"""Export manifests name real addresses: region and data centre come from newsletter.toml."""

from __future__ import annotations

import json
import shutil
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
