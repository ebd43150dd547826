"""newsletter db status|upgrade|copy: the store's database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from newsletter.cli.app import ProjectOpt, app, console, open_project

db_app = typer.Typer(
    help="The store's database (SQLite by default; PostgreSQL for a shared one).\n\n"
    "Where it is: [database] url in newsletter.toml, or NEWSLETTER_DATABASE_URL (which "
    "wins). Example: newsletter db status",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")


@db_app.command("status")
def db_status(project: ProjectOpt = Path(".")) -> None:
    """Show where the store is (never the password), its schema revision and its row counts.

    Example: newsletter db status
    """
    from rich.markup import escape
    from rich.table import Table

    from newsletter.store.admin import status

    proj = open_project(project)
    report = status(proj.database)
    console.print(f"database: {escape(report.url.display)} ({report.url.backend})", highlight=False)
    if not report.exists or report.state is None:
        console.print("schema: none yet (the store is created when a command first uses it)")
        return
    console.print(f"schema: {report.state.describe()}", highlight=False)
    table = Table(title="rows", title_justify="left")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in report.counts.items():
        table.add_row(name, f"{count:,}")
    console.print(table)
    if not report.state.up_to_date:
        console.print("Run `newsletter db upgrade` to bring the schema up to date.")


@db_app.command("upgrade")
def db_upgrade(project: ProjectOpt = Path(".")) -> None:
    """Bring the database schema up to date (PostgreSQL waits for this; SQLite does it itself).

    Run it once after installing a new version of newsletter, for everyone who shares the
    database. It runs in one transaction: it is done whole, or not at all.

    Example: newsletter db upgrade
    """
    from newsletter.store.admin import upgrade

    proj = open_project(project)
    before, after = upgrade(proj.database)
    if before.current == after.current:
        console.print(f"The schema is up to date ({after.current}).", highlight=False)
    else:
        console.print(
            f"Upgraded the schema from {before.current or 'nothing'} to {after.current}.",
            highlight=False,
        )


@db_app.command("copy")
def db_copy(
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="The empty database to copy into: postgresql://USER@HOST:PORT/NAME or "
            "sqlite:///PATH (relative to the project). No password: use PGPASSWORD or ~/.pgpass.",
        ),
    ],
    project: ProjectOpt = Path("."),
) -> None:
    """Copy the whole store (stories, send log, suppressions) into another, empty database.

    Moves a project from SQLite to PostgreSQL, or back, without losing its send history or
    its suppression list. The project's own database is only read; afterwards, point
    [database] url (or NEWSLETTER_DATABASE_URL) at the copy.

    Example: newsletter db copy --to postgresql://news@db.example.org/newsletter
    """
    from rich.markup import escape

    from newsletter.errors import StoreError
    from newsletter.store.admin import copy
    from newsletter.store.url import PASSWORD_HINT, has_password, parse

    proj = open_project(project)
    if has_password(to):
        raise StoreError("--to: the URL holds a password", hint=PASSWORD_HINT)
    target = parse(to, proj.root, "--to")
    source = proj.database
    copied = copy(source, target)
    total = sum(copied.values())
    parts = ", ".join(f"{n:,} {name}" for name, n in copied.items() if n)
    console.print(
        f"Copied {total:,} rows from {escape(source.display)} to {escape(target.display)}"
        + (f": {parts}." if parts else "."),
        highlight=False,
        soft_wrap=True,
    )
    console.print(
        "To use it, set \\[database] url in newsletter.toml (or NEWSLETTER_DATABASE_URL) to "
        f"{escape(target.display)}",
        highlight=False,
        soft_wrap=True,
    )
