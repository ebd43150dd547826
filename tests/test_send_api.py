"""`send --via sendgrid|mailgun|postmark`: the message APIs, against local fakes.

The fakes (tests/fake_messages.py) check every request as the provider documents it and
count each recipient's copies, so "exactly once" is counted where the mail would go.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newsletter.deliver import merge
from newsletter.deliver.export import Prepared, prepare
from newsletter.deliver.send import TransportOptions, make_transport, plan_send, run_send
from newsletter.deliver.send.transport import Transport
from newsletter.errors import NewsletterError, SendError
from newsletter.project import Project
from newsletter.registry import TRANSPORTS
from newsletter.store.sendlog import SendLog
from tests.clirun import cli, cli_process
from tests.factories import audience
from tests.factories import send_project as make_project
from tests.fake_messages import KEY, FakeMailgun, FakePostmark, FakeSendgrid, MessageFake
from tests.pgserver import Backend

SECRET = "api-test-secret-0123456789"
MONTH = "2020-10"


class FakeClock:
    """monotonic/sleep that never wait; ``sleeps`` says how long each wait would have been."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def env_for(name: str) -> dict[str, str]:
    from newsletter.deliver.export.endpoints import API_KEYS

    return {API_KEYS[name]: KEY, "NEWSLETTER_SECRET": SECRET}


@pytest.fixture
def sendgrid(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSendgrid]:
    with FakeSendgrid() as fake:
        for key, value in env_for("sendgrid").items():
            monkeypatch.setenv(key, value)
        yield fake


# provider -> (its fake, requests for 2,345 recipients, the route that takes them)
MESSAGE_APIS: dict[str, tuple[type[MessageFake], int, str]] = {
    "sendgrid": (FakeSendgrid, 3, "mail/send"),
    "mailgun": (FakeMailgun, 3, "messages"),
    "postmark": (FakePostmark, 5, "email/batch"),
}


@pytest.fixture(params=sorted(MESSAGE_APIS))
def api(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[MessageFake]:
    with MESSAGE_APIS[request.param][0]() as fake:
        for key, value in env_for(fake.name).items():
            monkeypatch.setenv(key, value)
        yield fake


def project_for(tmp_path: Path, fake: MessageFake, extra: str = "") -> Project:
    return make_project(
        tmp_path / "p", 25,
        f'\n[providers.{fake.name}]\nbase_url = "{fake.url}"\ntimeout = 2\nrate = 1000\n{extra}',
    )  # fmt: skip


def addresses(n: int, prefix: str = "r") -> list[str]:
    return [f"{prefix}{i:05d}@example.org" for i in range(n)]


def transport(project: Project, via: str, clock: FakeClock) -> Transport:
    from newsletter.deliver.export import prepare

    plan_prepared = prepare(project, MONTH)
    factory = TRANSPORTS.get(via)
    return factory(plan_prepared, TransportOptions(max_attempts=3, retry_delay=1.0, clock=clock))  # type: ignore[operator, no-any-return]


def test_the_registry_gives_the_cli_its_choices() -> None:
    result = cli("send", "--help", cwd=Path.cwd(), columns=200)
    for name in ("smtp", "ses", "sendgrid"):
        assert name in TRANSPORTS and name in result.stdout


def test_2345_recipients_in_the_providers_batches_and_a_rerun_sends_nothing(
    tmp_path: Path, api: MessageFake
) -> None:
    _, requests, route = MESSAGE_APIS[api.name]
    root = project_for(tmp_path, api).root
    path = audience(tmp_path / "a.csv", addresses(2345))
    args = ("send", MONTH, "--via", api.name, "--audience", str(path), "--yes")
    first = cli(*args, cwd=root)
    assert first.returncode == 0, first.stderr + first.stdout
    assert api.calls[route] == requests and api.attempts == requests
    assert api.delivered == {a: 1 for a in addresses(2345)}
    second = cli(*args, cwd=root)
    assert second.returncode == 0, second.stderr
    assert "Already sent earlier: 2345" in second.stdout
    assert api.attempts == requests
    with SendLog(Project.at(root).database) as log:
        assert log.counts(MONTH) == {"sent": 2345}


def test_every_copy_is_personalised_like_our_own(tmp_path: Path, api: MessageFake) -> None:
    project = project_for(tmp_path, api)
    path = audience(tmp_path / "a.csv", addresses(3))
    plan = plan_send(project, MONTH, path, via=api.name)
    report = run_send(plan, make_transport(plan.prepared, api.name))
    assert report.sent == 3 and report.ok
    personalizer = merge.Personalizer(project.config, MONTH, SECRET.encode())
    values = personalizer.personal(plan.recipients[1]).values
    copy = api.copies[addresses(3)[1]]
    assert copy["html"] == merge.fill(plan.prepared.html, values, escape=True)
    assert copy["text"] == merge.fill(plan.prepared.text, values)
    assert values["unsubscribe_url"] in copy["headers"]["List-Unsubscribe"]
    assert copy["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_429_and_500_are_retried_after_retry_after_without_waiting(
    tmp_path: Path, sendgrid: FakeSendgrid
) -> None:
    project = project_for(tmp_path, sendgrid)
    path = audience(tmp_path / "a.csv", addresses(1001))
    sendgrid.faults = [429, 500]
    sendgrid.retry_after = "7"
    clock = FakeClock()
    plan = plan_send(project, MONTH, path, via="sendgrid")
    report = run_send(plan, transport(project, "sendgrid", clock))
    assert report.sent == 1001 and report.ok
    assert sendgrid.attempts == 4 and sendgrid.calls["mail/send"] == 2
    assert 7.0 in clock.sleeps and 2.0 in clock.sleeps  # Retry-After, then doubling from 1 s
    assert sendgrid.delivered == {a: 1 for a in addresses(1001)}


def test_retries_that_run_out_defer_and_the_rerun_sends_them(
    tmp_path: Path, sendgrid: FakeSendgrid
) -> None:
    project = project_for(tmp_path, sendgrid)
    path = audience(tmp_path / "a.csv", addresses(5))
    sendgrid.faults = [500, 500, 500]
    plan = plan_send(project, MONTH, path, via="sendgrid")
    report = run_send(plan, transport(project, "sendgrid", FakeClock()))
    assert len(report.deferred) == 5 and not sendgrid.delivered
    report = run_send(plan_send(project, MONTH, path, via="sendgrid"),
                      transport(project, "sendgrid", FakeClock()))  # fmt: skip
    assert report.sent == 5 and sendgrid.delivered == {a: 1 for a in addresses(5)}


def test_a_timeout_is_uncertain_reported_and_never_resent(
    tmp_path: Path, sendgrid: FakeSendgrid, backend: Backend
) -> None:
    project = project_for(tmp_path, sendgrid)
    path = audience(tmp_path / "a.csv", addresses(1200))
    sendgrid.fail_after(0, "timeout")
    plan = plan_send(project, MONTH, path, via="sendgrid")
    report = run_send(plan, transport(project, "sendgrid", FakeClock()))
    assert report.sent == 200 and len(report.uncertain) == 1000 and not report.ok
    # The fake took the first batch: its 1000 recipients got the issue once.
    assert sendgrid.delivered == {a: 1 for a in addresses(1200)}
    plan = plan_send(project, MONTH, path, via="sendgrid")
    assert plan.recipients == [] and len(plan.uncertain) == 1000 and plan.already_sent == 200
    run_send(plan, transport(project, "sendgrid", FakeClock()))
    assert max(sendgrid.delivered.values()) == 1 and sendgrid.calls["mail/send"] == 2


def test_wrong_key_is_the_providers_401_and_nothing_is_marked_sent(
    tmp_path: Path, sendgrid: FakeSendgrid, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = project_for(tmp_path, sendgrid)
    path = audience(tmp_path / "a.csv", addresses(3))
    monkeypatch.setenv("NEWSLETTER_SENDGRID_API_KEY", "wrong")
    plan = plan_send(project, MONTH, path, via="sendgrid")
    with pytest.raises(SendError, match="HTTP 401") as info:
        run_send(plan, make_transport(plan.prepared, "sendgrid"))
    assert "NEWSLETTER_SENDGRID_API_KEY" in (info.value.hint or "")
    with SendLog(project.database) as log:
        assert log.counts(MONTH) == {"deferred": 3}
    monkeypatch.delenv("NEWSLETTER_SENDGRID_API_KEY")
    with pytest.raises(NewsletterError, match="NEWSLETTER_SENDGRID_API_KEY is not set"):
        run_send(plan_send(project, MONTH, path, via="sendgrid"),
                 make_transport(plan.prepared, "sendgrid"))  # fmt: skip
    assert sendgrid.attempts == 1


def test_a_sigkilled_send_resumes_and_sends_nobody_twice(
    tmp_path: Path, sendgrid: FakeSendgrid, backend: Backend
) -> None:
    """A real `newsletter send` process, killed right after the fake took its 2nd request."""
    import subprocess
    import sys

    from tests.clirun import process_env

    root = project_for(tmp_path, sendgrid).root
    path = audience(tmp_path / "a.csv", addresses(1500))
    args = ["send", MONTH, "--via", "sendgrid", "--audience", str(path), "--yes"]
    env = process_env({**env_for("sendgrid"), **backend.env})
    sendgrid.fail_after(0, "kill")
    proc = subprocess.Popen([sys.executable, "-m", "newsletter", *args], cwd=root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    sendgrid.on_kill = lambda: os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    assert sendgrid.calls["mail/send"] == 1 and sum(sendgrid.delivered.values()) == 1000
    rerun = cli_process(*args, cwd=root, env={**env_for("sendgrid"), **backend.env})
    assert rerun.returncode == 0, rerun.stderr
    assert "Uncertain from an interrupted run: 1000" in rerun.stdout
    assert sendgrid.calls["mail/send"] == 2
    assert sendgrid.delivered == {a: 1 for a in addresses(1500)}


def scheduled(project: Project, when: datetime) -> Prepared:
    """The issue with a send time (``send_at``, as the issue file gives it)."""
    from newsletter.deliver.export import prepare

    prepared = prepare(project, MONTH)
    return replace(prepared, issue=prepared.issue.model_copy(update={"send_at": when}))


def test_a_send_time_ahead_is_passed_on(tmp_path: Path, api: MessageFake) -> None:
    when = (datetime.now(UTC) + timedelta(hours=5)).replace(microsecond=0)
    project = project_for(tmp_path, api)
    prepared = scheduled(project, when)
    if api.name == "postmark":
        with pytest.raises(SendError, match="Postmark cannot schedule"):
            make_transport(prepared, api.name)
        return
    path = audience(tmp_path / "a.csv", addresses(2))
    plan = replace(plan_send(project, MONTH, path, via=api.name), prepared=prepared)
    assert run_send(plan, make_transport(prepared, api.name)).sent == 2
    stamp = api.scheduled[0]
    assert (stamp if isinstance(stamp, datetime) else datetime.fromtimestamp(stamp, UTC)) == when
    # Past the time, or further ahead than the provider holds mail: now, or an error.
    assert make_transport(scheduled(project, when - timedelta(days=1)), api.name).describe()
    with pytest.raises(SendError, match="at most 72 hours ahead"):
        make_transport(scheduled(project, when + timedelta(days=4)), api.name)


def test_postmark_checks_each_message_of_a_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakePostmark() as postmark:
        for key, value in env_for("postmark").items():
            monkeypatch.setenv(key, value)
        postmark.inactive = {"r00001@example.org"}
        project = project_for(tmp_path, postmark)
        path = audience(tmp_path / "a.csv", addresses(3))
        report = run_send(plan_send(project, MONTH, path, via="postmark"),
                          make_transport(prepare(project, MONTH), "postmark"))  # fmt: skip
        assert report.sent == 2 and [o.key for o in report.failed] == ["r00001@example.org"]
        assert "406" in report.failed[0].detail
        plan = plan_send(project, MONTH, path, via="postmark")
        assert plan.recipients == [] and plan.previously_failed == 1
