"""What happened to an issue: sent, delivered, bounced, complained, unsubscribed, clicked.

Read from the send log, the provider events, the consent history and the click counters;
nothing here identifies a reader by their clicks.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from newsletter.issuefile import load_issue
from newsletter.project import Project
from newsletter.store.events import EventLog
from newsletter.store.sendlog import SendLog
from newsletter.store.subscribers import open_subscribers


@dataclass
class StoryClicks:
    title: str
    url: str
    clicks: int


@dataclass
class IssueReport:
    issue: str
    first_sent: str | None = None
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    uncertain: int = 0
    delivered: int = 0
    bounced_hard: int = 0
    bounced_soft: int = 0
    complained: int = 0
    unsubscribed: int = 0
    clicks: list[StoryClicks] = field(default_factory=list)
    unsubscribes_by_day: list[tuple[str, int]] = field(default_factory=list)

    @property
    def bounce_rate(self) -> float:
        return self.bounced_hard / self.sent if self.sent else 0.0

    @property
    def complaint_rate(self) -> float:
        return self.complained / self.sent if self.sent else 0.0

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["bounce_rate"] = round(self.bounce_rate, 4)
        data["complaint_rate"] = round(self.complaint_rate, 4)
        return data


def _bare(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.netloc}{parts.path}".rstrip("/").lower()


def issue_report(project: Project, month: str) -> IssueReport:
    report = IssueReport(month)
    with SendLog(project.database) as log:
        counts = log.counts(month)
        starts = log.first_sent()
    report.sent, report.deferred = counts.get("sent", 0), counts.get("deferred", 0)
    report.failed, report.uncertain = counts.get("failed", 0), counts.get("sending", 0)
    report.first_sent = starts.get(month)

    subscribers = open_subscribers(project)
    events = EventLog(subscribers.engine)
    found = events.counts(month)
    report.delivered = found.get("delivered", 0)
    report.bounced_hard = found.get("bounce_hard", 0)
    report.bounced_soft = found.get("bounce_soft", 0)
    report.complained = found.get("complaint", 0)

    if report.first_sent:
        later = sorted(t for m, t in starts.items() if m > month)
        start = datetime.fromisoformat(report.first_sent)
        end = datetime.fromisoformat(later[0]) if later else None
        days: Counter[date] = Counter()
        for at in subscribers.unsubscribed_between(start, end):
            days[at.date()] += 1
        report.unsubscribed = sum(days.values())
        report.unsubscribes_by_day = [(d.isoformat(), n) for d, n in sorted(days.items())]

    titles: dict[str, str] = {}
    for edition in project.editions:  # clicks of every edition of the month
        path = project.issue_path(month, edition)
        if path.is_file():
            for story in load_issue(path).stories():
                titles.setdefault(_bare(str(story.url)), story.title)
    for url, clicks in events.clicks(month):
        report.clicks.append(StoryClicks(titles.get(_bare(url), url), url, clicks))
    subscribers.engine.dispose()
    return report
