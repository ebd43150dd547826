"""newsletter report YYYY-MM, newsletter bounces fetch."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from newsletter.cli.app import MonthArg, ProjectOpt, app, console, open_project

bounces_app = typer.Typer(help="Bounce mail for plain SMTP sends.", no_args_is_help=True)
app.add_typer(bounces_app, name="bounces")


class ReportFormat(StrEnum):
    table = "table"
    json = "json"


def _bar(value: int, top: int, width: int = 24) -> str:
    filled = round(width * value / top) if top else 0
    return "█" * filled + "·" * (width - filled)


@app.command()
def report(
    month: MonthArg,
    project: ProjectOpt = Path("."),
    format: Annotated[ReportFormat, typer.Option("--format", help="table or json.")] = (
        ReportFormat.table
    ),
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write a page with charts here.")
    ] = None,
) -> None:
    """What happened to an issue: sent, delivered, bounced, complained, unsubscribed, clicks.

    Example: newsletter report 2020-10 --html report.html
    """
    from rich.table import Table

    from newsletter.deliver.report import issue_report
    from newsletter.deliver.report_page import render_report_page

    found = issue_report(open_project(project), month)
    if html is not None:
        html.write_text(render_report_page(found), encoding="utf-8")
    if format is ReportFormat.json:
        typer.echo(json.dumps(found.as_dict(), indent=2, ensure_ascii=False))
        return
    rows = [
        ("sent", found.sent), ("delivered (provider reports)", found.delivered),
        ("deferred", found.deferred), ("failed", found.failed),
        ("uncertain", found.uncertain), ("bounced, hard", found.bounced_hard),
        ("bounced, soft", found.bounced_soft), ("complained", found.complained),
        ("unsubscribed after this issue", found.unsubscribed),
    ]  # fmt: skip
    top = max(n for _, n in rows) or 1
    table = Table(
        title=f"Issue {month}" + (f", first sent {found.first_sent}" if found.first_sent else "")
    )
    table.add_column("")
    table.add_column("recipients", justify="right")
    table.add_column("")
    for label, value in rows:
        table.add_row(label, str(value), _bar(value, top))
    console.print(table)
    console.print(
        f"Bounce rate {found.bounce_rate:.1%}, complaint rate {found.complaint_rate:.2%} "
        "(SES reviews an account above 5% and 0.1%)."
    )
    if found.clicks:
        clicks = Table(title="Clicks per story (anonymous)")
        clicks.add_column("story")
        clicks.add_column("clicks", justify="right")
        clicks.add_column("")
        most = max(c.clicks for c in found.clicks) or 1
        for item in found.clicks:
            clicks.add_row(item.title, str(item.clicks), _bar(item.clicks, most))
        console.print(clicks)
    if html is not None:
        console.print(f"Wrote {html}")


@bounces_app.command("fetch")
def fetch(
    source: Annotated[
        str | None,
        typer.Argument(help="imaps://user@host/INBOX, a Maildir folder or an mbox file."),
    ] = None,
    project: ProjectOpt = Path("."),
) -> None:
    """Read bounce mail and suppress addresses by the bounce rules ([bounces] mailbox).

    Example: newsletter bounces fetch imaps://bounces@mail.example.org/INBOX
    """
    from newsletter.deliver.bouncemail import fetch_bounces

    found = fetch_bounces(open_project(project), source)
    taken = found.taken
    console.print(
        f"Read {found.messages} message(s): {found.hard} hard and {found.soft} soft bounce(s), "
        f"{found.unrecognised} not a bounce; {taken.new if taken else 0} new, "
        f"{taken.duplicates if taken else 0} seen before."
    )
    for email, reason in taken.suppressed if taken else []:
        console.print(f"  suppressed {email} ({reason})")
