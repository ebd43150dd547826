"""``newsletter approve``: an issue that ``check`` passes becomes approved, and may be sent.

The approval (who, when, a digest of what was approved) is written into the issue file by
``issuefile.status``; ``send`` asks ``issuefile.status.require_approved`` before it sends
anything but a proof.
"""

from __future__ import annotations

import getpass
import os
import subprocess
from datetime import datetime
from typing import TYPE_CHECKING

from newsletter.errors import ApprovalError
from newsletter.issuefile import load_issue
from newsletter.issuefile.status import record_approval
from newsletter.models import Issue, IssueStatus
from newsletter.project import Project

if TYPE_CHECKING:
    from newsletter.editions import Edition

SHOW_ERRORS = 20


def default_approver() -> str:
    """Who approves when ``--by`` is not given: git's user.name, else the login name."""
    try:
        done = subprocess.run(
            ["git", "config", "user.name"], capture_output=True, text=True, timeout=5, check=False
        )
        name = done.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        name = ""
    return name or os.environ.get("USER") or os.environ.get("LOGNAME") or getpass.getuser()


def approve_issue(
    project: Project, month: str, *, by: str, now: datetime, edition: str | None = None
) -> list[tuple[Edition, Issue]]:
    """Check ``month``'s issue and, when check finds no error, record ``by``'s approval.

    With several editions each edition's file is checked and approved on its own (every
    edition, or ``edition``'s); nothing is approved unless every one of them passes. An
    edition already sent is left as it is while another one is approved.
    """
    by = " ".join(by.split())
    if not by:
        raise ApprovalError("an approval needs a name", hint="pass --by NAME")
    picked = project.pick_editions(edition)
    unsent = [(e, p) for e, p in ((e, project.require_issue(month, e)) for e in picked)
              if load_issue(p, resolve=False).status is not IssueStatus.sent]  # fmt: skip
    if not unsent:
        path = project.require_issue(month, picked[0])
        issue = load_issue(path, resolve=False)
        when = f" on {issue.sent_at:%Y-%m-%d %H:%M %Z}" if issue.sent_at else ""
        raise ApprovalError(
            f"{path}: {month} was sent{when}; there is nothing to approve",
            hint="to send it again (it goes only to whoever has not had it), set `status: draft` "
            "in the file and approve it",
        )
    for each, _ in unsent:
        _require_clean(project, month, each)
    return [(each, record_approval(path, by, now)) for each, path in unsent]


def _require_clean(project: Project, month: str, edition: Edition) -> None:
    from newsletter.checks import check_issue

    report = check_issue(project, month, edition=edition)
    if report.errors:
        lines = [
            f"  - {f.rule}: {f.message}" + (f" ({f.where})" if f.where else "")
            for f in report.errors[:SHOW_ERRORS]
        ]
        more = len(report.errors) - SHOW_ERRORS
        if more > 0:
            lines.append(f"  ... and {more} more")
        which = "" if edition.single else f" ({edition.code} edition)"
        raise ApprovalError(
            f"{month}{which} cannot be approved: `newsletter check` reports "
            f"{len(report.errors)} error(s)\n" + "\n".join(lines),
            hint=f"fix them, then approve again; `newsletter check {month}` shows them all",
        )
