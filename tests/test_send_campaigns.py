"""`send --via brevo|mailchimp|listmonk`: one campaign per issue, against local fakes.

The fakes (tests/fake_campaigns.py) keep their lists and campaigns and count the copies a
started campaign sends, so a second campaign or a second start would show at the fake.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newsletter.deliver.send import plan_send, run_send
from newsletter.errors import SendError
from newsletter.project import Project
from newsletter.store.providerlog import ProviderLog
from newsletter.store.sendlog import SendLog
from tests.clirun import cli, cli_process, process_env
from tests.factories import audience
from tests.factories import send_project as make_project
from tests.fake_campaigns import USER, CampaignFake, FakeBrevo, FakeListmonk, FakeMailchimp
from tests.pgserver import Backend
from tests.test_send_api import MONTH, FakeClock, addresses, env_for, scheduled, transport

# provider -> (its fake, contacts per import request, requests per import (with the question
# whether it finished: Brevo and listmonk import in the background), requests after them)
CAMPAIGN_APIS: dict[str, tuple[type[CampaignFake], int, int, int]] = {
    "brevo": (FakeBrevo, 1000, 2, 2),  # import + process; create, sendNow
    "mailchimp": (FakeMailchimp, 500, 1, 3),  # members; create, content, actions/send
    "listmonk": (FakeListmonk, 10**9, 2, 2),  # import + its status; create, status running
}


def requests_for(name: str, recipients: int) -> int:
    _, per_import, each, after = CAMPAIGN_APIS[name]
    return -(-recipients // per_import) * each + after


def campaign_env(name: str) -> dict[str, str]:
    return {**env_for(name), "NEWSLETTER_LISTMONK_API_USER": USER}


@pytest.fixture(params=sorted(CAMPAIGN_APIS))
def api(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[CampaignFake]:
    with CAMPAIGN_APIS[request.param][0]() as fake:
        for key, value in campaign_env(fake.name).items():
            monkeypatch.setenv(key, value)
        yield fake


def project_for(tmp_path: Path, fake: CampaignFake) -> Project:
    where = {
        "brevo": f'base_url = "{fake.url}/v3"',
        "mailchimp": f'base_url = "{fake.url}/3.0"',
        "listmonk": f'url = "{fake.url}"',
    }[fake.name]
    return make_project(
        tmp_path / "p", 25,
        '\n[providers]\nmailchimp_list_id = "a1b2c3d4e5"\nbrevo_list_ids = [2]\n'
        f"listmonk_list_ids = [1]\n[providers.{fake.name}]\n{where}\ntimeout = 2\nrate = 1000\n",
    )  # fmt: skip


def test_2345_recipients_in_the_providers_batches_and_a_rerun_sends_nothing(
    tmp_path: Path, api: CampaignFake
) -> None:
    root = project_for(tmp_path, api).root
    path = audience(tmp_path / "a.csv", addresses(2345))
    args = ("send", MONTH, "--via", api.name, "--audience", str(path), "--yes")
    first = cli(*args, cwd=root)
    assert first.returncode == 0, first.stderr + first.stdout
    assert api.attempts == requests_for(api.name, 2345)
    assert len(api.campaigns) == 1 and api.delivered == {a: 1 for a in addresses(2345)}
    second = cli(*args, cwd=root)
    assert second.returncode == 0, second.stderr
    assert "Already sent earlier: 2345" in second.stdout
    assert api.attempts == requests_for(api.name, 2345)
    with SendLog(Project.at(root).database) as log:
        assert log.counts(MONTH) == {"sent": 2345}
    with ProviderLog(Project.at(root).database) as steps:
        campaign = steps.step(MONTH, api.name, "campaign")
        assert campaign is not None and campaign.provider_id in api.campaigns


def test_a_lost_answer_to_create_finds_the_campaign_instead_of_making_another(
    tmp_path: Path, api: CampaignFake
) -> None:
    project = project_for(tmp_path, api)
    path = audience(tmp_path / "a.csv", addresses(600))
    imports = requests_for(api.name, 600) - CAMPAIGN_APIS[api.name][3]
    api.fail_after(imports, "timeout")  # the fake creates it; the answer is lost
    with pytest.raises(SendError, match="cannot tell whether it did create the campaign"):
        run_send(plan_send(project, MONTH, path, via=api.name),
                 transport(project, api.name, FakeClock()))  # fmt: skip
    assert len(api.campaigns) == 1 and not api.delivered
    report = run_send(plan_send(project, MONTH, path, via=api.name),
                      transport(project, api.name, FakeClock()))  # fmt: skip
    assert report.sent == 600 and report.ok
    assert len(api.campaigns) == 1 and api.delivered == {a: 1 for a in addresses(600)}
    assert api.calls["list"] == 1  # looked for, once


def test_a_lost_answer_to_the_start_is_uncertain_and_never_started_again(
    tmp_path: Path, api: CampaignFake
) -> None:
    project = project_for(tmp_path, api)
    path = audience(tmp_path / "a.csv", addresses(10))
    api.fail_after(requests_for(api.name, 10) - 1, "timeout")
    report = run_send(plan_send(project, MONTH, path, via=api.name),
                      transport(project, api.name, FakeClock()))  # fmt: skip
    assert len(report.uncertain) == 10 and api.delivered == {a: 1 for a in addresses(10)}
    plan = plan_send(project, MONTH, path, via=api.name)
    assert plan.recipients == [] and len(plan.uncertain) == 10
    # Someone new in the audience: the campaign is not started a second time for them.
    path = audience(tmp_path / "b.csv", addresses(11))
    with pytest.raises(SendError, match="may have started the campaign"):
        run_send(plan_send(project, MONTH, path, via=api.name),
                 transport(project, api.name, FakeClock()))  # fmt: skip
    assert max(api.delivered.values()) == 1 and len(api.campaigns) == 1


def test_429_and_500_are_retried_without_waiting(tmp_path: Path, api: CampaignFake) -> None:
    project = project_for(tmp_path, api)
    path = audience(tmp_path / "a.csv", addresses(20))
    api.faults = [429, 500]
    api.retry_after = "30"
    clock = FakeClock()
    report = run_send(plan_send(project, MONTH, path, via=api.name),
                      transport(project, api.name, clock))  # fmt: skip
    assert report.sent == 20 and 30.0 in clock.sleeps and 2.0 in clock.sleeps
    assert api.delivered == {a: 1 for a in addresses(20)} and len(api.campaigns) == 1


def test_a_wrong_key_is_the_providers_refusal_and_nothing_is_made(
    tmp_path: Path, api: CampaignFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsletter.deliver.export.endpoints import API_KEYS

    project = project_for(tmp_path, api)
    path = audience(tmp_path / "a.csv", addresses(3))
    monkeypatch.setenv(API_KEYS[api.name], "wrong")
    status = {"brevo": 401, "mailchimp": 401, "listmonk": 403}[api.name]
    with pytest.raises(SendError, match=f"HTTP {status}"):
        run_send(plan_send(project, MONTH, path, via=api.name),
                 transport(project, api.name, FakeClock()))  # fmt: skip
    assert not api.campaigns and not api.contacts
    with SendLog(project.database) as log:
        assert log.counts(MONTH) == {"deferred": 3}


def test_a_send_time_ahead_schedules_the_campaign(tmp_path: Path, api: CampaignFake) -> None:
    from newsletter.deliver.send import TransportOptions
    from newsletter.registry import TRANSPORTS

    when = (datetime.now(UTC) + timedelta(days=2)).replace(minute=15, second=0, microsecond=0)
    project = project_for(tmp_path, api)
    path = audience(tmp_path / "a.csv", addresses(4))
    prepared = scheduled(project, when)
    plan = plan_send(project, MONTH, path, via=api.name)
    plan.prepared = prepared
    factory = TRANSPORTS.get(api.name)
    report = run_send(plan, factory(prepared, TransportOptions(clock=FakeClock())))  # type: ignore[operator]
    assert report.sent == 4 and api.scheduled == [when]
    assert [c["status"] for c in api.campaigns.values()] == ["scheduled"]


def test_proofs_go_another_way(tmp_path: Path, api: CampaignFake) -> None:
    root = project_for(tmp_path, api).root
    result = cli("send", MONTH, "--via", api.name, "--test-to", "ed@example.org", cwd=root)
    assert result.returncode == 8 and "no --test-to proof" in result.stderr
    assert api.attempts == 0


def test_a_sigkilled_send_never_starts_the_campaign_twice(
    tmp_path: Path, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real `newsletter send`, killed right after Mailchimp took the campaign's start."""
    with FakeMailchimp() as mailchimp:
        root = project_for(tmp_path, mailchimp).root
        path = audience(tmp_path / "a.csv", addresses(600))
        args = ["send", MONTH, "--via", "mailchimp", "--audience", str(path), "--yes"]
        env = {**campaign_env("mailchimp"), **backend.env}
        mailchimp.fail_after(requests_for("mailchimp", 600) - 1, "kill")
        proc = subprocess.Popen([sys.executable, "-m", "newsletter", *args], cwd=root,
                                env=process_env(env), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)  # fmt: skip
        mailchimp.on_kill = lambda: os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=120)
        assert proc.returncode == -signal.SIGKILL
        assert mailchimp.delivered == {a: 1 for a in addresses(600)}
        rerun = cli_process(*args, cwd=root, env=env)
        assert rerun.returncode == 0, rerun.stderr
        assert "Uncertain from an interrupted run: 600" in rerun.stdout
        assert mailchimp.attempts == requests_for("mailchimp", 600)  # the rerun asked nothing
        assert len(mailchimp.campaigns) == 1 and max(mailchimp.delivered.values()) == 1
