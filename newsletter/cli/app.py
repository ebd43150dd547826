"""The Typer application and the options every command shares."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperGroup, TyperOption

if TYPE_CHECKING:
    from newsletter.project import Project

# Commands in --help in the order of the pipeline; any not named here follow, as defined.
PIPELINE = ("collect", "items", "draft", "validate", "build", "check", "preview", "approve",
            "export", "send", "suppress", "subscribers", "serve", "db", "run", "init")  # fmt: skip
GLOBAL_FLAGS = ("--debug",)


class NewsletterGroup(TyperGroup):
    """The root command: pipeline order in --help, and --debug accepted after a command too."""

    def list_commands(self, ctx: Any) -> list[str]:
        names = super().list_commands(ctx)
        rank = {name: i for i, name in enumerate(PIPELINE)}
        return sorted(names, key=lambda name: rank.get(name, len(PIPELINE)))

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        end = args.index("--") if "--" in args else len(args)
        found = [a for a in args[:end] if a in GLOBAL_FLAGS]
        rest = [a for a in args[:end] if a not in GLOBAL_FLAGS]
        with _plain_bad_parameter():
            return super().parse_args(ctx, [*dict.fromkeys(found), *rest, *args[end:]])

    def invoke(self, ctx: Any) -> Any:
        with _plain_bad_parameter():  # a subcommand's options are parsed in here
            return super().invoke(ctx)


@contextmanager
def _plain_bad_parameter() -> Iterator[None]:
    """Typer checks option values with pydantic, whose message starts "Value error, "."""
    try:
        yield
    except typer.BadParameter as exc:
        exc.message = exc.message.replace("Value error, ", "")
        raise


def _flag_type(self: TyperOption, ctx: Any) -> str | None:
    """A flag takes no value, so its help shows no type (Typer would show <bool>)."""
    return None if self.is_flag else _option_type(self, ctx)


# Typer renders each option's type with this method; a flag's is left out.
if hasattr(TyperOption, "display_type_rich"):
    _option_type = TyperOption.display_type_rich
    TyperOption.display_type_rich = _flag_type  # type: ignore[method-assign]

app = typer.Typer(
    name="newsletter",
    cls=NewsletterGroup,
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


class WallClock:
    """The time commands record (approved_at, sent_at) and judge ``send --due`` by.

    Tests set ``CLOCK.now`` to a fixed time; nothing else does."""

    def __init__(self) -> None:
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)


CLOCK = WallClock()

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


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("newsletter")
    except PackageNotFoundError:  # run from a source checkout
        from newsletter import __version__

        return __version__


def _show_version(value: bool) -> None:
    if value:
        console.print(f"newsletter {version()}", highlight=False)
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[
        bool,
        typer.Option("--debug", help="Show full tracebacks for errors (before or after COMMAND)."),
    ] = False,
    _version: Annotated[
        bool,
        typer.Option(
            "--version", help="Show the version and exit.", callback=_show_version, is_eager=True
        ),
    ] = False,
) -> None:
    state["debug"] = debug
