"""newsletter suppress add|list|import|remove: the addresses that never get an issue."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from newsletter.cli.app import ProjectOpt, app, console, open_project
from newsletter.cli.show import print_rejections, show

if TYPE_CHECKING:
    from newsletter.store.suppression import AddResult

EXIT_SOME_REJECTED = 3


class Reason(StrEnum):
    unsubscribed = "unsubscribed"
    bounced = "bounced"
    complained = "complained"
    manual = "manual"


class ListFormat(StrEnum):
    table = "table"
    csv = "csv"


suppress_app = typer.Typer(
    help="The suppression list: addresses that never get an issue (unsubscribed, bounced).\n\n"
    "Example: newsletter suppress add ann@example.org --reason unsubscribed",
    no_args_is_help=True,
)
app.add_typer(suppress_app, name="suppress")


def _print_add(result: AddResult) -> None:
    print_rejections(result.rejected, f"{len(result.rejected)} address(es) not added")
    console.print(f"Suppressed {result.added} new address(es); {result.already} already listed.")
    if result.rejected:
        raise typer.Exit(EXIT_SOME_REJECTED)


@suppress_app.command("add")
def suppress_add(
    emails: Annotated[list[str], typer.Argument(help="Addresses to suppress.")],
    reason: Annotated[Reason, typer.Option("--reason", "-r")] = Reason.manual,
    project: ProjectOpt = Path("."),
) -> None:
    """Add addresses to the suppression list.

    Example: newsletter suppress add ann@example.org bob@example.com --reason bounced
    """
    from newsletter.store.suppression import SuppressionList

    proj = open_project(project)
    with SuppressionList(proj.database) as suppressions:
        result = suppressions.add(enumerate(emails, 1), reason.value, source="command line")
    _print_add(result)


@suppress_app.command("import")
def suppress_import(
    file: Annotated[Path, typer.Argument(help="CSV with an email column, or one per line.")],
    reason: Annotated[Reason, typer.Option("--reason", "-r")] = Reason.unsubscribed,
    project: ProjectOpt = Path("."),
) -> None:
    """Import addresses (a provider's unsubscribe export, a bounce list) into the list.

    Example: newsletter suppress import unsubscribed.csv --reason unsubscribed
    """
    from newsletter.store.suppression import SuppressionList

    proj = open_project(project)
    with SuppressionList(proj.database) as suppressions:
        result = suppressions.import_file(file, reason.value)
    _print_add(result)


@suppress_app.command("list")
def suppress_list(
    format: Annotated[ListFormat, typer.Option("--format", "-f")] = ListFormat.table,
    project: ProjectOpt = Path("."),
) -> None:
    """Show the suppression list (--format csv for a provider's import).

    Example: newsletter suppress list --format csv > suppressed.csv
    """
    from newsletter.store.suppression import SuppressionList

    proj = open_project(project)
    with SuppressionList(proj.database) as suppressions:
        entries = suppressions.entries()
    if format is ListFormat.csv:
        import csv
        import sys

        writer = csv.writer(sys.stdout)
        writer.writerow(["email", "reason", "source", "added"])
        for e in entries:
            writer.writerow([e.email, e.reason, e.source or "", e.added])
        return
    from rich.table import Table

    table = Table(title=f"{len(entries)} suppressed address(es)", title_justify="left")
    for column in ("email", "reason", "source", "added"):
        table.add_column(column)
    for e in entries:
        table.add_row(show(e.email), e.reason, show(e.source or ""), e.added)
    console.print(table)


@suppress_app.command("remove")
def suppress_remove(
    emails: Annotated[list[str], typer.Argument(help="Addresses to take off the list.")],
    project: ProjectOpt = Path("."),
) -> None:
    """Take addresses off the suppression list (for example after a re-subscription).

    Example: newsletter suppress remove ann@example.org
    """
    from newsletter.store.suppression import SuppressionList

    proj = open_project(project)
    with SuppressionList(proj.database) as suppressions:
        removed = suppressions.remove(emails)
    console.print(f"Removed {removed} address(es) from the suppression list.")
