"""Which stories an issue may hold: its time window, its send date, and earlier issues.

News counts when it was published in the window: the month, or (with the default
``window = "since-last-issue"``) since the previous issue went out, and never after this
issue's send date. Calls and events may be older: published up to ``lookback_days`` before
the window, they still count while their deadline or date is open on the send date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from newsletter.config import DraftSettings
from newsletter.editions import Edition
from newsletter.errors import IssueFileError, ProjectError
from newsletter.issuefile.yamlio import send_day_of
from newsletter.project import valid_month


def month_window(month: str) -> tuple[datetime, datetime]:
    """[first instant of the month, first instant of the next), in UTC."""
    year, mon = (int(p) for p in valid_month(month).split("-"))
    start = datetime(year, mon, 1, tzinfo=UTC)
    end = datetime(year + mon // 12, mon % 12 + 1, 1, tzinfo=UTC)
    return start, end


def default_send_date(month: str, send_day: int = 1) -> date:
    """When an issue goes out unless told otherwise: ``send_day`` of the following month."""
    return month_window(month)[1].date().replace(day=send_day)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


@dataclass(frozen=True)
class Window:
    month: str
    start: datetime
    """News published at or after this instant counts..."""
    end: datetime
    """...and before this one."""
    send_date: date
    lookback_start: datetime
    """Open calls and events published from here on count too."""
    previous: str | None = None
    """The earlier issue whose send date moved the start back, if any."""

    def describe(self) -> str:
        last = (self.end - timedelta(seconds=1)).date()
        since = f" (since the {self.previous} issue went out)" if self.previous else ""
        return f"{self.start.date()} to {last}{since}"


def issue_window(
    month: str,
    settings: DraftSettings,
    send_date: date,
    previous: tuple[str, date] | None = None,
    since: date | None = None,
) -> Window:
    """The window of ``month``'s issue, sent on ``send_date``; ``previous`` is (month, sent).

    ``since`` is the editor's explicit start: it wins over the month and the previous issue.
    """
    start, end = month_window(month)
    if send_date < start.date():
        raise ProjectError(
            f"send date {send_date} is before the issue's month {month}",
            hint=f"pass --send-date on or after {start.date()}",
        )
    moved_by = None
    if since is not None:
        if since > send_date:
            raise ProjectError(
                f"--since {since} is after the send date {send_date}",
                hint="choose a start on or before the day the issue goes out",
            )
        start = _midnight(since)
    elif settings.window == "since-last-issue" and previous and previous[1] < start.date():
        start, moved_by = _midnight(previous[1]), previous[0]
    # Stories published after the issue went out belong to the next one.
    end = min(end, _midnight(send_date + timedelta(days=1)))
    lookback = start - timedelta(days=settings.lookback_days)
    return Window(month, start, end, send_date, lookback, moved_by)


@dataclass
class History:
    """What earlier issue files say: stories already sent and when the last issue went out."""

    used: dict[str, str] = field(default_factory=dict)
    """Story id -> the month of the earlier issue that used it."""
    previous: tuple[str, date] | None = None
    """The month and send date of the previous month's issue, when it has a send date."""
    warnings: list[str] = field(default_factory=list)


def earlier_issues(
    issues_dir: Path, month: str, edition: Edition | None = None
) -> list[tuple[str, Path]]:
    """(month, path) of the issue files (of ``edition``) before ``month``, newest first."""
    found = []
    if issues_dir.is_dir():
        for path in issues_dir.glob("*.yaml"):
            try:
                other = valid_month(path.name.split(".")[0])
            except ProjectError:
                continue
            expected = edition.issue_file(other) if edition else f"{other}.yaml"
            if other < month and path.name == expected:
                found.append((other, path))
    return sorted(found, reverse=True)


def _load(path: Path, history: History) -> Any:
    from ruamel.yaml.error import YAMLError

    from newsletter.issuefile import quick_load

    try:
        data = quick_load(path)  # libyaml, bounded: only ids and dates are needed
    except IssueFileError as exc:
        history.warnings.append(f"{exc.message}; fix it, or its stories may be suggested again")
        return None
    except YAMLError as exc:
        history.warnings.append(
            f"{path}: could not be read ({type(exc).__name__}); fix it, or its stories may be "
            "suggested again"
        )
        return None
    return data if isinstance(data, dict) else None


def read_history(
    issues_dir: Path, month: str, settings: DraftSettings, edition: Edition | None = None
) -> History:
    """Read the earlier issue files that matter for ``month``'s issue.

    The previous month's issue gives the previous send date. (After a gap of skipped
    months the window stays the month: the news of those months is stale by now, and open
    calls and events are still found through ``lookback_days``.) For stories already used,
    only issues from the weeks the candidates come from are read (an older issue cannot
    hold a story young enough to be a candidate), which keeps drafting fast after years.
    """
    history = History()
    earlier = earlier_issues(issues_dir, month, edition)
    if not earlier:
        return history
    latest = _load(earlier[0][1], history)
    sent = send_day_of(latest) if latest else None
    start, _ = month_window(month)
    if earlier[0][0] != (start - timedelta(days=1)).strftime("%Y-%m"):
        sent = None
    if sent is not None:
        history.previous = (earlier[0][0], sent)
    if settings.window == "since-last-issue" and sent is not None:
        start = min(start, _midnight(sent))
    # an issue holds stories published up to its send date, early in the month after it
    oldest = (start - timedelta(days=settings.lookback_days + 62)).strftime("%Y-%m")
    for index, (other, path) in enumerate(earlier):
        if other < oldest:
            break
        data = latest if index == 0 else _load(path, history)
        for story in _section_stories(data or {}):
            history.used.setdefault(str(story["id"]), other)
    return history


def _section_stories(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The story mappings of an issue's sections, skipping anything malformed."""
    found = []
    for section in data.get("sections") or []:
        if isinstance(section, dict) and isinstance(section.get("stories"), list):
            found += [s for s in section["stories"] if isinstance(s, dict) and s.get("id")]
    return found
