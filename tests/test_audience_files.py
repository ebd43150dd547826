"""Audience and suppression files as people really save them: Norwegian Excel's semicolons,
Mailchimp's headers, Latin-1 bytes deep in a file, and files that leave nobody to send to."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.deliver.audience import Audience, load_audience
from newsletter.deliver.csvfile import SAMPLE_BYTES, read_address_list, sniff_delimiter
from newsletter.errors import ProjectError
from newsletter.store.suppression import SuppressionList
from tests.clirun import cli
from tests.factories import send_project as make_project
from tests.test_send_smtp import SECRET


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return path


# --- encoding errors name the real line --------------------------------------------------------


def test_a_latin1_byte_on_line_3_is_reported_on_line_3(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", b"email,name\nann@example.org,Ann\nbob@example.org,Bj\xf8rn\n")
    with pytest.raises(ProjectError) as info:
        load_audience(path)
    assert info.value.message == f"{path}:3: the audience is not UTF-8 text (byte 0xf8)"


def test_a_bad_byte_far_into_a_large_file_names_its_line(tmp_path: Path) -> None:
    """Past the first chunk, with a two-byte letter split across a chunk boundary before it."""
    prefix = b"email,name\nx@example.org,"
    body = prefix + b"a" * (SAMPLE_BYTES - 1 - len(prefix)) + "å\n".encode()
    assert body[SAMPLE_BYTES - 1 : SAMPLE_BYTES + 1] == "å".encode()  # split by the boundary
    body += b"".join(f"u{i}@example.org,Åse\n".encode() for i in range(6000))
    body += b"z@example.org,Z\xe9\n"
    path = write(tmp_path / "big.csv", body)
    with pytest.raises(ProjectError) as info:
        list(Audience(path))
    line = body.count(b"\n")  # the last line
    assert info.value.message == f"{path}:{line}: the audience is not UTF-8 text (byte 0xe9)"


# --- delimiters and header names ---------------------------------------------------------------


def test_semicolon_files_from_norwegian_excel_are_read(tmp_path: Path) -> None:
    text = (
        "\ufeffE-post;Navn;Språk;By\r\n"
        "ann@example.org;Ann Olsen;nb;Oslo\r\n"
        'bob@example.org;"Berg; Bob";en;Bergen\r\n'
        "not-an-address;X;nb;Tromsø\r\n"
    )
    recipients, report = load_audience(write(tmp_path / "excel.csv", text))
    assert [(r.email, r.name, r.language, r.fields) for r in recipients] == [
        ("ann@example.org", "Ann Olsen", "nb", {"by": "Oslo"}),
        ("bob@example.org", "Berg; Bob", "en", {"by": "Bergen"}),
    ]
    assert report.columns == ["by"]
    assert [(r.line, r.value) for r in report.rejected] == [(4, "not-an-address")]


def test_tab_separated_files_are_read(tmp_path: Path) -> None:
    path = write(tmp_path / "tabs.tsv", "email\tname\nann@example.org\tAnn, the first\n")
    recipients, _ = load_audience(path)
    assert [(r.email, r.name) for r in recipients] == [("ann@example.org", "Ann, the first")]


def test_mailchimps_export_headers_are_read(tmp_path: Path) -> None:
    text = (
        '"Email Address","First Name","Last Name",MEMBER_RATING,OPTIN_TIME,TAGS\n'
        'ann@example.org,Ann,Olsen,2,"2024-01-02 10:00:00",""\n'
        "bob@example.org,,Berg,1,,\n"
    )
    recipients, report = load_audience(write(tmp_path / "members.csv", text))
    assert [(r.email, r.name) for r in recipients] == [
        ("ann@example.org", "Ann Olsen"),
        ("bob@example.org", "Berg"),
    ]
    assert recipients[0].fields["first_name"] == "Ann"  # still a merge field of its own
    assert "email_address" not in report.columns and report.rejected == []


@pytest.mark.parametrize(
    ("sample", "delimiter"),
    [
        ("email\nann@example.org\n", ","),
        ("email;name\na@x.org;Smith, Ann\n", ";"),
        ("email,name\na@x.org,Smith; Ann\nb@x.org,Lee; Bo\n", ","),
        ("email\tname\n", "\t"),
        ("name,city\n", ","),
    ],
)
def test_the_delimiter_is_the_one_that_finds_the_email_column(sample: str, delimiter: str) -> None:
    assert sniff_delimiter(sample) == delimiter


# --- the suppression list import -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "email\nann@example.org\nBOB@example.org\n",
        "Email Address;Reason\nann@example.org;unsubscribed\nbob@example.org;bounced\n",
        '"Email Address","UNSUB_TIME"\n"ann@example.org","2024-01-02"\nbob@example.org,\n',
        "Unsubscribed\nann@example.org\nbob@example.org\n",
        "ann@example.org\nbob@example.org\n",
    ],
    ids=["email", "semicolons", "mailchimp", "one-column", "no-header"],
)
def test_suppress_import_never_reads_the_header_as_an_address(tmp_path: Path, text: str) -> None:
    path = write(tmp_path / "unsubscribed.csv", text)
    assert [a.lower() for _, a in read_address_list(path)] == ["ann@example.org", "bob@example.org"]
    with SuppressionList(tmp_path / "store.db") as suppressions:
        result = suppressions.import_file(path, "unsubscribed")
    assert (result.added, result.rejected) == (2, [])


def test_suppress_import_names_a_bad_byte_and_a_missing_column(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", b"email\nann@example.org\nbj\xf8rn@example.org\n")
    with pytest.raises(ProjectError, match=r"a\.csv:3: the file is not UTF-8 text \(byte 0xf8\)"):
        read_address_list(path)
    path = write(tmp_path / "b.csv", "name,date\nAnn,2024-01-01\n")
    with pytest.raises(ProjectError, match=r"b\.csv:1: no email column \(found: name, date\)"):
        read_address_list(path)


@pytest.mark.usefixtures("backend")
def test_suppress_import_on_the_command_line(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", port=1)
    path = write(tmp_path / "u.csv", "E-post;Grunn\nann@example.org;avmeldt\n")
    result = cli("suppress", "import", str(path), cwd=project.root)
    assert result.returncode == 0, result.stderr
    assert "not added" not in result.stdout and "Suppressed 1 new address" in result.stdout


# --- an audience that leaves nobody to send to -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("email,name\n", "the audience has a header but no rows: nobody to send to"),
        (
            "email\nnot-an-address\nalso bad\n",
            "nobody to send to: every row is left out (2 invalid)",
        ),
        ("email\nann@example.org\nANN@example.org\n", "(1 duplicate, 1 suppressed)"),
    ],
    ids=["header-only", "all-invalid", "suppressed"],
)
@pytest.mark.usefixtures("backend")
def test_an_audience_of_nobody_is_an_error(tmp_path: Path, text: str, message: str) -> None:
    project = make_project(tmp_path / "p", port=1)
    with SuppressionList(project.database) as suppressions:
        suppressions.add([(1, "ann@example.org")], "unsubscribed")
    path = write(tmp_path / "audience.csv", text)
    env = {"NEWSLETTER_SECRET": SECRET}
    for args in (["export", "2020-10", "--to", "eml", "--out", str(tmp_path / "out")],
                 ["send", "2020-10", "--dry-run"]):  # fmt: skip
        result = cli(*args, "--audience", str(path), cwd=project.root, env=env)
        assert result.returncode == ProjectError.exit_code, (args, result.stdout, result.stderr)
        assert f"error: {path}: " in result.stderr and message in result.stderr
    assert not (tmp_path / "out").exists(), "nothing is written for an audience of nobody"


def test_an_audience_with_someone_still_exports(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", port=1)
    path = write(tmp_path / "audience.csv", "email\nnot-an-address\nann@example.org\n")
    result = cli(
        "export", "2020-10", "--to", "eml", "--out", str(tmp_path / "out"), "--audience",
        str(path), cwd=project.root, env={"NEWSLETTER_SECRET": SECRET},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert len(list((tmp_path / "out").glob("*.eml"))) == 1
