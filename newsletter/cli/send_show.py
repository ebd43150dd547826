"""What `send` prints about a plan and a finished send."""

from __future__ import annotations

from typing import TYPE_CHECKING

from newsletter.cli.app import console
from newsletter.cli.show import SHOW_ROWS, show

if TYPE_CHECKING:
    from newsletter.deliver.send import Plan, SendReport


def summary(report: SendReport, label: str) -> None:
    """The table of what a send (or proof) did."""
    from rich.table import Table

    console.print(f"[bold]{show(label)}[/] in {report.elapsed:.1f} s")
    table = Table(show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("sent", f"[green]{report.sent}[/]")
    if report.skipped:
        table.add_row("skipped (taken by another run)", str(report.skipped))
    table.add_row("failed (permanent)", f"[red]{len(report.failed)}[/]" if report.failed else "0")
    if report.deferred:
        table.add_row(
            "deferred (temporary, retried next run)", f"[yellow]{len(report.deferred)}[/]"
        )
    if report.uncertain:
        table.add_row(
            "uncertain (connection lost at acceptance)", f"[yellow]{len(report.uncertain)}[/]"
        )
    if report.unrecorded:
        table.add_row(
            "answered but not recorded (the send log failed)",
            f"[red]{len(report.unrecorded)}[/]",
        )
    console.print(table)
    for kind in ("failed", "deferred", "uncertain"):
        for outcome in getattr(report, kind)[:SHOW_ROWS]:
            console.print(f"  {kind}: {show(outcome.key)}: {show(outcome.detail)}")
    for outcome in report.unrecorded[:SHOW_ROWS]:
        console.print(
            f"  not recorded: {show(outcome.key)}: {outcome.status}: {show(outcome.detail)}"
        )


def print_standing(plans: list[Plan], resend_uncertain: bool) -> None:
    """What the send log says about the audience before anything is sent (all editions)."""
    already = sum(p.already_sent for p in plans)
    failed_before = sum(p.previously_failed for p in plans)
    uncertain = [e for p in plans for e in p.uncertain]
    busy = sum(p.busy for p in plans)
    if already:
        console.print(f"Already sent earlier: {already} (skipped).")
    if failed_before:
        console.print(f"Failed permanently earlier: {failed_before} (skipped; --retry-failed).")
    if uncertain and resend_uncertain:
        console.print(
            f"[yellow]Uncertain from an interrupted run:[/] {len(uncertain)} (resent, as "
            "--resend-uncertain asks: some may get a second copy)."
        )
    elif uncertain:
        console.print(
            f"[yellow]Uncertain from an interrupted run:[/] {len(uncertain)} (not resent, "
            "so nobody gets two copies; --resend-uncertain to send them anyway)."
        )
        for email in uncertain[:SHOW_ROWS]:
            console.print(f"  uncertain: {show(email)}")
    if busy:
        console.print(
            f"Being sent right now by another run: {busy} (skipped; that run sends them)."
        )
