"""Editions in delivery: each recipient gets one message, in their own edition (issue 16)."""

from __future__ import annotations

import email
import email.policy
import shutil
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.clirun import CliResult
from tests.clirun import cli as run_cli
from tests.conftest import REPO
from tests.factories import without_tables
from tests.test_send_smtp import SmtpServer

SUBJECTS = {
    "en": "First-year students met their mentors",
    "nb": "Førsteklassingene møtte mentorene sine",
}
SECRET = "editions-test-secret-0123456789abcdef"
PEOPLE = {
    "ann@example.org": "en",
    "bjorn@example.org": "nb",
    "kari@example.org": "no",  # detected Norwegian: the nb edition
    "nils@example.org": "nn",
    "pat@example.org": "",  # no language: the default edition
    "sam@example.org": "de",  # no such edition: the default one
}


def cli(*args: str, cwd: Path) -> CliResult:
    return run_cli(*args, cwd=cwd, env={"NEWSLETTER_SECRET": SECRET})


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    with SmtpServer() as smtp:
        yield smtp


@pytest.fixture(scope="module")
def drafted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("send") / "template"
    root.mkdir()
    shutil.copy(REPO / "examples" / "bilingual" / "newsletter.toml", root / "newsletter.toml")
    shutil.copytree(REPO / "sources", root / "sources")
    for step in (("collect",), ("draft", "2020-10")):
        result = cli(*step, cwd=root)
        assert result.returncode == 0, result.stderr
    return root


def project_for(drafted: Path, root: Path, port: int) -> Path:
    shutil.copytree(drafted, root)
    config = root / "newsletter.toml"
    text = without_tables(config.read_text(), "smtp", "send")
    config.write_text(
        text + f'\n[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\ntimeout = 10\n'
        "\n[send]\nretry_delay = 0\nmax_attempts = 3\n"
    )
    return root


def write_audience(path: Path, people: dict[str, str]) -> Path:
    rows = "".join(f"{address},Reader,{lang}\n" for address, lang in people.items())
    path.write_text("email,name,language\n" + rows)
    return path


def test_a_mixed_audience_gets_one_message_each_in_their_edition(
    tmp_path: Path, drafted: Path, server: SmtpServer
) -> None:
    root = project_for(drafted, tmp_path / "p", server.port)
    csv = write_audience(tmp_path / "audience.csv", PEOPLE)
    approved = cli("approve", "2020-10", "--by", "Lead", cwd=root)
    assert approved.returncode == 0, approved.stdout + approved.stderr
    assert "Approved 2020-10 (en)" in approved.stdout and "Approved 2020-10 (nb)" in approved.stdout
    result = cli("send", "2020-10", "--via", "smtp", "--audience", str(csv), "--yes", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Editions: en 3, nb 3 recipient(s)." in result.stdout
    for code in ("en", "nb"):  # each edition's file is marked sent on its own
        assert "status: sent" in (root / "issues" / f"2020-10.{code}.yaml").read_text()
    assert server.handler.count() == Counter(list(PEOPLE))  # each person exactly once
    languages = {}
    for received in server.handler.received:
        message = email.message_from_bytes(received.data, policy=email.policy.default)
        html = message.get_body(("html",))
        assert html is not None
        page = html.get_content()
        lang = "nb" if '<html lang="nb"' in page else "en"
        subject = str(message["Subject"])
        assert subject.startswith(SUBJECTS[lang]), subject
        languages[received.rcpt[0]] = lang
    assert languages == {
        "ann@example.org": "en", "bjorn@example.org": "nb", "kari@example.org": "nb",
        "nils@example.org": "nb", "pat@example.org": "en", "sam@example.org": "en",
    }  # fmt: skip

    # A person whose language changed since is not sent the other edition as well.
    moved = write_audience(tmp_path / "moved.csv", {**PEOPLE, "bjorn@example.org": "en"})
    again = cli("send", "2020-10", "--via", "smtp", "--audience", str(moved), "--yes", cwd=root)
    assert again.returncode == 0, again.stderr
    assert "Already sent earlier: 6" in again.stdout
    assert server.handler.count() == Counter(list(PEOPLE))


def test_proofs_and_one_edition_only(tmp_path: Path, drafted: Path, server: SmtpServer) -> None:
    root = project_for(drafted, tmp_path / "p", server.port)
    proof = cli("send", "2020-10", "--test-to", "staff@example.org", cwd=root)
    assert proof.returncode == 0, proof.stderr
    subjects = [
        str(email.message_from_bytes(r.data, policy=email.policy.default)["Subject"])
        for r in server.handler.received
    ]
    assert len(subjects) == 2 and all(s.startswith("[PROOF]") for s in subjects)
    assert sum(SUBJECTS["nb"] in s for s in subjects) == 1
    csv = write_audience(tmp_path / "audience.csv", PEOPLE)
    refused = cli("send", "2020-10", "--audience", str(csv), "--yes", cwd=root)
    assert refused.returncode != 0 and "is a draft" in refused.stderr
    approved = cli("approve", "2020-10", "--edition", "nb", "--by", "Lead", cwd=root)
    assert approved.returncode == 0, approved.stdout + approved.stderr
    en, nb = (root / "issues" / f"2020-10.{code}.yaml" for code in ("en", "nb"))
    assert "approved_by" not in en.read_text() and "approved_by: Lead" in nb.read_text()
    only = cli(
        "send", "2020-10", "--audience", str(csv), "--edition", "nb", "--yes", cwd=root
    )  # fmt: skip
    assert only.returncode == 0, only.stderr
    sent = Counter(r.rcpt[0] for r in server.handler.received[2:])
    assert sent == Counter(a for a, lang in PEOPLE.items() if lang in ("nb", "no", "nn"))
    assert "status: sent" in nb.read_text() and "status: draft" in en.read_text()


def test_export_writes_each_edition_for_its_recipients(tmp_path: Path, drafted: Path) -> None:
    root = tmp_path / "p"
    shutil.copytree(drafted, root)
    csv = write_audience(tmp_path / "audience.csv", {**PEOPLE, "not an address": "nb"})
    out = tmp_path / "out"
    result = cli(
        "export", "2020-10", "--to", "eml", "--audience", str(csv), "--out", str(out), cwd=root
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "recipient(s); left out 1 invalid" in result.stdout  # counted once, not per edition
    for code, expected in (("en", 3), ("nb", 3)):
        files = sorted((out / code).glob("*.eml"))
        assert len(files) == expected, (code, files)
        for path in files:
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            assert str(message["Subject"]).startswith(SUBJECTS[code])
    assert "3 recipient(s) in eml's requests get the nb edition." in result.stdout


def test_due_sends_each_approved_edition_on_its_own(
    tmp_path: Path, drafted: Path, server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsletter.cli.app import CLOCK

    monkeypatch.setattr(CLOCK, "now", lambda: datetime(2020, 11, 5, tzinfo=UTC))
    root = project_for(drafted, tmp_path / "p", server.port)
    en, nb = (root / "issues" / f"2020-10.{code}.yaml" for code in ("en", "nb"))
    lines = nb.read_text().splitlines(keepends=True)
    nb.write_text(
        "".join("send_at: 2020-11-03T09:00+01:00\n" if ln.startswith("send_at:") else ln
                for ln in lines)
    )  # fmt: skip
    assert cli("approve", "2020-10", "--edition", "nb", "--by", "Lead", cwd=root).returncode == 0
    csv = write_audience(tmp_path / "audience.csv", PEOPLE)
    due = cli("send", "--due", "--audience", str(csv), cwd=root)
    assert due.returncode == 0, due.stdout + due.stderr
    assert "2020-10 (nb) is due" in due.stdout
    sent = Counter(r.rcpt[0] for r in server.handler.received)
    assert sent == Counter(a for a, lang in PEOPLE.items() if lang in ("nb", "no", "nn"))
    assert "status: sent" in nb.read_text() and "status: draft" in en.read_text()
    again = cli("send", "--due", "--audience", str(csv), cwd=root)
    assert again.returncode == 0 and "Nothing is due" in again.stdout
    assert len(server.handler.received) == len(sent)
