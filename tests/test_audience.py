"""Audiences: validation, case-insensitive dedupe, suppression, every left-out row reported."""

from pathlib import Path

import pytest

from newsletter.deliver.audience import Audience, load_audience
from newsletter.errors import ProjectError
from tests.conftest import FIXTURES

SAMPLE = FIXTURES / "audiences" / "sample.csv"


def write(tmp_path: Path, text: str, name: str = "a.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_the_sample_audience_keeps_good_rows_and_reports_every_other_one() -> None:
    recipients, report = load_audience(SAMPLE)
    assert [r.email for r in recipients] == [
        "ann@example.org",
        "bob@example.com",
        "carl@example.org",
        "eve@example.org",
        "gina@example.org",
    ]
    assert [r.line for r in recipients] == [2, 3, 6, 9, 12]
    assert recipients[0].fields == {"city": "Oslo"} and recipients[0].language == "en"
    assert (
        recipients[3].name == 'Eve "the tester" Lund' and recipients[3].fields["city"] == "Tromsø"
    )
    rejected = {r.line: r for r in report.rejected}
    # Every data line of the file is either accepted or reported, by the line it starts on.
    assert sorted([*rejected, *(r.line for r in recipients)]) == [
        2,
        3,
        4,
        5,
        6,
        7,
        9,
        10,
        11,
        12,
        13,
        14,
        15,
    ]
    assert rejected[4].kind == "duplicate" and rejected[4].reason == "duplicate of line 2"
    assert rejected[4].value == "ANN@Example.org"
    assert rejected[11].kind == "duplicate" and "line 3" in rejected[11].reason
    assert "@-sign" in rejected[5].reason and rejected[5].value == "not-an-email"
    # The header-injection attempt: the row is refused and the reason shows the bytes escaped.
    assert rejected[7].value == "dina@example.com"
    assert "line break" in rejected[7].reason and "\\r\\nBcc:" in rejected[7].reason
    assert "\n" not in rejected[7].reason
    assert "period" in rejected[10].reason
    assert rejected[13].reason == "the email is empty"
    assert "english!" in rejected[14].reason
    assert "5 fields" in rejected[15].reason
    assert report.accepted == 5 and report.count("invalid") == 6 and report.count("duplicate") == 2
    assert report.columns == ["city"]


def test_suppressed_addresses_are_left_out_case_insensitively() -> None:
    recipients, report = load_audience(SAMPLE, suppressed={"bob@example.com", "eve@example.org"})
    assert "bob@example.com" not in [r.email for r in recipients]
    suppressed = [r for r in report.rejected if r.kind == "suppressed"]
    assert [(r.line, r.value) for r in suppressed] == [
        (3, "bob@example.com"),
        (9, "eve@example.org"),
    ]
    # The later "Bob@Example.COM" row is still reported, as a duplicate of the suppressed one.
    assert any(r.line == 11 and r.kind == "duplicate" for r in report.rejected)


def test_addresses_are_normalised_and_the_domain_lower_cased(tmp_path: Path) -> None:
    path = write(tmp_path, "Email,Name\n  Ann@EXAMPLE.ORG ,  Ann  \nann@example.org,Dup\n")
    recipients, report = load_audience(path)
    assert [(r.email, r.name, r.key) for r in recipients] == [
        ("Ann@example.org", "Ann", "ann@example.org")
    ]
    assert report.rejected[0].kind == "duplicate"


def test_bom_crlf_blank_lines_and_quoted_newlines_keep_line_numbers(tmp_path: Path) -> None:
    text = 'email,note\r\n\r\na@example.org,"two\r\nlines"\r\nbad,x\r\n\r\nb@example.org,y\r\n'
    recipients, report = load_audience(write(tmp_path, "\ufeff" + text))
    assert [(r.email, r.line) for r in recipients] == [("b@example.org", 7)]
    assert [(r.line, r.value) for r in report.rejected] == [(3, "a@example.org"), (5, "bad")]


def test_reading_streams_and_reports_as_it_goes(tmp_path: Path) -> None:
    path = write(tmp_path, "email\n" + "".join(f"u{i}@example.org\n" for i in range(5)) + "x\n")
    audience = Audience(path)
    first = next(iter(audience))
    assert first.email == "u0@example.org" and audience.report.accepted == 1
    rest = list(audience)  # a fresh pass re-reads the file
    assert len(rest) == 5 and audience.report.rejected[-1].line == 7


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("name,city\nAnn,Oslo\n", "no 'email' column"),
        ("email,Name,name\n", "duplicate column"),
        ("email,1st\n", "'1st' is not a usable field name"),
        ("email,city__html\n", "not a usable field name"),
    ],
)
def test_a_bad_header_names_the_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ProjectError) as info:
        Audience(path)
    assert f"{path}:1" in info.value.message and message in info.value.message


def test_unreadable_files_give_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="audience file not found"):
        Audience(tmp_path / "missing.csv")
    path = write(tmp_path, "email,name\nann@example.org,Åse\n", encoding="latin-1")
    with pytest.raises(ProjectError) as info:
        list(Audience(path))
    assert "not UTF-8" in info.value.message and f"{path}:" in info.value.message


def test_control_characters_and_oversized_fields_are_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'email,name,city\na@example.org,"Ann\x00",x\nb@example.org,Bob,"Os\tlo"\n'
        f"c@example.org,{'N' * 201},x\nd@example.org,Dee,{'x' * 1001}\n",
    )
    recipients, report = load_audience(path)
    assert recipients == []
    reasons = [r.reason for r in report.rejected]
    assert "control character" in reasons[0] and "\\x00" in reasons[0]
    assert reasons[1].startswith("city 'Os\\tlo'")
    assert "longer than 200" in reasons[2] and "longer than 1000" in reasons[3]


def test_internationalised_local_parts_are_reported_not_sent(tmp_path: Path) -> None:
    path = write(tmp_path, "email\nåse@example.org\nann@bücher.example\n")
    recipients, report = load_audience(path)
    assert [r.email for r in recipients] == ["ann@xn--bcher-kva.example"]
    assert report.rejected[0].line == 2 and report.rejected[0].value == "åse@example.org"
