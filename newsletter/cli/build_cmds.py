"""newsletter build, newsletter check, newsletter run."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from newsletter.cli.app import MonthArg, ProjectOpt, app, console, open_project

if TYPE_CHECKING:
    from newsletter.build import MonthRender
    from newsletter.checks import CheckReport
    from newsletter.collect import CollectReport
    from newsletter.editions import Edition
    from newsletter.project import Project

BUDGET_KB = 90
MonthOrAllArg = Annotated[
    str,
    typer.Argument(
        help="The issue's month as YYYY-MM, or 'all' for every issue.", metavar="YYYY-MM|all"
    ),
]


EditionOpt = Annotated[
    str | None,
    typer.Option("--edition", "-e", metavar="CODE", help="Only this edition (default: all)."),
]


def _build_month(proj: Project, month: str, keep_mjml: bool, edition: str | None) -> None:
    from newsletter.build import render_month, write_month

    for each in proj.pick_editions(edition):
        if not each.single and not proj.issue_path(month, each).is_file() and edition is None:
            console.print(
                f"[yellow]No {each.code} edition of {month}[/] ({proj.issue_path(month, each)})."
            )
            continue
        done = render_month(proj, month, web=True, edition=each)
        _print_built(done, write_month(done, keep_mjml=keep_mjml))


def _print_built(done: MonthRender, out: Path) -> None:
    from rich.markup import escape

    month = done.issue.month
    if done.edition is not None and not done.edition.single:
        month = f"{month} ({done.edition.code})"
    size = (out / "email.html").stat().st_size / 1024
    colour = "yellow" if size > BUDGET_KB else "green"
    images = done.images
    pictures = ""
    if images and images.prepared:
        pictures = f", img/ ({len(images.prepared)} images, {images.total_bytes / 1024:.0f} KB)"
    console.print(
        f"Built [bold]{month}[/] into {out}: email.html ([{colour}]{size:.1f} KB[/]), "
        f"email.txt, index.html (web version){pictures}"
    )
    for failed in images.failures if images else []:
        console.print(
            f"[yellow]Image not prepared[/] for “{escape(failed.title)}”: {escape(failed.reason)}"
            f"\n  kept its original address: {escape(failed.url)}",
            soft_wrap=True,
        )


def _build(
    project: Path, month: str, keep_mjml: bool, drafts: bool = False, edition: str | None = None
) -> None:
    from newsletter.archive import archive_entries, build_archive

    proj = open_project(project)
    if month == "all":
        from rich.progress import Progress

        months = proj.months()
        if not months:
            console.print(
                f"No issue files in {proj.issues_dir}; draft one with `newsletter draft`."
            )
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("Building issues", total=len(months))
            for each in months:
                _build_month(proj, each, keep_mjml, edition)
                progress.advance(task)
    else:
        _build_month(proj, month, keep_mjml, edition)
    _print_archive(build_archive(proj, drafts=drafts))
    unsent = sorted(e.month for e in archive_entries(proj, drafts=True) if e.draft)
    if unsent and drafts:
        console.print(f"Listed as not sent yet (not in the feed): {', '.join(unsent)}.")
    elif unsent:
        console.print(
            f"Not in the archive until sent: {', '.join(unsent)} (--drafts lists them, marked)."
        )


def _print_archive(paths: list[Path]) -> None:
    console.print(f"Archive: {', '.join(str(p) for p in paths)}", soft_wrap=True)


@app.command()
def build(
    month: MonthOrAllArg,
    project: ProjectOpt = Path("."),
    mjml: Annotated[bool, typer.Option("--mjml", help="Also write the generated MJML.")] = False,
    drafts: Annotated[
        bool,
        typer.Option("--drafts", help="List unsent issues in the archive too, marked (previews)."),
    ] = False,
    edition: EditionOpt = None,
) -> None:
    """Render an issue: build/YYYY-MM/email.html, email.txt and index.html (its web page).

    Also refreshes the web archive, build/index.html, and its Atom feed, build/feed.xml,
    which list the issues that were sent (--drafts: the archive page lists the rest too).
    With several editions, each is built into build/<code>/YYYY-MM/ with its own archive
    and feed in build/<code>/.

    Example: newsletter build 2020-10   (or: newsletter build all --drafts)
    """
    _build(project, month, mjml, drafts, edition)


class CheckFormat(StrEnum):
    text = "text"
    json = "json"


@app.command()
def check(
    month: MonthArg,
    project: ProjectOpt = Path("."),
    format: Annotated[
        CheckFormat, typer.Option("--format", "-f", help="text for people, json for scripts.")
    ] = CheckFormat.text,
    links: Annotated[
        bool, typer.Option("--links", help="Also request every link and image (needs network).")
    ] = False,
    edition: EditionOpt = None,
) -> None:
    """Check an issue for what would hurt subscribers: size, alt text, links, contrast...

    With several editions, every edition is checked (--edition narrows), also for stories
    in another language and template words without a translation. Exits with 1 when there
    are errors (warnings alone exit 0).

    Example: newsletter check 2020-10 --links
    """
    proj = open_project(project)
    reports = [_check_one(proj, month, links, format, each) for each in proj.pick_editions(edition)]
    if format is CheckFormat.json:
        if len(reports) == 1:
            typer.echo(reports[0].to_json())
        else:
            typer.echo("[\n" + ",\n".join(r.to_json().rstrip() for r in reports) + "\n]")
    else:
        for report in reports:
            _print_report(report)
    if any(report.errors for report in reports):
        raise typer.Exit(1)


def _check_one(
    proj: Project, month: str, links: bool, format: CheckFormat, edition: Edition
) -> CheckReport:
    from newsletter.checks import check_issue

    if links and format is CheckFormat.text:
        from rich.progress import Progress

        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("Checking links", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            return check_issue(proj, month, links=True, progress=advance, edition=edition)
    return check_issue(proj, month, links=links, edition=edition)


def _print_report(report: object) -> None:
    from rich.markup import escape

    from newsletter.checks import CheckReport, Level

    assert isinstance(report, CheckReport)
    size = f"{report.html_bytes / 1024:.1f} KB" if report.html_bytes else "not rendered"
    images = ""
    if report.image_budget:
        colour = "yellow" if report.image_bytes > report.image_budget else "green"
        images = (
            f", images [{colour}]{report.image_bytes / 1024:.0f} KB[/] of "
            f"{report.image_budget / 1024:.0f} KB"
        )
    which = f" ({report.edition})" if report.edition else ""
    console.print(f"Checked [bold]{report.month}{which}[/]: email.html {size}{images}")
    order = {Level.error: 0, Level.warning: 1, Level.info: 2}
    styles = {Level.error: "red", Level.warning: "yellow", Level.info: "dim"}
    if report.notes:
        from newsletter.checks.clients import support_data

        data = support_data()
        console.print(f"Notes on client support come from caniemail.com's data of {data.date}.")
    for finding in sorted(report.findings, key=lambda f: order[f.level]):
        style = styles[finding.level]
        where = f"  {escape(finding.where)}" if finding.where else ""
        # One line per finding, never wrapped: a file:line must stay copyable.
        console.print(
            f"[{style}]{finding.level:<7}[/] [bold]{escape(finding.rule)}[/]{where}\n"
            f"        {escape(finding.message)}",
            soft_wrap=True,
            highlight=False,
        )
    errors, warnings = len(report.errors), len(report.warnings)
    colour = "red" if errors else ("yellow" if warnings else "green")
    notes = f", {len(report.notes)} note(s)" if report.notes else ""
    console.print(f"[{colour}]{errors} error(s), {warnings} warning(s)[/]{notes}")


@app.command()
def run(
    month: MonthArg,
    project: ProjectOpt = Path("."),
    allow_empty: Annotated[
        bool,
        typer.Option(
            "--allow-empty",
            help="Build the issue even with no stories (it says there is no news this month).",
        ),
    ] = False,
) -> None:
    """Do it all: collect, draft (only if there is no issue file yet), build.

    A month with no stories is not built (exit code 2) unless --allow-empty asks for it.

    Example: newsletter run 2020-10
    """
    from newsletter.cli.app import state
    from newsletter.cli.collect_cmds import CollectProgress, print_collect_report, stop_on_sigterm
    from newsletter.pipeline import run_month

    proj = open_project(project)
    stop_on_sigterm()
    with CollectProgress(len(proj.config.sources)) as progress:

        def collected(report: CollectReport) -> None:
            progress.stop()
            print_collect_report(report)
            if report.failed:
                console.print("[yellow]Some sources failed; continuing with what was collected.[/]")

        result = run_month(
            proj,
            month,
            on_start=progress.started,
            on_loaded=progress.loaded,
            on_collected=collected,
            raise_unexpected=bool(state["debug"]),
            allow_empty=allow_empty,
        )
    if not result.stories:
        console.print(
            "[yellow]The issue has no stories; it says there is no news this month "
            "(built because of --allow-empty).[/]"
        )
    for each in result.editions:
        if each.drafted:
            console.print(f"Drafted {each.issue_path} with {each.stories} stories.")
        else:
            console.print(f"Keeping the existing issue file {each.issue_path}.")
        _print_built(each.built, each.out)
    _print_archive(result.archive)
