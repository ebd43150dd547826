"""check: what would hurt subscribers, found in a built issue before anyone sends it."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from enum import StrEnum

from selectolax.lexbor import LexborHTMLParser

from newsletter.issuefile import load_issue
from newsletter.project import Project

GMAIL_CLIP_BYTES = 102 * 1024
HTML_BUDGET_BYTES = 90 * 1024
STYLE_BLOCK_BYTES = 16 * 1024


class Level(StrEnum):
    error = "error"
    warning = "warning"


@dataclass
class Finding:
    level: Level
    rule: str
    message: str
    where: str = ""


@dataclass
class CheckReport:
    month: str
    html_bytes: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level is Level.error]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level is Level.warning]

    def add(self, level: Level, rule: str, message: str, where: str = "") -> None:
        self.findings.append(Finding(level, rule, message, where))

    def to_json(self) -> str:
        return json.dumps(
            {"month": self.month, "html_bytes": self.html_bytes,
             "findings": [asdict(f) for f in self.findings]},
            indent=2, ensure_ascii=False,
        )  # fmt: skip


def check_html(report: CheckReport, html: str) -> None:
    size = len(html.encode("utf-8"))
    report.html_bytes = size
    if size > GMAIL_CLIP_BYTES:
        report.add(Level.error, "size", f"HTML is {size / 1024:.1f} KB; Gmail clips over 102 KB")
    elif size > HTML_BUDGET_BYTES:
        report.add(Level.warning, "size", f"HTML is {size / 1024:.1f} KB; keep it under 90 KB")
    tree = LexborHTMLParser(html)
    for style in tree.css("style"):
        style_size = len((style.text() or "").encode("utf-8"))
        if style_size > STYLE_BLOCK_BYTES:
            report.add(
                Level.error, "style-size",
                f"a <style> block is {style_size / 1024:.1f} KB; Gmail drops it over 16 KB",
            )  # fmt: skip
    for img in tree.css("img"):
        src = img.attributes.get("src") or "?"
        if img.attributes.get("alt") is None:
            report.add(Level.error, "alt", "image without alt text", src)
        if not img.attributes.get("width"):
            report.add(Level.warning, "width", "image without a width attribute (Outlook)", src)
    hrefs = [a.attributes.get("href") or "" for a in tree.css("a")]
    if not any("unsubscribe" in (a.text() or "").lower() for a in tree.css("a")):
        report.add(Level.error, "unsubscribe", "no visible unsubscribe link")
    for href in hrefs:
        if not re.match(r"^(https://|mailto:|%%[a-z_]+%%$)", href):
            report.add(Level.warning, "link", "link is not https", href)


def check_issue(project: Project, month: str) -> CheckReport:
    """Check the built issue for ``month`` (build it first with ``newsletter build``)."""
    from newsletter import merge
    from newsletter.render import project_environment, render_issue

    issue = load_issue(project.require_issue(month))
    rendered = render_issue(project_environment(project), project.config, issue)
    report = CheckReport(month)
    check_html(report, merge.fill(rendered.html, merge.preview_values(project.config)))
    if len(issue.subject) > 78:
        report.add(Level.warning, "subject", f"subject is {len(issue.subject)} characters (> 78)")
    if len(issue.preheader) > 110:
        report.add(Level.warning, "preheader", f"preheader is {len(issue.preheader)} characters")
    return report
