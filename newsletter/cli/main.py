"""The ``newsletter`` command: every command registered on one Typer app, and how it exits.

Errors print one message (and a hint) and exit with the error's code; tracebacks only with
``--debug``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

# Importing a command module registers its commands on ``app``.
from newsletter.cli import (  # noqa: F401
    approve_cmds,
    build_cmds,
    collect_cmds,
    db_cmds,
    draft_cmds,
    export_cmds,
    project_cmds,
    send_cmds,
    suppress_cmds,
)
from newsletter.cli.app import app, err_console, state

from newsletter.cli import preview_cmds  # noqa: F401  # isort: skip
from newsletter.cli import report_cmds, serve_cmds, subscribers_cmds  # noqa: F401  # isort: skip

INTERNAL_ERROR = 70


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line on ``argv`` (default: ``sys.argv[1:]``); errors exit with a code."""
    from rich.markup import escape

    from newsletter.errors import NewsletterError

    try:
        app(args=argv, prog_name="newsletter")
    except NewsletterError as exc:
        if state["debug"]:
            raise
        err_console.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False)
        if exc.hint:
            err_console.print(f"[dim]hint:[/] {escape(exc.hint)}", highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except Exception as exc:
        if state["debug"]:
            raise
        err_console.print(
            f"[bold red]internal error:[/] {type(exc).__name__}: {escape(str(exc))}\n"
            "Run again with --debug for the traceback, and please report it.",
            highlight=False,
        )
        sys.exit(INTERNAL_ERROR)
