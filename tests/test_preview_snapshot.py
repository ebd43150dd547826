"""What the previews show beside the email: dark view, inbox line, summary.md."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from newsletter.checks import CheckReport, Level
from newsletter.preview.snapshot import (
    Snapshot,
    dark_variant,
    has_dark_styles,
    inbox_preview,
    take_snapshot,
)
from newsletter.preview.summary import md, summary_markdown, write_summary

EMAIL = """<!doctype html><html lang="en"><head><title>Subject</title>
<style>
  .card { background: #ffffff; }
  @media (prefers-color-scheme: dark) { .card { background: #111111 !important; } }
  @media screen and (PREFERS-COLOR-SCHEME:light) { .card { color: red; } }
</style></head>
<body><div style="display:none">Short preheader.\u200c\u034f</div>
<div class="card"><h1>Oslo News</h1><p>First story, with words enough to run past the limit of
what inboxes show under the subject line, so that the preview text is cut at a word
boundary somewhere around here and never in the middle of a word.</p></div></body></html>"""


def snapshot(html: str = EMAIL, report: CheckReport | None = None, subject: str = "Hi") -> Snapshot:
    return Snapshot(
        month="2020-10", sender="Oslo Cancer Cluster", subject=subject, preheader="Short",
        html=html, text="plain", report=report or CheckReport("2020-10", html_bytes=2048),
        taken_at=datetime.now(),
    )  # fmt: skip


def test_dark_view_applies_the_dark_rules_and_the_dark_canvas() -> None:
    dark = dark_variant(EMAIL)
    assert "@media (min-width: 0px) { .card { background: #111111" in dark
    assert "@media screen and (max-width: 0px) { .card { color: red" in dark
    assert "prefers-color-scheme" not in dark
    head = dark.index("<head>") + len("<head>")
    assert dark[head:].startswith('<meta name="color-scheme" content="dark">')
    assert has_dark_styles(EMAIL) and not has_dark_styles(dark)
    assert not has_dark_styles("<style>@media (prefers-color-scheme: light) {}</style>")


def test_inbox_preview_reads_the_body_from_the_preheader_on() -> None:
    preview = inbox_preview(EMAIL, limit=90)
    assert preview.startswith("Short preheader. Oslo News First story")
    assert "Subject" not in preview and ".card" not in preview
    assert "\u200c" not in preview and "\u034f" not in preview
    assert preview.endswith("…") and len(preview) <= 91
    assert EMAIL.count(preview[:-1].rsplit(" ", 1)[-1]) >= 1  # ends on a whole word
    assert inbox_preview("<html><body><p>Just this.</p></body></html>") == "Just this."


def test_filler_after_the_preheader_keeps_the_body_out_of_the_inbox() -> None:
    filler = "&#847;&zwnj;&nbsp;" * 60
    html = f"<body><div>A preheader.{filler}</div><p>Body text.</p></body>"
    assert inbox_preview(html) == "A preheader."
    short = f"<body><div>A preheader.{filler[:30]}</div><p>Body text.</p></body>"
    assert inbox_preview(short) == "A preheader. Body text."


def test_markdown_escaping_keeps_issue_text_literal() -> None:
    assert md("a | b") == "a \\| b"
    assert md("<img src=x onerror=alert(1)>") == "\\<img src=x onerror=alert\\(1\\)\\>"
    assert md("*bold* [link](https://x)") == "\\*bold\\* \\[link\\]\\(https://x\\)"
    assert md("thanks @octocat") == "thanks @\u200boctocat"
    assert md("two\nlines") == "two lines"


def test_summary_lists_inbox_line_checks_and_size(tmp_path: Path) -> None:
    report = CheckReport("2020-10", html_bytes=95 * 1024)
    report.add(Level.error, "alt", "image without alt text", "https://x.org/a.jpg")
    report.add(Level.warning, "size", "HTML is 95.0 KB; keep it under 90 KB")
    snap = snapshot(report=report, subject="News | *now* @team")
    path = write_summary(snap, [], tmp_path)
    text = path.read_text()
    assert path.name == "summary.md"
    assert "| Subject | News \\| \\*now\\* @\u200bteam (18 characters) |" in text
    assert "| Preview text | Short preheader. Oslo News First story" in text
    assert "❌ 1 error(s), 1 warning(s)" in text and "**95.0 KB**" in text
    rows = [line for line in text.splitlines() if line.startswith("| ❌") or line.startswith("| ⚠️")]
    assert len(rows) == 2 and "image without alt text" in rows[0]
    assert (tmp_path / "check.json").read_text().strip() == report.to_json()


def test_a_clean_report_says_so() -> None:
    text = summary_markdown(snapshot(), [])
    assert "✅ no errors, 0 warning(s)" in text and "| Rule |" not in text


def test_snapshot_of_the_sample_issue(sample_project: Path) -> None:
    snap = take_snapshot(sample_project, "2020-10")
    assert snap.subject in snap.html and snap.subject in summary_markdown(snap, [])
    assert "%%" not in snap.html  # merge tokens are filled for a non-personal copy
    assert snap.report.month == "2020-10" and snap.report.html_bytes > 0
    assert snap.inbox_preview.startswith(snap.preheader[:30])
