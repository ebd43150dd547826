"""The whole pipeline for one month: collect, draft (only when there is no issue file), build.

``run_month`` is what ``newsletter run`` does, as a library call: a source that fails is
reported in the collect report and the run goes on with what was collected; an existing
issue file is kept as the editors left it. A month with no stories is not built (it would
join the archive and the feed as an issue) unless ``allow_empty`` asks for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from newsletter.build import MonthRender
from newsletter.collect import CollectReport
from newsletter.editions import Edition
from newsletter.errors import ProjectError
from newsletter.project import Project


@dataclass
class EditionRun:
    issue_path: Path
    drafted: bool
    """A new issue file was drafted; otherwise the existing one was kept."""
    stories: int
    """Stories in the issue file."""
    built: MonthRender
    out: Path
    """build/YYYY-MM/ (build/<code>/YYYY-MM/ with several editions)"""


@dataclass
class MonthRun:
    collected: CollectReport
    editions: list[EditionRun]
    """Every edition, the default first."""
    archive: list[Path]
    """build/index.html and build/feed.xml (and each edition's)"""

    @property
    def issue_path(self) -> Path:
        return self.editions[0].issue_path

    @property
    def drafted(self) -> bool:
        return self.editions[0].drafted

    @property
    def stories(self) -> int:
        return self.editions[0].stories

    @property
    def built(self) -> MonthRender:
        return self.editions[0].built

    @property
    def out(self) -> Path:
        return self.editions[0].out


class EmptyMonthError(ProjectError):
    """``run`` on a month with no stories, without ``allow_empty``."""


def run_month(
    project: Project,
    month: str,
    *,
    on_start: Callable[[str], None] | None = None,
    on_loaded: Callable[[str, bool], None] | None = None,
    on_collected: Callable[[CollectReport], None] | None = None,
    raise_unexpected: bool = False,
    allow_empty: bool = False,
) -> MonthRun:
    """Collect every source, draft ``month`` if it has no issue file yet, and build it.

    ``on_start`` and ``on_loaded`` report collect's progress (see ``collect.collect``);
    ``on_collected`` gets the collect report as soon as the sources are stored.
    """
    from newsletter.archive import build_archive
    from newsletter.build import render_month, write_month
    from newsletter.collect import collect
    from newsletter.editor import draft
    from newsletter.issuefile import load_issue
    from newsletter.store import Store
    from newsletter.translations import keys_of

    with Store(project.database) as store:
        collected = collect(
            project,
            store,
            on_start=on_start,
            on_loaded=on_loaded,
            raise_unexpected=raise_unexpected,
        )
    if on_collected:
        on_collected(collected)
    runs = []
    prefer: set[str] | None = None
    for edition in project.editions:
        path = project.issue_path(month, edition)
        drafted = not path.exists()
        window = ""
        if drafted:
            result = draft(project, month, edition=edition, prefer=prefer)
            path, window = result.path, result.selection.window.describe()
            if edition.default:
                prefer = keys_of(result.selection.chosen())
        issue = load_issue(path)
        if not issue.stories() and not allow_empty:
            _refuse_empty(month, path, drafted, window, edition)
        built = render_month(project, month, web=True, issue=issue, edition=edition)
        runs.append(
            EditionRun(path, drafted, len(built.issue.stories()), built, write_month(built))
        )
    return MonthRun(collected=collected, editions=runs, archive=build_archive(project))


def _refuse_empty(month: str, path: Path, drafted: bool, window: str, edition: Edition) -> None:
    anyway = f"or build a 'no news this month' issue with `newsletter run {month} --allow-empty`"
    which = "" if edition.single else f" in the {edition.code} edition"
    if drafted:
        path.unlink()  # the file this run drafted: the next run drafts again
        found = f"nothing collected{which} was published {window}"
        hint = (
            f"collect again later, widen the window with `newsletter draft {month} "
            f"--since YYYY-MM-DD`, {anyway}"
        )
    else:
        found = f"{path.name} has none in its sections"
        hint = f"move stories into a section of {path.name} (its alternates, say), {anyway}"
    raise EmptyMonthError(
        f"{month}{which} has no stories ({found}), so no issue was built; the archive and the "
        "feed are unchanged",
        hint=hint,
    )
