"""Printing values that came from users' files: escaped, and long lists cut short."""

from __future__ import annotations

from typing import TYPE_CHECKING

from newsletter.cli.app import console

if TYPE_CHECKING:
    from newsletter.deliver.audience import Rejection

SHOW_ROWS = 50  # rows printed; the manifest / --debug has them all


def show(value: str) -> str:
    """A value from a file, safe to print: control characters escaped, markup neutralised."""
    from rich.markup import escape

    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        value = repr(value)
    return escape(value)


def print_rejections(rejected: list[Rejection], title: str) -> None:
    from rich.table import Table

    if not rejected:
        return
    table = Table(title=title, title_justify="left")
    for column in ("line", "value", "reason"):
        table.add_column(column, justify="right" if column == "line" else "left")
    for row in rejected[:SHOW_ROWS]:
        table.add_row(str(row.line), show(row.value), show(row.reason))
    console.print(table)
    if len(rejected) > SHOW_ROWS:
        console.print(f"… and {len(rejected) - SHOW_ROWS} more rows left out.")
