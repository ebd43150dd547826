"""newsletter init."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from newsletter.cli.app import app, console


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create the project in.")],
    force: Annotated[
        bool, typer.Option("--force", help="Write into a folder that already has files.")
    ] = False,
) -> None:
    """Create a working newsletter project: newsletter.toml, templates/, issues/.

    Example: newsletter init my-newsletter && cd my-newsletter
    """
    from newsletter.scaffold import init_project

    created = init_project(directory, force=force)
    console.print(f"Created a newsletter project in [bold]{escape(str(directory))}[/]:")
    for path in created:
        console.print(f"  {path.relative_to(directory)}")
    console.print(
        f"Next: edit newsletter.toml ({escape('[[sources]]')}, addresses, brand, \\[smtp]), "
        "then run "
        "[bold]newsletter collect[/] and [bold]newsletter draft YYYY-MM[/]."
    )
