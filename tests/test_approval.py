"""Issue status: draft -> approved -> sent in the issue file, `newsletter approve`, and the
send gate (an unapproved or changed issue is refused; proofs and dry runs are not)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from newsletter.cli.app import CLOCK
from newsletter.errors import ApprovalError
from newsletter.issuefile import load_issue, validate_issue
from newsletter.issuefile.status import (
    content_digest,
    record_approval,
    record_sent,
    require_approved,
)
from newsletter.issuefile.yamlio import read_yaml
from newsletter.models import IssueStatus
from newsletter.project import Project
from tests.clirun import CliResult
from tests.clirun import cli as run_cli
from tests.conftest import FIXTURES, REPO
from tests.factories import send_project
from tests.test_send_smtp import SmtpServer

SECRET = "approval-test-secret-0123456789"
SAMPLE_AUDIENCE = FIXTURES / "audiences" / "sample.csv"
NOON = datetime(2020, 11, 2, 12, 0, tzinfo=UTC)
HAND_EDITED = """\
# Staff notes at the top stay.
month: 2024-03
subject: Seed funding   # the subject we agreed on
send_at: 2024-03-10T09:00+01:00
language: en
sections:
  - title: News
    stories:
      - id: 'a1'
        title: A story
        url: https://example.org/a
alternates: []
"""


def cli(*args: str, cwd: Path) -> CliResult:
    return run_cli(*args, cwd=cwd, env={"NEWSLETTER_SECRET": SECRET})


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[datetime]]:
    """The command line's wall clock, set by the test: ``clock[0]`` is now."""
    now = [NOON]
    monkeypatch.setattr(CLOCK, "now", lambda: now[0])
    yield now


def hand_edited(tmp_path: Path) -> Path:
    path = tmp_path / "2024-03.yaml"
    path.write_text(HAND_EDITED)
    return path


def line_with(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


# --- the file -------------------------------------------------------------------------------


def test_a_file_without_status_is_a_draft_and_send_at_may_carry_a_time(tmp_path: Path) -> None:
    issue = load_issue(hand_edited(tmp_path))
    assert issue.status is IssueStatus.draft
    assert issue.send_at == datetime(2024, 3, 10, 9, 0, tzinfo=timezone(timedelta(hours=1)))
    assert issue.send_date == date(2024, 3, 10)  # deadlines are judged on the day
    assert issue.due_at() == datetime(2024, 3, 10, 8, 0, tzinfo=UTC)


def test_approval_and_sending_round_trip_keeping_every_edit_and_comment(tmp_path: Path) -> None:
    path = hand_edited(tmp_path)
    record_approval(path, "Kari Nordmann", NOON)
    approved = path.read_text()
    # Only the status lines were added, after the send time; the rest is as staff wrote it.
    added = (
        "status: approved  # draft -> approved (newsletter approve) -> sent (newsletter send)\n"
        "approved_by: Kari Nordmann\napproved_at: 2020-11-02 12:00:00+00:00\n"
        f"approved_digest: {content_digest(read_yaml(path))}\n"
    )
    assert added in approved and approved.replace(added, "") == HAND_EDITED
    issue = require_approved(path)
    assert (issue.status, issue.approved_by, issue.approved_at) == (
        IssueStatus.approved, "Kari Nordmann", NOON,
    )  # fmt: skip

    record_sent(path, NOON + timedelta(days=1))
    sent = load_issue(path)
    assert sent.status is IssueStatus.sent and sent.sent_at == NOON + timedelta(days=1)
    text = path.read_text()
    assert "status: sent  # draft -> approved" in text
    assert "# Staff notes at the top stay." in text and "# the subject we agreed on" in text
    assert "send_at: 2024-03-10T09:00+01:00\n" in text  # as typed, not rewritten
    require_approved(path)  # a sent issue may be sent on (to newcomers): still approved


def test_a_comment_staff_wrote_on_the_status_line_is_kept(tmp_path: Path) -> None:
    path = hand_edited(tmp_path)
    path.write_text(HAND_EDITED.replace("language: en", "status: draft  # ask Ola\nlanguage: en"))
    record_approval(path, "Kari", NOON)
    assert re.search(r"^status: approved +# ask Ola$", path.read_text(), re.M)


@pytest.mark.parametrize(
    ("line", "key", "message"),
    [
        ("status: final", "status",
         "'final' is not allowed here; use 'draft', 'approved' or 'sent'"),
        ("approved_at: yesterday", "approved_at", "'yesterday' is not a date; write it as "
         "YYYY-MM-DD, for example 2024-03-10"),
        ("sent_at: 2024-03-10 09:00:00", "sent_at",
         "2024-03-10 09:00:00 has no time zone; write it like 2020-10-13 07:30:00+00:00"),
        ("send_date: 2024-03-10", "send_date",
         "is the older name of send_at and the file has both; keep one"),
    ],
)  # fmt: skip
def test_status_fields_in_the_wrong_shape_name_their_line(
    tmp_path: Path, line: str, key: str, message: str
) -> None:
    text = HAND_EDITED.replace("language: en\n", f"language: en\n{line}\n")
    path = tmp_path / "2024-03.yaml"
    path.write_text(text)
    problems = [str(p) for p in validate_issue(path).errors]
    assert f"line {line_with(text, line)}, {key}: {message}" in problems, problems


def test_the_older_send_date_key_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "2024-03.yaml"
    path.write_text(HAND_EDITED.replace("send_at: 2024-03-10T09:00+01:00", "send_date: 2024-03-10"))
    issue = load_issue(path)
    assert issue.send_at == date(2024, 3, 10)
    assert issue.due_at() == datetime(2024, 3, 10, tzinfo=UTC)


def test_a_draft_or_an_issue_changed_after_approval_is_not_sendable(tmp_path: Path) -> None:
    path = hand_edited(tmp_path)
    with pytest.raises(ApprovalError, match="2024-03 is a draft; only an approved issue") as info:
        require_approved(path)
    assert "newsletter approve 2024-03" in (info.value.hint or "")
    assert "--test-to" in (info.value.hint or "")

    record_approval(path, "Kari", NOON)
    # What readers do not get (comments, the draft's alternates and offered ids) is no change.
    text = path.read_text().replace("# Staff notes", "# More staff notes")
    path.write_text(text + "offered:\n- 'x'\n")
    require_approved(path)
    path.write_text(path.read_text().replace("title: A story", "title: A better story"))
    with pytest.raises(ApprovalError, match="changed after it was approved by Kari on 2020-11-02"):
        require_approved(path)

    hand = tmp_path / "hand" / "2024-03.yaml"
    hand.parent.mkdir()
    hand.write_text(HAND_EDITED.replace("language: en", "status: approved\nlanguage: en"))
    with pytest.raises(ApprovalError, match="records no approval"):
        require_approved(hand)


# --- newsletter approve ---------------------------------------------------------------------


def sample_copy(root: Path) -> Project:
    """This repository's project with its 2020-10 issue set back to a draft."""
    root.mkdir(parents=True)
    for name in ("newsletter.toml", "sources", "issues"):
        copy = shutil.copytree if (REPO / name).is_dir() else shutil.copy
        copy(REPO / name, root / name)
    path = root / "issues" / "2020-10.yaml"
    keep = [ln for ln in path.read_text().splitlines(keepends=True) if not ln.startswith(
        ("status:", "approved_by:", "approved_at:", "approved_digest:", "sent_at:")
    )]  # fmt: skip
    path.write_text("".join(keep))
    return Project.at(root)


def test_approve_records_who_and_when_from_the_clock(tmp_path: Path, clock: list[datetime]) -> None:
    project = sample_copy(tmp_path / "p")
    assert load_issue(project.issue_path("2020-10")).status is IssueStatus.draft
    done = cli("approve", "2020-10", "--by", "Kari Nordmann", cwd=project.root)
    assert done.returncode == 0, done.stderr
    assert "Approved 2020-10 by Kari Nordmann at 2020-11-02 12:00 UTC" in done.stdout
    issue = require_approved(project.issue_path("2020-10"))
    assert (issue.approved_by, issue.approved_at) == ("Kari Nordmann", NOON)


def test_approve_names_the_approver_from_git_or_the_login(
    tmp_path: Path, clock: list[datetime], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = sample_copy(tmp_path / "p")
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[user]\n\tname = Git Person\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    assert cli("approve", "2020-10", cwd=project.root).returncode == 0
    assert load_issue(project.issue_path("2020-10")).approved_by == "Git Person"

    (home / ".gitconfig").unlink()
    monkeypatch.setenv("USER", "kari")
    done = cli("approve", "2020-10", cwd=project.root)
    assert done.returncode == 0, done.stderr
    assert load_issue(project.issue_path("2020-10")).approved_by == "kari"


def test_approve_refuses_while_check_reports_errors(tmp_path: Path, clock: list[datetime]) -> None:
    project = sample_copy(tmp_path / "p")
    path = project.issue_path("2020-10")
    before = re.sub(r"alt: Kjetil Taskén.*", "alt: impress-norway.jpg", path.read_text())
    path.write_text(before)
    done = cli("approve", "2020-10", "--by", "Kari", cwd=project.root)
    assert done.returncode == 10, done.stdout + done.stderr
    assert "2020-10 cannot be approved: `newsletter check` reports 1 error(s)" in done.stderr
    assert "alt: alt text is a file name: 'impress-norway.jpg'" in done.stderr
    assert "newsletter check 2020-10" in done.stderr and "Traceback" not in done.stderr
    assert path.read_text() == before  # nothing recorded


def test_approve_refuses_a_sent_issue_and_an_unknown_month(tmp_path: Path) -> None:
    project = sample_copy(tmp_path / "p")
    done = cli("approve", "2024-03", "--by", "Kari", cwd=project.root)
    assert done.returncode == 10 and "2024-03 was sent on 2024-03-10 08:00 UTC" in done.stderr
    assert "status: draft" in done.stderr
    done = cli("approve", "1999-01", "--by", "Kari", cwd=project.root)
    assert done.returncode == 2 and "no issue file for 1999-01" in done.stderr


# --- the send gate --------------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    with SmtpServer() as smtp:
        yield smtp


def test_send_refuses_a_draft_but_sends_a_proof_and_a_dry_run(
    tmp_path: Path, server: SmtpServer, clock: list[datetime]
) -> None:
    root = send_project(tmp_path / "p", server.port).root
    path = root / "issues" / "2020-10.yaml"
    path.write_text(path.read_text().replace("status: approved", "status: draft"))
    audience = ("--audience", str(SAMPLE_AUDIENCE))
    done = cli("send", "2020-10", *audience, "--yes", cwd=root)
    assert done.returncode == 10, done.stdout + done.stderr
    assert "2020-10 is a draft; only an approved issue is sent" in done.stderr
    assert "newsletter approve 2020-10" in done.stderr and "--test-to" in done.stderr
    assert server.handler.received == []

    dry = cli("send", "2020-10", *audience, "--dry-run", cwd=root)
    assert dry.returncode == 0, dry.stderr
    assert "Not approved:" in dry.stdout and "a real send would refuse" in dry.stdout
    assert "Dry run: built 5 message(s)" in dry.stdout and server.handler.received == []

    proof = cli("send", "2020-10", "--test-to", "editor@example.org", cwd=root)
    assert proof.returncode == 0, proof.stderr
    assert server.handler.count() == {"editor@example.org": 1}
    assert load_issue(path).status is IssueStatus.draft  # a proof marks nothing


def test_a_complete_send_marks_the_issue_sent_and_a_changed_one_is_refused(
    tmp_path: Path, server: SmtpServer, clock: list[datetime]
) -> None:
    root = send_project(tmp_path / "p", server.port).root
    path = root / "issues" / "2020-10.yaml"
    comment = "# Sent by the communications team.\n"
    path.write_text(comment + path.read_text())
    clock[0] = datetime(2020, 11, 3, 8, 15, tzinfo=UTC)
    done = cli("send", "2020-10", "--audience", str(SAMPLE_AUDIENCE), "--yes", cwd=root)
    assert done.returncode == 0, done.stderr
    assert "Marked 2020-10 as sent in" in done.stdout
    issue = load_issue(path)
    assert issue.status is IssueStatus.sent and issue.sent_at == clock[0]
    assert path.read_text().startswith(comment)
    assert sum(server.handler.count().values()) == 5

    # Sent on to the same audience: nothing new, and the first sent_at stays.
    clock[0] += timedelta(hours=1)
    again = cli("send", "2020-10", "--audience", str(SAMPLE_AUDIENCE), "--yes", cwd=root)
    assert again.returncode == 0, again.stderr
    assert "went out on 2020-11-03 08:15 UTC" in again.stdout and "Nothing to send" in again.stdout
    assert load_issue(path).sent_at == datetime(2020, 11, 3, 8, 15, tzinfo=UTC)

    path.write_text(path.read_text().replace("Students meet their mentors", "Students meet"))
    changed = cli("send", "2020-10", "--audience", str(SAMPLE_AUDIENCE), "--yes", cwd=root)
    assert changed.returncode == 10
    assert "the issue was changed after it was approved by Test Editor" in changed.stderr
    assert "approve it again: `newsletter approve 2020-10`" in changed.stderr
    assert sum(server.handler.count().values()) == 5


def test_an_export_of_a_draft_is_written_and_says_it_is_not_approved(tmp_path: Path) -> None:
    project = sample_copy(tmp_path / "p")
    out = tmp_path / "out"
    done = cli("export", "2020-10", "--to", "eml", "--out", str(out), cwd=project.root)
    assert done.returncode == 0, done.stderr
    assert "Not approved:" in done.stdout and "2020-10 is a draft" in done.stdout
    assert list(out.glob("*.eml"))
    sent = cli("export", "2024-03", "--to", "eml", "--out", str(tmp_path / "o2"), cwd=project.root)
    assert sent.returncode == 0 and "Not approved" not in sent.stdout
