"""Bounces for plain SMTP: 5xx replies, and bounce mail read from a mailbox."""

from __future__ import annotations

import mailbox
import shutil
from pathlib import Path

import pytest

from newsletter.deliver.bouncemail import classify, fetch_bounces
from newsletter.deliver.send import make_transport, plan_send, run_send
from newsletter.project import Project
from newsletter.store.suppression import SuppressionList
from tests.conftest import FIXTURES
from tests.factories import audience
from tests.factories import send_project as make_project
from tests.test_send_smtp import SmtpServer, env, smtp_env, smtp_server

__all__ = ["env", "smtp_env", "smtp_server"]  # fixtures

BOUNCES = FIXTURES / "bounces"


@pytest.mark.parametrize(
    ("name", "hard", "soft"),
    [
        ("postfix.eml", {"gone.reader@example.net"}, set()),
        ("exim.eml", {"nobody.here@example.com"}, set()),
        ("exchange.eml", {"left.company@corp.example.org"}, set()),
        ("gmail.eml", {"no.such.person@gmail.com"}, set()),
        ("multi.eml", {"retired.prof@example.edu", "moved.away@example.edu"},
         {"full.box@example.edu"}),
    ],
)  # fmt: skip
def test_real_world_bounce_shapes_are_classified(name: str, hard: set[str], soft: set[str]) -> None:
    found = classify((BOUNCES / name).read_bytes())
    assert {f.email for f in found if f.permanent} == hard
    assert {f.email for f in found if not f.permanent} == soft
    if name != "exchange.eml":  # Exchange's report quotes no Message-ID
        assert {f.issue for f in found} == {"2020-10"}


def test_a_verp_address_names_the_recipient_when_nothing_else_does() -> None:
    raw = (
        b"From: postmaster@example.net\r\nTo: bounces+carol=example.org@news.example.org\r\n"
        b"Subject: your mail\r\n\r\nSomething went wrong.\r\n"
    )
    [found] = classify(raw)
    assert found.email == "carol@example.org" and not found.permanent


@pytest.mark.usefixtures("backend")
def test_bounces_fetch_from_a_maildir_suppresses_hard_bounces_once(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    project = make_project(tmp_path / "p", smtp_server.port)
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    for fixture in sorted(BOUNCES.glob("*.eml")):
        box.add(fixture.read_bytes())
    box.add(b"From: friend@example.org\r\nSubject: hello\r\n\r\nJust a letter.\r\n")
    report = fetch_bounces(project, str(tmp_path / "Maildir"))
    assert (report.messages, report.hard, report.soft, report.unrecognised) == (6, 6, 1, 1)
    with SuppressionList(project.database) as suppressions:
        suppressed = {e.email for e in suppressions.entries()}
    assert "gone.reader@example.net" in suppressed and "retired.prof@example.edu" in suppressed
    assert "full.box@example.edu" not in suppressed  # one soft bounce is not enough
    again = fetch_bounces(project, str(tmp_path / "Maildir"))
    assert again.taken is not None and again.taken.new == 0 and again.taken.duplicates == 7


@pytest.mark.usefixtures("backend")
def test_bounces_fetch_reads_an_mbox_through_the_cli(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    from tests.clirun import cli

    project = make_project(tmp_path / "p", smtp_server.port)
    box = mailbox.mbox(tmp_path / "bounces.mbox")
    box.add((BOUNCES / "gmail.eml").read_bytes())
    box.flush()
    result = cli("bounces", "fetch", str(tmp_path / "bounces.mbox"), cwd=project.root)
    assert result.returncode == 0, result.stderr
    assert "1 hard" in result.stdout and "suppressed no.such.person@gmail.com" in result.stdout
    missing = cli("bounces", "fetch", str(tmp_path / "nope"), cwd=project.root)
    assert missing.returncode != 0 and "no such Maildir folder or mbox file" in missing.stderr


@pytest.mark.usefixtures("env")
def test_a_550_at_send_time_suppresses_the_address_for_the_next_issue(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    project = make_project(tmp_path / "p", smtp_server.port)
    shutil.copytree(
        Path(__file__).parent.parent / "issues", project.root / "issues", dirs_exist_ok=True
    )
    path = audience(tmp_path / "a.csv", ["ok@example.org", "gone@example.org"])
    smtp_server.handler.fault("gone@example.org", "rcpt", "550 5.1.1 no such user")
    plan = plan_send(project, "2020-10", path)
    report = run_send(plan, make_transport(plan.prepared, "smtp"))
    assert report.sent == 1 and [o.key for o in report.failed] == ["gone@example.org"]
    # The next issue's dry run leaves the address out, as suppressed.
    following = plan_send(Project.at(project.root), "2024-03", path)
    assert [r.email for r in following.recipients] == ["ok@example.org"]
    assert [r.value for r in following.audience.rejected] == ["gone@example.org"]
