"""newsletter collect, newsletter items."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from newsletter.cli.app import ProjectOpt, app, console, open_project

if TYPE_CHECKING:
    from newsletter.collect import CollectReport

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
    refresh: Annotated[
        bool,
        typer.Option(
            "--refresh", help="Fetch everything again, even what the servers say is unchanged."
        ),
    ] = False,
) -> None:
    """Fetch every configured source into the store.

    Ends with a table per source: new, updated, merged (already stored from another
    source), unchanged, and the status, with the reason for each failure.

    Exit code 0 when all sources succeeded, 3 when some failed (the others are stored).

    Example: newsletter collect --source "Oslo Cancer Cluster"
    """
    from newsletter.cli.app import state
    from newsletter.collect import collect as run_collect
    from newsletter.store import Store

    proj = open_project(project)
    stop_on_sigterm()
    total = len(source) if source else len(proj.config.sources)
    with Store(proj.database) as store, CollectProgress(total) as progress:
        report = run_collect(
            proj,
            store,
            only=source,
            refresh=refresh,
            on_start=progress.started,
            on_loaded=progress.loaded,
            raise_unexpected=bool(state["debug"]),
        )
    print_collect_report(report)
    if report.failed:
        raise typer.Exit(EXIT_SOME_SOURCES_FAILED)


STOP_GRACE = 2.0  # seconds a stopped collect waits for fetches under way before it exits


def stop_on_sigterm() -> None:
    """SIGTERM (kill, systemd, a CI timeout) stops collect as Ctrl-C does: the source being
    stored is rolled back, what was stored stays, and the parser processes end with it.
    A fetch under way would hold the exit until its read timeout: after a short grace the
    process ends without waiting for it."""
    import os
    import signal
    import sys
    import threading

    def exit_now(code: int) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

    def stop(signum: int, frame: object) -> None:
        sys.stderr.write("collect stopped (SIGTERM); the sources stored so far are kept\n")
        timer = threading.Timer(STOP_GRACE, exit_now, (128 + signum,))
        timer.daemon = True
        timer.start()
        raise SystemExit(128 + signum)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)


class CollectProgress:
    """A transient progress bar over the sources: which are being fetched, how many are done."""

    def __init__(self, total: int) -> None:
        import threading

        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.task = self.progress.add_task("Collecting", total=total)
        self.active: list[str] = []
        self.lock = threading.Lock()
        self.stopped = False

    def __enter__(self) -> CollectProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if not self.stopped:  # a second stop would print an empty line
            self.stopped = True
            self.progress.stop()

    def _describe(self) -> None:
        names = ", ".join(self.active)
        label = f"Fetching {names[:50]}…" if len(names) > 50 else f"Fetching {names}"
        self.progress.update(self.task, description=label if self.active else "Storing")

    def started(self, name: str) -> None:
        with self.lock:
            self.active.append(name)
            self._describe()

    def loaded(self, name: str, ok: bool) -> None:
        with self.lock:
            self.active.remove(name)
            self.progress.advance(self.task)
            self._describe()


def print_collect_report(report: CollectReport) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="Collected")
    table.add_column("source")
    for column in ("new", "updated", "merged", "unchanged"):
        table.add_column(column, justify="right")
    table.add_column("status")
    for entry in report.sources:
        if not entry.ok:
            status = f"[red]failed:[/] {escape(entry.error or '')}"
        elif entry.not_modified:
            status = "[green]unchanged[/] (HTTP 304)"
        else:
            status = "[green]ok[/]"
        if entry.ok and (entry.skipped or entry.notices):
            status += " [yellow]*[/]"
        table.add_row(
            escape(entry.name), str(entry.new), str(entry.updated), str(entry.merged),
            str(entry.unchanged), status,
        )  # fmt: skip
    console.print(table)
    for entry in report.sources:
        lines = [f"[yellow]note:[/] {escape(n)}" for n in entry.notices]
        lines += [f"[yellow]skipped[/] {escape(s)}" for s in entry.skipped]
        if entry.hint and not entry.ok:
            lines.append(f"[dim]hint:[/] {escape(entry.hint)}")
        if lines:
            console.print(f"[bold]{escape(entry.name)}[/]")
            for line in lines[:20]:
                console.print(f"  {line}", highlight=False)
            if len(lines) > 20:
                console.print(f"  … and {len(lines) - 20} more", highlight=False)
    totals = {
        label: sum(getattr(e, label) for e in report.sources)
        for label in ("new", "updated", "merged")
    }
    failed = len(report.failed)
    console.print(
        f"{len(report.sources)} source(s) in {report.seconds:.1f} s: "
        + ", ".join(f"{count} {label}" for label, count in totals.items())
        + (f", [red]{failed} failed[/]" if failed else ""),
        highlight=False,
    )


@app.command()
def items(
    project: ProjectOpt = Path("."),
    month: Annotated[str | None, typer.Option(help="Only items published in YYYY-MM.")] = None,
    source: Annotated[
        str | None, typer.Option(help="Only items this source carried (first or not).")
    ] = None,
    search: Annotated[str | None, typer.Option(help="Only items mentioning this text.")] = None,
    format: Annotated[ItemFormat, typer.Option("--format", "-f")] = ItemFormat.table,
) -> None:
    """List the stored items, newest first; with --month, each with its draft score.

    Example: newsletter items --month 2020-10 --search trial
    """
    from newsletter.editor import month_window, score_month
    from newsletter.store import Store

    proj = open_project(project)
    start, end = month_window(month) if month else (None, None)
    with Store(proj.database) as store:
        if format is ItemFormat.json:
            from newsletter.cli.itemsjson import json_array

            stored = store.iter_stored(start=start, end=end, source=source, search=search)
            for chunk in json_array(stored):
                typer.echo(chunk, nl=False)
            return
        found = store.items(start=start, end=end, source=source, search=search)
    from rich.markup import escape
    from rich.table import Table

    scores = score_month(proj.config, month, found) if month else {}
    table = Table(title=f"{len(found)} item(s)")
    if scores:
        table.add_column("score", justify="right")
    for column in ("published", "source", "kind", "due", "title"):
        table.add_column(column)
    for item in found:
        title = f"{item.kicker}: {item.title}" if item.kicker else item.title
        score = [f"{scores[item.id]:.2f}"] if scores else []
        due = item.due
        sources = item.source + (f" +{len(item.sources) - 1}" if len(item.sources) > 1 else "")
        table.add_row(
            *score, item.published.date().isoformat(), escape(sources), item.kind.value,
            due.isoformat() if due else "", escape(title),
        )  # fmt: skip
    console.print(table)
