"""`newsletter send --due`: every approved issue whose send_at has come goes out, once.

The command line's clock is injected (``CLOCK.now``); messages are counted at a real
aiosmtpd server. A timer that fires twice, or before the time, sends nothing more.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from newsletter.cli.app import CLOCK
from newsletter.deliver.send.due import Standing, schedule
from newsletter.issuefile import load_issue
from newsletter.models import IssueStatus
from newsletter.project import Project
from tests.clirun import CliResult
from tests.clirun import cli as run_cli
from tests.factories import approve, audience, send_project
from tests.test_send_smtp import SmtpServer

SECRET = "due-test-secret-0123456789"
READERS = [f"reader{i}@example.org" for i in range(4)]
OSLO = timezone(timedelta(hours=1))


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    with SmtpServer() as smtp:
        yield smtp


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    now = [datetime(2020, 11, 1, tzinfo=UTC)]
    monkeypatch.setattr(CLOCK, "now", lambda: now[0])
    return now


def schedule_issue(root: Path, month: str, send_at: str) -> None:
    """Give ``month`` this send_at (as typed in the file) and approve it again."""
    path = root / "issues" / f"{month}.yaml"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(
        "".join(f"send_at: {send_at}\n" if ln.startswith("send_at:") else ln for ln in lines)
    )
    approve(root, month)


@pytest.fixture
def project(tmp_path: Path, server: SmtpServer) -> Project:
    project = send_project(tmp_path / "p", server.port)
    schedule_issue(project.root, "2020-10", "2020-11-03T09:00+01:00")
    schedule_issue(project.root, "2024-03", "2024-03-10")
    audience(project.root / "audience.csv", READERS)
    return project


def due(project: Project, *more: str) -> CliResult:
    return run_cli(
        "send", "--due", "--audience", str(project.root / "audience.csv"), *more,
        cwd=project.root, env={"NEWSLETTER_SECRET": SECRET},
    )  # fmt: skip


def sent_months(server: SmtpServer) -> list[str]:
    """The issue of each message the server accepted, in order (from its subject)."""
    subjects = {"Students": "2020-10", "Seed funding": "2024-03"}
    found = []
    for received in server.handler.received:
        subject = str(received.message["Subject"])
        found += [month for start, month in subjects.items() if subject.startswith(start)]
    return found


def test_an_issue_goes_out_when_its_time_comes_and_only_once(
    project: Project, server: SmtpServer, clock: list[datetime]
) -> None:
    clock[0] = datetime(2020, 11, 3, 7, 59, tzinfo=UTC)  # 08:59 in Oslo: a minute early
    early = due(project)
    assert early.returncode == 0, early.stderr
    assert "2020-10: approved, goes out at 2020-11-03 09:00 +0100." in early.stdout
    assert "Nothing is due at 2020-11-03 07:59 UTC." in early.stdout
    assert server.handler.received == []

    clock[0] = datetime(2020, 11, 3, 8, 0, tzinfo=UTC)  # 09:00 in Oslo
    done = due(project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2020-10 is due (send_at 2020-11-03 09:00 +0100)." in done.stdout
    assert "Marked 2020-10 as sent in" in done.stdout
    assert server.handler.count() == dict.fromkeys(READERS, 1)
    issue = load_issue(project.issue_path("2020-10"))
    assert issue.status is IssueStatus.sent and issue.sent_at == clock[0]
    assert load_issue(project.issue_path("2024-03")).status is IssueStatus.approved

    clock[0] += timedelta(minutes=5)  # the timer fires again: nothing more goes out
    again = due(project)
    assert again.returncode == 0, again.stderr
    assert "Nothing is due" in again.stdout and len(server.handler.received) == 4
    assert load_issue(project.issue_path("2020-10")).sent_at == clock[0] - timedelta(minutes=5)

    clock[0] = datetime(2024, 3, 10, 0, 0, tzinfo=UTC)  # a date alone: from midnight UTC
    later = due(project)
    assert later.returncode == 0, later.stderr
    assert sent_months(server) == ["2020-10"] * 4 + ["2024-03"] * 4
    assert load_issue(project.issue_path("2024-03")).status is IssueStatus.sent


@pytest.mark.parametrize(
    ("send_at", "now", "standing"),
    [
        ("2020-11-03T09:00+01:00", datetime(2020, 11, 3, 8, 0, tzinfo=UTC), Standing.due),
        ("2020-11-03T09:00+01:00", datetime(2020, 11, 3, 8, 59, tzinfo=OSLO), Standing.waiting),
        ("2020-11-03T09:00-05:00", datetime(2020, 11, 3, 13, 59, tzinfo=UTC), Standing.waiting),
        ("2020-11-03T09:00-05:00", datetime(2020, 11, 3, 14, 0, tzinfo=UTC), Standing.due),
        ("2020-11-03T09:00Z", datetime(2020, 11, 3, 10, 0, tzinfo=OSLO), Standing.due),
        ("2020-11-03", datetime(2020, 11, 2, 23, 59, tzinfo=UTC), Standing.waiting),
        ("2020-11-03", datetime(2020, 11, 3, 1, 0, tzinfo=OSLO), Standing.due),
    ],
)
def test_the_time_compares_across_offsets(
    tmp_path: Path, send_at: str, now: datetime, standing: Standing
) -> None:
    project = send_project(tmp_path / "p", 25)
    schedule_issue(project.root, "2020-10", send_at)
    found = {entry.month: entry.standing for entry in schedule(project, now)}
    assert found["2020-10"] is standing


def test_drafts_and_sent_issues_are_never_due_and_unscheduled_ones_wait_for_a_person(
    tmp_path: Path,
) -> None:
    project = send_project(tmp_path / "p", 25)
    root = project.root
    path = root / "issues" / "2024-03.yaml"
    path.write_text(path.read_text().replace("status: approved", "status: draft"))
    october = root / "issues" / "2020-10.yaml"
    october.write_text("".join(
        ln for ln in october.read_text().splitlines(keepends=True) if not ln.startswith("send_at")
    ))  # fmt: skip
    approve(root, "2020-10")
    now = datetime(2030, 1, 1, tzinfo=UTC)
    found = {entry.month: entry.standing for entry in schedule(project, now)}
    assert found == {"2020-10": Standing.unscheduled, "2024-03": Standing.draft}

    done = run_cli("send", "--due", cwd=root, env={"NEWSLETTER_SECRET": SECRET})
    assert done.returncode == 0, done.stderr
    said = "2024-03: its send_at (2024-03-10 00:00 +0000) has come, but it is a draft"
    assert said in done.stdout
    assert "`newsletter approve 2024-03` to send it" in done.stdout
    assert "Nothing is due" in done.stdout


def test_a_changed_issue_is_refused_and_the_others_still_go_out(
    project: Project, server: SmtpServer, clock: list[datetime]
) -> None:
    path = project.issue_path("2020-10")
    path.write_text(path.read_text().replace("Students meet their mentors", "Students meet"))
    clock[0] = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
    done = due(project)
    assert done.returncode == 10, done.stdout + done.stderr
    assert "the issue was changed after it was approved by Test Editor" in done.stderr
    assert sent_months(server) == ["2024-03"] * 4
    assert load_issue(path).status is IssueStatus.approved


def test_an_unfinished_send_stays_due_and_the_next_run_finishes_it(
    project: Project, server: SmtpServer, clock: list[datetime]
) -> None:
    server.handler.fault(READERS[1], "rcpt", *["451 4.3.0 try later"] * 3)  # every attempt
    clock[0] = datetime(2020, 11, 3, 9, 0, tzinfo=UTC)
    first = due(project)
    assert first.returncode == 3, first.stdout + first.stderr
    assert "Marked 2020-10 as sent" not in first.stdout
    assert load_issue(project.issue_path("2020-10")).status is IssueStatus.approved

    clock[0] += timedelta(minutes=10)
    second = due(project)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Already sent earlier: 3 (skipped)." in second.stdout
    assert "Marked 2020-10 as sent" in second.stdout
    assert server.handler.count() == dict.fromkeys(READERS, 1)


def test_a_dry_run_of_the_due_issues_sends_and_marks_nothing(
    project: Project, server: SmtpServer, clock: list[datetime]
) -> None:
    clock[0] = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
    done = due(project, "--dry-run")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("Dry run: built 4 message(s)") == 2
    assert server.handler.received == []
    assert {load_issue(project.issue_path(m)).status for m in ("2020-10", "2024-03")} == {
        IssueStatus.approved
    }


def test_a_month_or_due_but_not_both(project: Project) -> None:
    for args, said in [
        ((), "or --due for every issue"),
        (("2020-10", "--due"), "or --due for every issue"),
        (("--due", "--test-to", "me@example.org"), "a proof is of one issue"),
    ]:
        done = run_cli("send", *args, cwd=project.root, env={"NEWSLETTER_SECRET": SECRET})
        assert done.returncode == 2 and said in done.stderr, done.stderr
    assert load_issue(project.issue_path("2024-03")).send_at == date(2024, 3, 10)
