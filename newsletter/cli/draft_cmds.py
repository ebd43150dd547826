"""newsletter draft, newsletter validate."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from newsletter.cli.app import MonthArg, ProjectOpt, app, console, open_project

if TYPE_CHECKING:
    from newsletter.editor import DraftResult
    from newsletter.issuefile import IssueReport


def _date_option(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date; write it as YYYY-MM-DD, for example 2024-03-10",
            param_hint=option,
        ) from None


@app.command()
def draft(
    month: MonthArg,
    project: ProjectOpt = Path("."),
    send_date: Annotated[
        str | None,
        typer.Option(
            "--send-date",
            metavar="YYYY-MM-DD",
            help="When the issue goes out: calls and events closed by then are left out "
            "(default: the one in the file, else [draft] send_day of the next month).",
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            metavar="YYYY-MM-DD",
            help="Take news published from this day on (default: the month, or since the "
            "previous issue went out). Useful for a first issue or after a break.",
        ),
    ] = None,
    max_stories: Annotated[
        int | None, typer.Option("--max-stories", "-n", min=1, help="How many stories at most.")
    ] = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Show every candidate's score and why it was kept.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Start over, replacing the issue file (pinned stories stay)."),
    ] = False,
    edition: Annotated[
        str | None,
        typer.Option("--edition", "-e", metavar="CODE", help="Only this edition (default: all)."),
    ] = None,
) -> None:
    """Choose the month's stories and write issues/YYYY-MM.yaml for editing.

    With several editions, one file per edition: issues/YYYY-MM.<code>.yaml, each with the
    stories in its language. Run it again at any time: your edits stay, and new candidates
    are added as alternates.

    Example: newsletter draft 2024-03 --send-date 2024-03-10 --explain
    """
    from newsletter.editor import draft_editions

    when = _date_option(send_date, "--send-date")
    start = _date_option(since, "--since")
    proj = open_project(project)
    results = draft_editions(
        proj, month, editions=proj.pick_editions(edition), send_date=when, since=start,
        max_stories=max_stories, force=force,
    )  # fmt: skip
    errors = []
    for result in results:
        if explain:
            _print_explain(result)
        _print_result(result)
        errors += result.report.errors if result.report is not None else []
    if errors:
        result = next(r for r in results if r.report is not None and r.report.errors)
        from newsletter.errors import IssueFileError

        # The file is written (the edits are kept), but it will not build as it is.
        raise IssueFileError(
            f"{result.path}: {_count(len(errors), 'problem', 'problems')} (listed above); "
            "the issue will not build until they are fixed",
            hint=f"fix them in the file, then run `newsletter validate {month}`",
        )


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _print_result(result: DraftResult) -> None:
    from rich.markup import escape

    window = result.selection.window

    def say(text: str) -> None:  # never hard-wrapped: a path must stay on one line
        console.print(text, highlight=False, soft_wrap=True)

    for warning in result.warnings:
        say(f"[yellow]warning:[/] {escape(warning)}")
    if result.created:
        say(
            f"Wrote [bold]{escape(str(result.path))}[/] with "
            f"{_count(result.stories, 'story', 'stories')} and "
            f"{_count(result.alternates, 'alternate', 'alternates')} "
            f"(window {window.describe()}, send date "
            f"{window.send_date})."
        )
    elif result.changed:
        added = (
            f"added {_count(len(result.added), 'alternate', 'alternates')}"
            if result.added
            else "no new stories"
        )
        filled = f", filled in {len(result.filled)} story snapshot(s)" if result.filled else ""
        say(f"Updated [bold]{escape(str(result.path))}[/]: {added}{filled}; your edits are kept.")
    else:
        say(f"[bold]{escape(str(result.path))}[/] is up to date: no new stories.")
    if not result.selection.chosen() and result.created:
        say(f"[yellow]No stories for this issue ({window.describe()}); the file says so.[/]")
    if result.report is not None:
        _print_problems(result.report)


def _print_problems(report: IssueReport) -> None:
    from rich.markup import escape

    for problem in report.problems:
        colour = "red" if problem.level == "error" else "yellow"
        console.print(
            f"[{colour}]{problem.level}:[/] {escape(str(report.path))}: {escape(str(problem))}",
            highlight=False,
            soft_wrap=True,
        )


def _print_explain(result: DraftResult) -> None:
    """One row per candidate: its score and date, then its title, the decision and the
    score's parts on lines of their own, so that the table reads at 80 columns."""
    from rich.markup import escape
    from rich.table import Table

    from newsletter.editor import Status

    selection = result.selection
    rank = {Status.chosen: 0, Status.alternate: 1, Status.dropped: 2}
    decisions = sorted(selection.decisions, key=lambda d: (rank[d.status], -d.score.total))
    table = Table(
        title=f"Candidates for {selection.window.month}: {selection.window.describe()}, "
        f"send date {selection.window.send_date}",
        caption=escape(
            "score = recency + source + image + length + kind + keywords, as weighted by "
            "[draft.weights]"
        ),
        show_lines=True,
    )
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("date", no_wrap=True)
    table.add_column("story, decision and score parts", ratio=1, overflow="fold")
    colours = {Status.chosen: "green", Status.alternate: "yellow", Status.dropped: "red"}
    for d in decisions:
        parts = " · ".join(f"{name} {value:.2f}" for name, value in d.score.parts().items())
        if d.score.matched:
            parts += f" ({', '.join(d.score.matched)})"
        where = f" → {d.section}" if d.section and d.status is not Status.dropped else ""
        why = f": {d.reason}" if d.reason else ""
        table.add_row(
            f"{d.score.total:.2f}",
            d.item.published.date().isoformat(),
            f"[bold]{escape(d.item.title)}[/]\n"
            f"[{colours[d.status]}]{d.status.value}[/]{escape(why)}{escape(where)}\n"
            f"[dim]{escape(parts)}[/]",
        )
    console.print(table)
    if not decisions:
        console.print("No candidates: nothing stored for this window.")


@app.command()
def validate(
    month: MonthArg,
    project: ProjectOpt = Path("."),
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail on warnings too (non-https links...).")
    ] = False,
) -> None:
    """Check an issue file: every problem with its file, line and key.

    Checks unknown keys, the subject (present; a warning above 78 characters, as check
    gives), https links, story titles, duplicate stories, deadlines before the send date,
    and story ids missing from the store. `newsletter build` runs the same checks.

    Example: newsletter validate 2024-03
    """
    from rich.markup import escape

    from newsletter.errors import IssueFileError
    from newsletter.issuefile import Level, validate_issue
    from newsletter.store import Store

    proj = open_project(project)
    path = proj.require_issue(month)
    if proj.database.exists:
        with Store(proj.database) as store:
            report = validate_issue(path, known=lambda i: store.get(i) is not None)
    else:
        report = validate_issue(path)
    for problem in report.warnings:
        console.print(
            f"[yellow]warning:[/] {escape(f'{path}: {problem}')}", highlight=False, soft_wrap=True
        )
    if report.errors:
        raise IssueFileError(report.message(), hint="fix the lines above and validate again")
    if strict and report.warnings:
        raise IssueFileError(
            report.message(Level.warning), hint="fix the warnings, or validate without --strict"
        )
    stories = len(report.issue.stories()) if report.issue else 0
    console.print(f"[green]ok:[/] {path} ({stories} stories)", highlight=False)
