"""newsletter approve."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from newsletter.cli.app import CLOCK, MonthArg, ProjectOpt, app, console, open_project
from newsletter.cli.show import show


@app.command()
def approve(
    month: MonthArg,
    by: Annotated[
        str | None,
        typer.Option("--by", help="Who approves (default: git's user.name, else your login)."),
    ] = None,
    project: ProjectOpt = Path("."),
) -> None:
    """Approve an issue for sending: records who and when in the issue file.

    Runs `newsletter check` first and refuses while it reports errors. `send` sends only an
    approved issue, and refuses one changed since its approval (approve it again).

    Example: newsletter approve 2020-10 --by "Kari Nordmann"
    """
    from newsletter.approval import approve_issue, default_approver

    proj = open_project(project)
    issue = approve_issue(proj, month, by=by or default_approver(), now=CLOCK.now())
    when = issue.due_at()
    console.print(
        f"Approved [bold]{month}[/] by {show(issue.approved_by or '')} at "
        f"{issue.approved_at:%Y-%m-%d %H:%M %Z} ({proj.issue_path(month)})."
    )
    if when is None:
        console.print(f"It has no send_at; send it with `newsletter send {month}`.")
    else:
        console.print(f"It goes out with `newsletter send --due` from {when:%Y-%m-%d %H:%M %z}.")
