"""The exported message as mail software reads it: To, Date, List-* headers, RFC 2047 words."""

from __future__ import annotations

import csv
import email
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from pathlib import Path

import pytest

from newsletter.deliver import merge
from newsletter.deliver.audience import Recipient
from newsletter.deliver.export import export_issue, prepare
from newsletter.deliver.headers import encode_words, header
from newsletter.errors import ConfigError, ExportError
from newsletter.project import Project
from tests.conftest import FIXTURES, REPO
from tests.factories import without_tables

SECRET = "exported-message-secret-0123456789"
AUDIENCE = FIXTURES / "audiences" / "sample.csv"
ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
NORWEGIAN = (
    "Nytt fra klyngen: studentene møter mentorene sine, og 61 millioner kroner til "
    "persontilpasset kreftbehandling – og mye mer før årsskiftet"
)


def make_project(root: Path, subject: str | None = None) -> Project:
    root.mkdir(parents=True)
    (root / "newsletter.toml").write_text(
        without_tables((REPO / "newsletter.toml").read_text(), "send")
    )
    (root / "issues").mkdir()
    line = "subject: " + json.dumps(subject, ensure_ascii=False)
    for path in (REPO / "issues").glob("*.yaml"):
        text = path.read_text()
        if subject is not None:
            text = re.sub(r"(?m)^subject: .*$", lambda _: line, text)
        (root / "issues" / path.name).write_text(text)
    return Project.at(root)


def parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def head_lines(raw: bytes) -> list[str]:
    return raw.split(b"\r\n\r\n", 1)[0].decode("ascii").split("\r\n")


def field_lines(raw: bytes, name: str) -> list[str]:
    """The lines of one header field: its first line and the folded ones after it."""
    out: list[str] = []
    for line in head_lines(raw):
        if out and not line.startswith(" "):
            break
        if out or line.lower().startswith(name.lower() + ":"):
            out.append(line)
    return out


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)


def test_the_template_message_is_addressed_and_offers_no_one_click_post(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    export_issue(project, "2020-10", "eml", tmp_path / "out")
    msg = parse((tmp_path / "out" / "2020-10.eml").read_bytes())
    assert msg["To"] == "undisclosed-recipients:;"
    assert msg["To"].groups[0].display_name == "undisclosed-recipients"
    assert msg["List-Unsubscribe"] == f"<{project.config.newsletter.unsubscribe_url}>"
    # The URL names no recipient, so a POST to it could not unsubscribe anyone (RFC 8058).
    assert msg["List-Unsubscribe-Post"] is None


def test_personal_messages_offer_one_click_with_their_token(tmp_path: Path, secret: None) -> None:
    project = make_project(tmp_path / "p")
    export_issue(project, "2020-10", "eml", tmp_path / "out", AUDIENCE)
    files = sorted((tmp_path / "out").glob("2020-10-*.eml"))
    assert files
    for path in files:
        msg = parse(path.read_bytes())
        assert "token=v1." in msg["List-Unsubscribe"]
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert msg["To"].addresses[0].addr_spec


def test_date_is_the_export_time_unless_given(tmp_path: Path, secret: None) -> None:
    project = make_project(tmp_path / "p")
    when = datetime(2030, 11, 3, 9, 30, tzinfo=timezone(timedelta(hours=1)))
    result = export_issue(project, "2020-10", "eml", tmp_path / "dated", AUDIENCE, date=when)
    for path in (tmp_path / "dated").glob("*.eml"):
        assert parse(path.read_bytes())["Date"].datetime == when
    assert not any("--date" in note for note in result.notes)
    export_issue(project, "2020-10", "eml", tmp_path / "template", date=when)
    assert parse((tmp_path / "template" / "2020-10.eml").read_bytes())["Date"].datetime == when

    before = datetime.now(UTC).replace(microsecond=0)
    result = export_issue(project, "2020-10", "eml", tmp_path / "now", AUDIENCE)
    stamped = parse(next((tmp_path / "now").glob("*.eml")).read_bytes())["Date"].datetime
    assert before <= stamped <= datetime.now(UTC)
    assert any("--date" in note for note in result.notes)  # says how to avoid a stale Date


def test_date_is_refused_for_providers_that_stamp_their_own(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    with pytest.raises(ExportError, match=r"--date sets the Date of \.eml files"):
        export_issue(project, "2020-10", "mailchimp", tmp_path / "out", date=datetime.now(UTC))


def test_a_long_non_ascii_subject_is_folded_into_short_encoded_words(
    tmp_path: Path, secret: None
) -> None:
    project = make_project(tmp_path / "p", subject=NORWEGIAN)
    export_issue(project, "2020-10", "eml", tmp_path / "t")
    prepared = prepare(project, "2020-10")
    personal = merge.Personalizer(project.config, "2020-10", SECRET.encode()).personal(
        Recipient("ase@example.org", "Åse Øvrebø-Ñúñez, PhD " + "é" * 60)
    )
    for raw in (
        (tmp_path / "t" / "2020-10.eml").read_bytes(),
        prepared.message_template().render(personal),
    ):
        lines = field_lines(raw, "Subject") + field_lines(raw, "To")
        words = [w for line in lines for w in ENCODED_WORD.findall(line)]
        assert words and max(map(len, words)) <= 75
        assert len(lines) > 2 and max(map(len, lines)) <= 78
        msg = parse(raw)
        assert msg["Subject"] == NORWEGIAN
    # Python's address parser keeps the space between two encoded-words of a phrase, which
    # RFC 2047 6.2 says to drop; its older decoder follows the RFC.
    to = "".join(field_lines(raw, "To"))[len("To: ") :]
    decoded = str(make_header(decode_header(to)))
    assert decoded == "Åse Øvrebø-Ñúñez, PhD " + "é" * 60 + " <ase@example.org>"


@pytest.mark.parametrize(
    "value",
    [
        NORWEGIAN,
        "é" * 200,
        "Привет, мир! " * 10,
        "mixed ascii and 日本語のテキスト with =?fake?= words",
        "emoji 🎉🎉🎉 " * 12,
        "a" * 100 + " ø",
    ],
)
def test_encoded_words_hold_whole_characters_and_read_back(value: str) -> None:
    raw = header("Subject", value)
    for word in ENCODED_WORD.findall(raw.decode("ascii")):
        assert len(word) <= 75
        # Each word decodes on its own: no UTF-8 sequence is split between two words.
        parse(b"Subject: " + word.encode("ascii") + b"\r\n\r\n")["Subject"].encode("utf-8")
    assert parse(raw + b"\r\n")["Subject"] == value
    for line in raw.decode("ascii").split("\r\n")[1:-1]:
        assert line.startswith(" ") and len(line) <= 78  # folded lines stay short
    assert all(len(w) <= 75 for w in encode_words(value))


def test_a_failed_export_leaves_the_folder_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project(tmp_path / "p")
    monkeypatch.delenv("NEWSLETTER_SECRET", raising=False)
    with pytest.raises(ConfigError, match="NEWSLETTER_SECRET"):
        export_issue(project, "2020-10", "eml", tmp_path / "new", AUDIENCE)
    assert not (tmp_path / "new").exists()

    out = tmp_path / "earlier"
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    export_issue(project, "2020-10", "eml", out, AUDIENCE)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    monkeypatch.delenv("NEWSLETTER_SECRET")
    with pytest.raises(ConfigError):
        export_issue(project, "2020-10", "eml", out, AUDIENCE)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    with (out / "index.csv").open() as fh:
        assert len(list(csv.reader(fh))) > 1  # the earlier index, not a header-only one


def test_export_date_on_the_command_line(tmp_path: Path) -> None:
    from tests.clirun import cli

    project = make_project(tmp_path / "p")
    done = cli(
        "export", "2020-10", "--to", "eml", "--out", "out", "--date", "2031-01-02T09:30+01:00",
        cwd=project.root,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    stamped = parse((project.root / "out" / "2020-10.eml").read_bytes())["Date"].datetime
    assert stamped == datetime(2031, 1, 2, 9, 30, tzinfo=timezone(timedelta(hours=1)))
    bad = cli("export", "2020-10", "--to", "eml", "--out", "o2", "--date", "soon", cwd=project.root)
    assert bad.returncode != 0 and "--date 'soon' is not a date and time" in bad.stderr
