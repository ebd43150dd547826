"""newsletter build, newsletter run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from newsletter.cli.app import MonthArg, ProjectOpt, app, console, open_project


def _build_one(project: Path, month: str, keep_mjml: bool) -> None:
    from newsletter.issuefile import load_issue
    from newsletter.render import build_issue

    proj = open_project(project)
    issue = load_issue(proj.require_issue(month))
    out = build_issue(proj, issue, keep_mjml=keep_mjml)
    size = (out / "email.html").stat().st_size
    console.print(
        f"Built [bold]{month}[/] into {out}: email.html ({size / 1024:.1f} KB), email.txt"
    )


@app.command()
def build(
    month: MonthArg,
    project: ProjectOpt = Path("."),
    mjml: Annotated[bool, typer.Option("--mjml", help="Also write the generated MJML.")] = False,
) -> None:
    """Render an issue to build/YYYY-MM/email.html and email.txt.

    Example: newsletter build 2020-10
    """
    _build_one(project, month, mjml)


@app.command()
def run(
    month: MonthArg,
    project: ProjectOpt = Path("."),
) -> None:
    """Do it all: collect, draft (only if there is no issue file yet), build.

    Example: newsletter run 2020-10
    """
    from newsletter.cli.collect_cmds import collect
    from newsletter.editor import write_draft

    proj = open_project(project)
    try:
        collect(project=project, source=None)
    except typer.Exit as exc:
        if exc.exit_code:
            console.print("[yellow]Some sources failed; continuing with what was collected.[/]")
    if proj.issue_path(month).exists():
        console.print(f"Keeping the existing issue file {proj.issue_path(month)}.")
    else:
        path, issue = write_draft(proj, month)
        console.print(f"Drafted {path} with {len(issue.stories())} stories.")
    _build_one(project, month, keep_mjml=False)
