"""``send --due``: which issues a timer sends now, and marking an issue sent when it is done.

An issue is due when it is approved and its ``send_at`` has come (``Issue.due_at``). A sent
issue is never due again, so a timer that fires twice sends nothing the second time; an
approved issue whose send did not finish (deferred recipients, an interruption) stays due,
and the next run resumes it through the send log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from newsletter.errors import IssueFileError
from newsletter.issuefile import load_issue
from newsletter.issuefile.status import record_sent
from newsletter.models import Issue, IssueStatus

if TYPE_CHECKING:
    from newsletter.deliver.send.plan import Plan
    from newsletter.deliver.send.run import SendReport
    from newsletter.editions import Edition
    from newsletter.project import Project


class Standing(StrEnum):
    due = "due"
    waiting = "waiting"  # approved, its time has not come
    unscheduled = "unscheduled"  # approved, no send_at: sent by hand
    draft = "draft"  # its time has come, but nobody approved it
    sent = "sent"
    unreadable = "unreadable"  # the file does not validate


@dataclass(frozen=True)
class Scheduled:
    month: str
    path: Path
    standing: Standing
    issue: Issue | None = None
    problem: str = ""
    edition: str | None = None  # with several editions, each edition's file on its own

    @property
    def label(self) -> str:
        return self.month if self.edition is None else f"{self.month} ({self.edition})"

    @property
    def due_at(self) -> datetime | None:
        return self.issue.due_at() if self.issue else None


def schedule(project: Project, now: datetime) -> list[Scheduled]:
    """Every issue file (each edition's) and whether it goes out at ``now``, oldest first."""
    found = []
    for month in project.months():
        for edition in project.editions:
            path = project.issue_path(month, edition)
            if not path.is_file():
                continue
            code = None if edition.single else edition.code
            try:
                issue = load_issue(path, resolve=False)
            except IssueFileError as exc:
                found.append(
                    Scheduled(month, path, Standing.unreadable, problem=exc.message, edition=code)
                )
                continue
            found.append(Scheduled(month, path, _standing(issue, now), issue, edition=code))
    return found


def _standing(issue: Issue, now: datetime) -> Standing:
    when = issue.due_at()
    if issue.status is IssueStatus.sent:
        return Standing.sent
    if issue.status is IssueStatus.draft:
        return Standing.draft
    if when is None:
        return Standing.unscheduled
    return Standing.due if when <= now else Standing.waiting


def send_finished(plan: Plan, report: SendReport | None) -> bool:
    """Everyone in the audience has had their answer: nothing deferred, held or cut short.

    Permanent failures and messages in doubt are final (they are not retried by a plain
    rerun), so they do not keep an issue from counting as sent.
    """
    if plan.busy:
        return False  # another run is sending some of it now; it marks the issue
    if report is None:
        return True  # nobody left to send to
    return not (report.deferred or report.interrupted or report.stopped or report.unrecorded)


def mark_sent(
    project: Project, month: str, now: datetime, edition: Edition | None = None
) -> Issue | None:
    """Record in the issue file (of ``edition``) that it went out (once: a sent issue keeps
    its time)."""
    path = project.issue_path(month, edition)
    issue = load_issue(path, resolve=False)
    if issue.status is IssueStatus.sent and issue.sent_at is not None:
        return None
    return record_sent(path, now)
