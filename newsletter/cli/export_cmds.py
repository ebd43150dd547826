"""newsletter export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from newsletter.cli.app import MonthArg, ProjectOpt, app, console, open_project


@app.command()
def export(
    month: MonthArg,
    to: Annotated[str, typer.Option("--to", help="The provider: eml.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the export to.")],
    project: ProjectOpt = Path("."),
) -> None:
    """Export an issue for a mail provider.

    Example: newsletter export 2020-10 --to eml --out out/
    """
    from newsletter.export import export_issue

    result = export_issue(open_project(project), month, to, out)
    for path in result.files:
        console.print(f"Wrote {path}")
