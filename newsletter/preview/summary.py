"""summary.md: what a pull request's reviewers read beside the screenshots.

The inbox line (sender, subject, preview text), the check results as a table (notes on
client support folded away), the HTML size and what the screenshots can and cannot show.
Issue text is escaped so a subject can never turn into Markdown, HTML or an @-mention in a
pull-request comment.
"""

from __future__ import annotations

import re
from pathlib import Path

from newsletter.checks import GMAIL_CLIP_BYTES, HTML_BUDGET_BYTES, Finding
from newsletter.preview.screenshots import Screenshot
from newsletter.preview.snapshot import INBOX_PREVIEW_CHARS, Snapshot

SUMMARY_FILE = "summary.md"
CHECK_FILE = "check.json"
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")
ICONS = {"error": "❌", "warning": "⚠️", "info": "ℹ️"}


def md(text: str) -> str:
    """``text`` as literal Markdown on one line: no markup, no links, no mentions."""
    text = " ".join(str(text).split())
    text = text.replace("&", "&amp;")
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return text.replace("@", "@\u200b")  # a zero-width space stops GitHub's @-mentions


def summary_markdown(snapshot: Snapshot, shots: list[Screenshot]) -> str:
    report = snapshot.report
    errors, warnings = len(report.errors), len(report.warnings)
    verdict = "✅ no errors" if not errors else f"❌ {errors} error(s)"
    size_kb = report.html_bytes / 1024
    lines = [
        f"### {md(snapshot.month)}: {md(snapshot.subject)}",
        "",
        "| In the inbox | |",
        "|---|---|",
        f"| From | {md(snapshot.sender)} |",
        f"| Subject | {md(snapshot.subject)} ({len(snapshot.subject)} characters) |",
        f"| Preview text | {md(snapshot.inbox_preview)} |",
        "",
        f"Preview text: the first {INBOX_PREVIEW_CHARS} characters of the body, the preheader "
        "first; inboxes show about 40 to 130 of them.",
        "",
        f"**Checks: {verdict}, {warnings} warning(s).** HTML size: **{size_kb:.1f} KB** "
        f"(Gmail clips at {GMAIL_CLIP_BYTES // 1024} KB; budget {HTML_BUDGET_BYTES // 1024} KB).",
        "",
    ]
    problems = report.errors + report.warnings
    if problems:
        lines += _table(problems)
    if report.notes:  # client support: worth reading, folded away in a pull request
        lines += [f"<details><summary>{len(report.notes)} note(s)</summary>", ""]
        lines += [*_table(report.notes), "</details>", ""]
    if shots:
        listed = ", ".join(f"`{s.path.name}` ({s.view.label}, {s.height} px tall)" for s in shots)
        lines += [f"**Screenshots:** {listed}.", ""]
        lines += _notes(snapshot, shots)
    return "\n".join(lines).rstrip() + "\n"


def _table(findings: list[Finding]) -> list[str]:
    rows = [
        f"| {ICONS.get(str(f.level), '')} {md(str(f.level))} | {md(f.rule)} | "
        f"{md(f.message)} | {md(f.where)} |"
        for f in findings
    ]
    return ["| | Rule | Finding | Where |", "|---|---|---|---|", *rows, ""]


def _notes(snapshot: Snapshot, shots: list[Screenshot]) -> list[str]:
    notes = []
    blocked = max(s.blocked for s in shots)
    if blocked:
        notes.append(
            f"{blocked} remote image(s) are drawn as grey placeholders: screenshots are "
            "taken offline. Their real height may differ."
        )
    dark = "Dark mode is shown as Apple Mail, Outlook for macOS/iOS and Outlook.com show it."
    if not snapshot.has_dark_styles:
        dark += " This email has no dark-mode styles, so those clients keep its light colours."
    notes.append(dark + " The Gmail apps and Outlook for Windows recolour emails themselves.")
    for shot in shots:
        if shot.scale < 1:
            notes.insert(
                0,
                f"❌ **The email is wider than {shot.width} px:** a phone shrinks it to "
                f"{shot.scale:.0%} to fit (`{shot.path.name}`). Its layout needs fixing.",
            )
    clipped = [s.path.name for s in shots if s.clipped]
    if clipped:
        notes.append(f"Cut off at the bottom (the email is very long): {', '.join(clipped)}.")
    return [f"- {note}" for note in notes]


def write_summary(snapshot: Snapshot, shots: list[Screenshot], out_dir: Path) -> Path:
    """Write summary.md and check.json (the findings, for scripts) into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / CHECK_FILE).write_text(snapshot.report.to_json() + "\n", encoding="utf-8")
    path = out_dir / SUMMARY_FILE
    path.write_text(summary_markdown(snapshot, shots), encoding="utf-8")
    return path
