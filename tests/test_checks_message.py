"""`check` reads the exported message: headers, Date, To, encoded-words, lines, List-*."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.checks import CheckReport, check_issue, check_message
from newsletter.checks.message import exported_messages
from newsletter.deliver.export import prepare
from newsletter.project import Project
from tests.test_exported_message import NORWEGIAN, make_project

GOOD = (
    "MIME-Version: 1.0\r\n"
    "Subject: =?utf-8?q?Nytt_fra_klyngen?=\r\n"
    "From: News <news@example.org>\r\n"
    "Date: Tue, 03 Nov 2020 09:00:00 +0100\r\n"
    "To: Ann <ann@example.org>\r\n"
    "Message-ID: <1@example.org>\r\n"
    "List-Id: News <newsletter.example.org>\r\n"
    "List-Archive: <https://news.example.org/>\r\n"
    "List-Unsubscribe: <https://news.example.org/unsubscribe?token=v1.x>\r\n"
    "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "Hello\r\n"
)


def findings(raw: str | bytes, *, personal: bool = True) -> set[tuple[str, str]]:
    report = CheckReport("2020-10")
    data = raw.encode("ascii") if isinstance(raw, str) else raw
    check_message(report, data, "test", personal=personal)
    return {(f.level.value, f.rule) for f in report.findings}


def replace(header: str, line: str | None) -> str:
    """GOOD with one header line replaced (or removed, with None)."""
    lines = GOOD.split("\r\n")
    at = next(i for i, x in enumerate(lines) if x.startswith(header + ":"))
    if line is None:
        del lines[at]
    else:
        lines[at] = line
    return "\r\n".join(lines)


def test_a_good_message_has_no_findings() -> None:
    assert findings(GOOD) == set()


@pytest.mark.parametrize(
    ("header", "line", "rule"),
    [
        ("To", None, "message-headers"),
        ("Date", None, "message-headers"),
        ("Message-ID", None, "message-headers"),
        ("List-Unsubscribe", None, "message-headers"),
        ("Date", "Date: yesterday", "message-date"),
        ("Date", "Date: Tue, 03 Nov 2020 09:00:00", "message-date"),
        ("To", "To: not an address", "message-to"),
        ("List-Id", "List-Id: News without an id", "message-list-header"),
        ("List-Archive", "List-Archive: https://news.example.org/", "message-list-header"),
        (
            "List-Unsubscribe",
            "List-Unsubscribe: <mailto:u@example.org>",
            "message-list-unsubscribe",
        ),
        ("List-Unsubscribe-Post", "List-Unsubscribe-Post: yes", "message-list-unsubscribe"),
        ("List-Unsubscribe-Post", None, "message-list-unsubscribe"),  # a recipient's copy
        # What Python's policy with max_line_length=998 wrote for a non-ASCII subject.
        ("Subject", "Subject: =?utf-8?q?" + "=C3=B8" * 18 + "_og_mer?=", "message-encoded-word"),
        # A word that ends inside a two-byte character: it cannot be decoded on its own.
        ("Subject", "Subject: =?utf-8?q?=C3?= =?utf-8?q?=B8?=", "message-encoded-word"),
        ("Subject", "Subject: " + "word " * 30, "message-line-length"),
        ("Subject", "Subject: " + "x" * 1000, "message-line-length"),
    ],
)
def test_each_rule_fires(header: str, line: str | None, rule: str) -> None:
    found = findings(replace(header, line))
    assert rule in {r for _, r in found}, found


def test_the_template_must_not_offer_one_click_and_may_go_to_undisclosed_recipients() -> None:
    template = replace("To", "To: undisclosed-recipients:;")
    assert ("error", "message-list-unsubscribe") in findings(template, personal=False)
    plain = replace("List-Unsubscribe-Post", None).replace("?token=v1.x", "")
    assert findings(plain.replace("To: Ann <ann@example.org>", "To: undisclosed-recipients:;"),
                    personal=False) == set()  # fmt: skip


def test_a_long_unbreakable_line_is_not_a_folding_warning() -> None:
    url = "<https://news.example.org/unsubscribe?token=v1." + "x" * 80 + ">"
    assert findings(replace("List-Unsubscribe", f"List-Unsubscribe: {url}")) == set()


def test_the_sample_issues_exported_messages_pass(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", subject=NORWEGIAN)
    for month in ("2020-10", "2024-03"):
        done = prepare(project, month)
        messages = exported_messages(project.config, done.issue, done.html, done.text)
        assert [personal for _, _, personal in messages] == [False, True]
        for where, raw, personal in messages:
            report = CheckReport(month)
            check_message(report, raw, where, personal=personal)
            assert report.findings == [], (where, report.findings)


def test_check_reads_the_exported_message(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    config = project.root / "newsletter.toml"
    config.write_text(
        config.read_text().replace("[newsletter]\n", '[newsletter]\nlist_id = "Our news"\n', 1)
    )
    report = check_issue(Project.at(project.root), "2020-10")
    found = [f for f in report.findings if f.rule == "message-list-header"]
    assert len(found) == 2  # the template .eml and a recipient's copy
    assert "List-Id" in found[0].message and "2020-10.eml" in found[0].where
