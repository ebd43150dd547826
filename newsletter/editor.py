"""draft: choose the stories for one month from the store and shape an issue."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from newsletter.config import Config
from newsletter.errors import IssueFileError
from newsletter.issuefile import save_issue
from newsletter.models import Issue, NewsItem, Section, Story
from newsletter.project import Project, valid_month
from newsletter.sanitize import summarize
from newsletter.store import Store


def month_window(month: str) -> tuple[datetime, datetime]:
    """[first instant of the month, first instant of the next), in UTC."""
    year, mon = (int(p) for p in valid_month(month).split("-"))
    start = datetime(year, mon, 1, tzinfo=UTC)
    end = datetime(year + mon // 12, mon % 12 + 1, 1, tzinfo=UTC)
    return start, end


def candidates(store: Store, month: str) -> list[NewsItem]:
    start, end = month_window(month)
    return store.items(start=start, end=end)


def draft_issue(
    config: Config, store: Store, month: str, *, max_stories: int | None = None
) -> Issue:
    limit = max_stories or config.draft.max_stories
    pool = candidates(store, month)
    # The lead is the newest story with an image; the rest follow newest first.
    pool.sort(key=lambda item: (item.image is None, -item.published.timestamp()))
    chosen = pool[:limit]
    stories = [Story.from_item(item) for item in chosen]
    lead = chosen[0] if chosen else None
    return Issue(
        month=month,
        subject=suggest_subject(config, month, lead),
        preheader=summarize(lead.summary, 110) if lead else "",
        language=config.newsletter.language,
        sections=[Section(title=config.draft.section, stories=stories)],
        alternates=[Story.from_item(item) for item in pool[limit:]],
    )


def suggest_subject(config: Config, month: str, lead: NewsItem | None) -> str:
    month_name = datetime.strptime(month, "%Y-%m").strftime("%B %Y")
    if lead is None:
        return f"{config.newsletter.name}, {month_name}: no news this month"
    subject = f"{lead.title} | {config.newsletter.name}, {month_name}"
    return subject if len(subject) <= 110 else summarize(lead.title, 110)


def write_draft(
    project: Project, month: str, *, max_stories: int | None = None, force: bool = False
) -> tuple[Path, Issue]:
    """Draft ``issues/YYYY-MM.yaml`` from the store; never overwrite edits without ``force``."""
    path = project.issue_path(month)
    if path.exists() and not force:
        raise IssueFileError(
            f"{path}: already exists and may hold your edits",
            hint="edit it by hand, or pass --force to start over",
        )
    with Store(project.store_path) as store:
        issue = draft_issue(project.config, store, month, max_stories=max_stories)
    save_issue(issue, path)
    return path, issue
