"""Standard .eml files: the template message, readable by any mail client."""

from __future__ import annotations

from pathlib import Path

from newsletter import merge
from newsletter.export import ExportResult
from newsletter.issuefile import load_issue
from newsletter.message import build_message
from newsletter.project import Project
from newsletter.render import project_environment, render_issue


def export(project: Project, month: str, out: Path) -> ExportResult:
    config = project.config
    issue = load_issue(project.issue_path(month))
    rendered = render_issue(project_environment(project), config, issue)
    values = merge.preview_values(config)
    msg = build_message(
        config,
        issue,
        html=merge.fill(rendered.html, values),
        text=merge.fill(rendered.text, values),
    )
    path = out / f"{month}.eml"
    path.write_bytes(msg.as_bytes())
    return ExportResult("eml", [path])
