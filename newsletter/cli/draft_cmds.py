"""newsletter draft."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from newsletter.cli.app import MonthArg, ProjectOpt, app, console, open_project


@app.command()
def draft(
    month: MonthArg,
    project: ProjectOpt = Path("."),
    max_stories: Annotated[
        int | None, typer.Option("--max-stories", "-n", min=1, help="How many stories at most.")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Start over, replacing an existing issue file.")
    ] = False,
) -> None:
    """Choose the month's stories and write issues/YYYY-MM.yaml for editing.

    Example: newsletter draft 2020-10 --max-stories 6
    """
    from newsletter.editor import write_draft

    proj = open_project(project)
    path, issue = write_draft(proj, month, max_stories=max_stories, force=force)
    console.print(f"Wrote [bold]{path}[/] with {len(issue.stories())} stories.")
    if not issue.stories():
        console.print("[yellow]No stories were published in that month.[/]")
