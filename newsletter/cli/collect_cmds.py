"""newsletter collect, newsletter items."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from newsletter.cli.app import ProjectOpt, app, console, open_project

EXIT_SOME_SOURCES_FAILED = 3


class ItemFormat(StrEnum):
    table = "table"
    json = "json"


@app.command()
def collect(
    project: ProjectOpt = Path("."),
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help="Only this source (repeatable).")
    ] = None,
) -> None:
    """Fetch every configured source into the store.

    Exit code 0 when all sources succeeded, 3 when some failed (the others are stored).

    Example: newsletter collect --source "Oslo Cancer Cluster"
    """
    from rich.markup import escape
    from rich.table import Table

    from newsletter.collect import collect as run_collect
    from newsletter.store import Store

    proj = open_project(project)
    with Store(proj.store_path) as store, console.status("Collecting…"):
        report = run_collect(proj, store, only=source)
    table = Table(title="Collected")
    for column in ("source", "new", "updated", "unchanged", "status"):
        table.add_column(
            column, justify="right" if column in ("new", "updated", "unchanged") else "left"
        )
    for entry in report.sources:
        status = "[green]ok[/]" if entry.ok else f"[red]failed:[/] {escape(entry.error or '')}"
        table.add_row(entry.name, str(entry.new), str(entry.updated), str(entry.unchanged), status)
    console.print(table)
    if report.failed:
        raise typer.Exit(EXIT_SOME_SOURCES_FAILED)


@app.command()
def items(
    project: ProjectOpt = Path("."),
    month: Annotated[str | None, typer.Option(help="Only items published in YYYY-MM.")] = None,
    source: Annotated[str | None, typer.Option(help="Only items from this source.")] = None,
    search: Annotated[str | None, typer.Option(help="Only items mentioning this text.")] = None,
    format: Annotated[ItemFormat, typer.Option("--format", "-f")] = ItemFormat.table,
) -> None:
    """List the stored items, newest first.

    Example: newsletter items --month 2020-10 --format json
    """
    from newsletter.editor import month_window
    from newsletter.store import Store

    proj = open_project(project)
    start, end = month_window(month) if month else (None, None)
    with Store(proj.store_path) as store:
        found = store.items(start=start, end=end, source=source, search=search)
    if format is ItemFormat.json:
        import json

        typer.echo(
            json.dumps([i.model_dump(mode="json") for i in found], indent=2, ensure_ascii=False)
        )
        return
    from rich.table import Table

    table = Table(title=f"{len(found)} item(s)")
    for column in ("published", "source", "kind", "title"):
        table.add_column(column)
    for item in found:
        title = f"{item.kicker}: {item.title}" if item.kicker else item.title
        table.add_row(item.published.date().isoformat(), item.source, item.kind.value, title)
    console.print(table)
