"""newsletter approve."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from newsletter.cli.app import CLOCK, MonthArg, ProjectOpt, app, console, open_project
from newsletter.cli.export_cmds import EditionOpt
from newsletter.cli.show import show


@app.command()
def approve(
    month: MonthArg,
    by: Annotated[
        str | None,
        typer.Option("--by", help="Who approves (default: git's user.name, else your login)."),
    ] = None,
    edition: EditionOpt = None,
    project: ProjectOpt = Path("."),
) -> None:
    """Approve an issue for sending: records who and when in the issue file.

    Runs `newsletter check` first and refuses while it reports errors. `send` sends only an
    approved issue, and refuses one changed since its approval (approve it again). With
    several editions, each edition's file is approved (--edition: only that one).

    Example: newsletter approve 2020-10 --by "Kari Nordmann"
    """
    from newsletter.approval import approve_issue, default_approver

    proj = open_project(project)
    approved = approve_issue(
        proj, month, by=by or default_approver(), now=CLOCK.now(), edition=edition
    )
    for each, issue in approved:
        when = issue.due_at()
        label = month if each.single else f"{month} ({each.code})"
        console.print(
            f"Approved [bold]{label}[/] by {show(issue.approved_by or '')} at "
            f"{issue.approved_at:%Y-%m-%d %H:%M %Z} ({proj.issue_path(month, each)})."
        )
        if when is None:
            console.print(f"It has no send_at; send it with `newsletter send {month}`.")
        else:
            console.print(
                f"It goes out with `newsletter send --due` from {when:%Y-%m-%d %H:%M %z}."
            )
