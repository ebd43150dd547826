"""`newsletter send`, `export` and `suppress` through the command line and a real SMTP server,
with the send log and the suppression list on SQLite and on PostgreSQL.

Includes the work issue's "done when" scenario and real crashes: a separate sending process is
killed (SIGKILL) or interrupted (SIGINT) by the SMTP server in the middle of a send. The other
runs, and the reruns after a crash, run the command line in process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsletter.deliver import merge
from newsletter.project import Project
from newsletter.store.sendlog import SendLog
from tests.clirun import CliResult, cli_popen
from tests.clirun import cli as run_cli
from tests.conftest import FIXTURES
from tests.factories import audience
from tests.factories import send_project as make_project
from tests.test_send_smtp import SmtpServer

SECRET = "cli-test-secret-0123456789"
SAMPLE = FIXTURES / "audiences" / "sample.csv"
GOOD = [
    "ann@example.org",
    "bob@example.com",
    "carl@example.org",
    "eve@example.org",
    "gina@example.org",
]


def cli(
    *args: str, cwd: Path, input: str | None = None, env: dict[str, str] | None = None
) -> CliResult:
    return run_cli(*args, cwd=cwd, input=input, env={"NEWSLETTER_SECRET": SECRET, **(env or {})})


def popen(*args: str, cwd: Path) -> subprocess.Popen[str]:
    """A real sending process, for the tests that kill or interrupt it."""
    return cli_popen(*args, cwd=cwd, env={"NEWSLETTER_SECRET": SECRET})


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    with SmtpServer() as smtp:
        yield smtp


@pytest.mark.usefixtures("backend")
def test_done_when_send_the_sample_issue_to_a_messy_audience(
    tmp_path: Path, server: SmtpServer
) -> None:
    project = make_project(tmp_path / "p", server.port).root
    result = cli(
        "send", "2020-10", "--via", "smtp", "--audience", str(SAMPLE), "--yes", cwd=project
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    # Every bad row is reported with its line number.
    for line, what in [
        (4, "duplicate of line 2"),
        (5, "not-an-email"),
        (7, "line break"),
        (10, "frank@example"),
        (11, "duplicate of line 3"),
        (13, "email is empty"),
        (14, "english!"),
        (15, "5 fields"),
    ]:
        assert any(
            row.strip().startswith(f"│ {line:>4} │") and what in row for row in out.splitlines()
        ), (line, what, out)
    assert "Bcc: victim" not in out.replace("\\r\\nBcc: victim", "")  # shown escaped only
    assert "5 recipient(s)" in out and "sent" in out

    # Each valid, distinct address got exactly one message, with a personal one-click link.
    assert server.handler.count() == Counter(GOOD)
    secret = SECRET.encode()
    for received in server.handler.received:
        msg = received.message
        address = received.rcpt[0]
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        url = str(msg["List-Unsubscribe"]).strip("<>")
        assert url.startswith("https://") and "token=" in url
        assert merge.verify_unsubscribe_token(secret, url.split("token=")[1]) == address.lower()
        html_part = msg.get_body(("html",))
        assert html_part is not None
        html = html_part.get_content()
        assert f'href="{url}"' in html, "the visible unsubscribe link is the personal one"
        assert "Bcc" not in str(msg["To"]) and msg["Bcc"] is None
        assert msg["Message-ID"] and msg["Date"] and msg["List-Id"]
    names = {r.rcpt[0]: str(r.message["To"]) for r in server.handler.received}
    assert names["eve@example.org"] == '"Eve \\"the tester\\" Lund" <eve@example.org>'

    again = cli("send", "2020-10", "--audience", str(SAMPLE), "--yes", cwd=project)
    assert again.returncode == 0, again.stderr
    assert "Already sent earlier: 5" in again.stdout and "Nothing to send" in again.stdout
    assert len(server.handler.received) == 5, "running the send again delivers nothing new"


@pytest.mark.usefixtures("backend")
def test_a_killed_send_resumes_and_delivers_each_recipient_exactly_once(
    tmp_path: Path, server: SmtpServer
) -> None:
    project = make_project(tmp_path / "p", server.port, connections=1).root
    addresses = [f"k{i:02d}@example.org" for i in range(20)]
    path = audience(tmp_path / "a.csv", addresses)
    proc = popen("send", "2020-10", "--audience", str(path), "--yes", cwd=project)
    # The server takes the 7th message, then kills the sender before it hears "250".
    server.handler.on_message = lambda n: os.kill(proc.pid, signal.SIGKILL) if n == 7 else None
    proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    assert len(server.handler.received) == 7
    server.handler.on_message = None

    rerun = cli("send", "2020-10", "--audience", str(path), "--yes", cwd=project)
    assert rerun.returncode == 0, rerun.stderr
    assert "Uncertain from an interrupted run: 1" in rerun.stdout
    assert "Already sent earlier: 6" in rerun.stdout
    assert server.handler.count() == Counter(addresses), "each exactly once"
    with SendLog(Project.at(project).database) as log:
        assert log.counts("2020-10") == {"sent": 19, "sending": 1}


@pytest.mark.usefixtures("backend")
@pytest.mark.parametrize("connections", [1, 4])
def test_ctrl_c_stops_cleanly_and_the_rerun_sends_the_rest(
    tmp_path: Path, server: SmtpServer, connections: int
) -> None:
    project = make_project(tmp_path / "p", server.port, connections=connections).root
    addresses = [f"c{i:02d}@example.org" for i in range(15)]
    path = audience(tmp_path / "a.csv", addresses)
    proc = popen("send", "2020-10", "--audience", str(path), "--yes", cwd=project)
    server.handler.on_message = lambda n: os.kill(proc.pid, signal.SIGINT) if n == 5 else None
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Interrupted" in stdout and "Stopping after the current message" in stderr
    # Each connection finishes the message it has in flight, and starts no other.
    assert 5 <= len(server.handler.received) <= 5 + connections - 1
    stopped = len(server.handler.received)
    server.handler.on_message = None
    rerun = cli("send", "2020-10", "--audience", str(path), "--yes", cwd=project)
    assert rerun.returncode == 0 and f"Already sent earlier: {stopped}" in rerun.stdout
    assert "Uncertain" not in rerun.stdout, "Ctrl-C never leaves a message in doubt"
    assert server.handler.count() == Counter(addresses)


@pytest.mark.usefixtures("backend")
def test_confirmation_dry_run_and_proof(tmp_path: Path, server: SmtpServer) -> None:
    project = make_project(tmp_path / "p", server.port).root
    args = ("send", "2020-10", "--audience", str(SAMPLE))
    refused = cli(*args, cwd=project, input="n\n")
    assert refused.returncode == 1 and "to 5 recipient(s)" in refused.stdout
    assert "Aborted" in refused.stdout + refused.stderr
    dry = cli(*args, "--dry-run", cwd=project)
    assert dry.returncode == 0 and "Dry run: built 5 message(s)" in dry.stdout
    proof = cli("send", "2020-10", "--test-to", "editor@example.org", cwd=project)
    assert proof.returncode == 0, proof.stderr
    assert [r.rcpt for r in server.handler.received] == [["editor@example.org"]]
    assert server.handler.received[0].message["Subject"].startswith("[PROOF] ")
    with SendLog(Project.at(project).database) as log:
        assert log.counts("2020-10") == {}, "refusal, dry run and proof log nothing"
    accepted = cli(*args, cwd=project, input="y\n")
    assert accepted.returncode == 0 and len(server.handler.received) == 6


@pytest.mark.usefixtures("backend")
def test_suppress_commands_and_the_send_honours_them(tmp_path: Path, server: SmtpServer) -> None:
    project = make_project(tmp_path / "p", server.port).root
    added = cli(
        "suppress", "add", "BOB@example.com", "not-an-address", "--reason", "bounced", cwd=project
    )
    assert added.returncode == 3 and "Suppressed 1 new address(es)" in added.stdout
    assert "not-an-address" in added.stdout  # the rejected one is reported
    unsubscribed = tmp_path / "unsubscribed.csv"
    unsubscribed.write_text("Email,Date\neve@example.org,2024-01-01\n\nbob@example.com,x\n")
    imported = cli("suppress", "import", str(unsubscribed), cwd=project)
    assert imported.returncode == 0 and "1 new address(es); 1 already listed" in imported.stdout
    listed = cli("suppress", "list", "--format", "csv", cwd=project)
    assert (
        listed.stdout.splitlines()[1:]
        == [
            line
            for line in listed.stdout.splitlines()[1:]
            if line.split(",")[0] in ("bob@example.com", "eve@example.org")
        ]
        and len(listed.stdout.splitlines()) == 3
    )
    assert "bounced" in listed.stdout and "unsubscribed" in listed.stdout

    sent = cli("send", "2020-10", "--audience", str(SAMPLE), "--yes", cwd=project)
    assert sent.returncode == 0 and "2 suppressed" in sent.stdout
    assert set(server.handler.count()) == set(GOOD) - {"bob@example.com", "eve@example.org"}

    removed = cli("suppress", "remove", "eve@example.org", cwd=project)
    assert "Removed 1" in removed.stdout
    again = cli("send", "2020-10", "--audience", str(SAMPLE), "--yes", cwd=project)
    assert again.returncode == 0 and server.handler.count()["eve@example.org"] == 1


def test_errors_are_one_clear_message(tmp_path: Path, server: SmtpServer) -> None:
    project = make_project(tmp_path / "p", server.port).root
    no_secret = cli(
        "send",
        "2020-10",
        "--audience",
        str(SAMPLE),
        "--yes",
        cwd=project,
        env={"NEWSLETTER_SECRET": ""},
    )
    assert no_secret.returncode == 2 and "NEWSLETTER_SECRET is not set" in no_secret.stderr
    missing = cli("send", "2020-10", "--audience", "nope.csv", "--yes", cwd=project)
    assert missing.returncode == 2 and "nope.csv: audience file not found" in missing.stderr
    bad_rate = cli("send", "2020-10", "--audience", str(SAMPLE), "--rate", "fast", cwd=project)
    assert bad_rate.returncode == 8 and "--rate 'fast'" in bad_rate.stderr
    for result in (no_secret, missing, bad_rate):
        assert "Traceback" not in result.stderr
    assert server.handler.received == []


def test_export_reports_rejected_rows_and_writes_a_manifest(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", 25).root
    result = cli(
        "export",
        "2020-10",
        "--to",
        "sendgrid",
        "--audience",
        str(SAMPLE),
        "--out",
        "out",
        cwd=project,
    )
    assert result.returncode == 0, result.stderr
    assert "Wrote 1 request file(s)" in result.stdout and "8 row(s)" in result.stdout
    data = json.loads((project / "out" / "manifest.json").read_text())
    assert data["requests"][0]["url"] == "https://api.sendgrid.com/v3/mail/send"
    assert len(data["audience"]["rejected"]) == 8
