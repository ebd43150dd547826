"""The Typer application and the options every command shares."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from newsletter.project import Project

app = typer.Typer(
    name="newsletter",
    help="Compile a monthly email newsletter from your organisation's news.\n\n"
    "Pipeline: collect -> draft -> build -> export/send. Example:\n\n"
    "  newsletter run 2020-10",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
console = Console()
# Errors are never hard-wrapped: a file path must stay on one line to be copied.
err_console = Console(stderr=True, soft_wrap=True)

state = {"debug": False}

ProjectOpt = Annotated[
    Path,
    typer.Option(
        "--project",
        "-p",
        help="The newsletter project folder (holds newsletter.toml).",
        file_okay=False,
        show_default="current folder",
    ),
]
MonthArg = Annotated[str, typer.Argument(help="The issue's month, as YYYY-MM.", metavar="YYYY-MM")]


def open_project(path: Path) -> Project:
    """The project at ``path``, with its config loaded and validated up front."""
    from newsletter.project import Project

    project = Project.at(path)
    project.config  # noqa: B018 - fail early, before any work, on a bad config
    return project


@app.callback()
def _root(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show full tracebacks for errors.")
    ] = False,
) -> None:
    state["debug"] = debug
