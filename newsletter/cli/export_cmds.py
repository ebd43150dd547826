"""newsletter export, newsletter send, newsletter suppress add|list|import|remove."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from newsletter.cli.app import MonthArg, ProjectOpt, app, console, err_console, open_project

if TYPE_CHECKING:
    from newsletter.deliver.audience import AudienceReport, Rejection
    from newsletter.deliver.send import Plan, SendReport, Transport
    from newsletter.project import Project
    from newsletter.store.suppression import AddResult

EXIT_SOME_FAILED = 3
EXIT_INTERRUPTED = 130
SHOW_REJECTED = 50  # rows printed; the manifest / --debug has them all


class Provider(StrEnum):
    eml = "eml"
    mailchimp = "mailchimp"
    sendgrid = "sendgrid"
    ses = "ses"
    mailgun = "mailgun"
    postmark = "postmark"
    brevo = "brevo"
    listmonk = "listmonk"


class Via(StrEnum):
    smtp = "smtp"
    ses = "ses"


class Reason(StrEnum):
    unsubscribed = "unsubscribed"
    bounced = "bounced"
    complained = "complained"
    manual = "manual"


class ListFormat(StrEnum):
    table = "table"
    csv = "csv"


AudienceOpt = Annotated[
    Path | None,
    typer.Option(
        "--audience",
        "-a",
        help="CSV of recipients: an email column, optional name, language and custom fields "
        "(default: the confirmed subscribers).",
        dir_okay=False,
    ),
]
TopicOpt = Annotated[
    str | None, typer.Option("--topic", help="Only the confirmed subscribers of this topic.")
]


def _show(value: str) -> str:
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
    for row in rejected[:SHOW_REJECTED]:
        table.add_row(str(row.line), _show(row.value), _show(row.reason))
    console.print(table)
    if len(rejected) > SHOW_REJECTED:
        console.print(f"… and {len(rejected) - SHOW_REJECTED} more rows left out.")


def print_audience(report: AudienceReport) -> None:
    print_rejections(report.rejected, f"{len(report.rejected)} row(s) of {report.path} left out")
    console.print(
        f"Audience {report.path}: [bold]{report.accepted}[/] recipient(s); left out "
        f"{report.count('invalid')} invalid, {report.count('duplicate')} duplicate, "
        f"{report.count('suppressed')} suppressed."
    )


@app.command()
def export(
    month: MonthArg,
    to: Annotated[Provider, typer.Option("--to", help="The mail provider.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the export to.")],
    audience: AudienceOpt = None,
    topic: TopicOpt = None,
    project: ProjectOpt = Path("."),
) -> None:
    """Export an issue for a mail provider: one JSON file per API request, plus manifest.json.

    The recipients are --audience FILE, else the confirmed subscribers (--topic narrows
    them). eml writes one .eml per recipient, or one template message when there are none.
    sendgrid, ses, mailgun and postmark need recipients; mailchimp, brevo and listmonk send
    to their own lists (recipients are imported there first).

    Example: newsletter export 2020-10 --to sendgrid --audience subscribers.csv --out out/
    """
    from newsletter.deliver.export import export_issue

    result = export_issue(open_project(project), month, to.value, out, audience, topic=topic)
    if result.audience is not None:
        print_audience(result.audience)
    if to is Provider.eml:
        for path in result.files:
            console.print(f"Wrote {path}")
    else:
        console.print(f"Wrote {result.requests} request file(s) to {out}/")
    if result.recipients:
        console.print(f"{result.recipients} recipient(s) in {to.value}'s requests.")
    for note in result.notes:
        console.print(f"[dim]note:[/] {_show(note)}")
    if result.manifest:
        console.print(f"Manifest: {result.manifest}")


def _summary(report: SendReport, label: str) -> None:
    from rich.table import Table

    console.print(f"[bold]{_show(label)}[/] in {report.elapsed:.1f} s")
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
        for outcome in getattr(report, kind)[:SHOW_REJECTED]:
            console.print(f"  {kind}: {_show(outcome.key)}: {_show(outcome.detail)}")
    for outcome in report.unrecorded[:SHOW_REJECTED]:
        console.print(
            f"  not recorded: {_show(outcome.key)}: {outcome.status}: {_show(outcome.detail)}"
        )


@app.command()
def send(
    month: MonthArg,
    via: Annotated[
        Via, typer.Option("--via", help="smtp (the \\[smtp] settings) or ses (boto3).")
    ] = (Via.smtp),
    audience: AudienceOpt = None,
    topic: TopicOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and build every message; send nothing.")
    ] = False,
    test_to: Annotated[
        list[str] | None,
        typer.Option("--test-to", help="Send a [PROOF] copy to this address only (repeatable)."),
    ] = None,
    rate: Annotated[
        str | None, typer.Option("--rate", help="At most this many messages, e.g. 10/s, 600/m.")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    smtp_host: Annotated[
        str | None, typer.Option("--smtp-host", help="Overrides \\[smtp] host.")
    ] = None,
    smtp_port: Annotated[
        int | None, typer.Option("--smtp-port", min=1, max=65535, help="Overrides \\[smtp] port.")
    ] = None,
    resend_uncertain: Annotated[
        bool,
        typer.Option(
            "--resend-uncertain",
            help="Also resend messages whose acceptance was never confirmed (may duplicate).",
        ),
    ] = False,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Also retry permanent (5xx) failures.")
    ] = False,
    project: ProjectOpt = Path("."),
) -> None:
    """Send an issue to the confirmed subscribers (or --audience FILE), never twice.

    Every message is recorded in the send log, so running the same command again resumes:
    it sends only to whoever has not got the issue yet. Needs NEWSLETTER_SECRET (signs the
    unsubscribe links); the SMTP password comes from NEWSLETTER_SMTP_PASSWORD.

    Example: newsletter send 2020-10 --via smtp --audience subscribers.csv --rate 5/s
    """
    from newsletter.deliver.send import make_transport, parse_rate, plan_send

    proj = open_project(project)
    per_second = parse_rate(rate) if rate is not None else proj.config.send.rate
    if test_to:
        _send_proof(proj, month, via, test_to, smtp_host, smtp_port)
        return
    plan = plan_send(
        proj, month, audience, topic=topic, via=via.value, resend_uncertain=resend_uncertain,
        retry_failed=retry_failed,
    )  # fmt: skip
    print_audience(plan.audience)
    if plan.already_sent:
        console.print(f"Already sent earlier: {plan.already_sent} (skipped).")
    if plan.previously_failed:
        console.print(
            f"Failed permanently earlier: {plan.previously_failed} (skipped; --retry-failed)."
        )
    if plan.uncertain and resend_uncertain:
        console.print(
            f"[yellow]Uncertain from an interrupted run:[/] {len(plan.uncertain)} (resent, as "
            "--resend-uncertain asks: some may get a second copy)."
        )
    elif plan.uncertain:
        console.print(
            f"[yellow]Uncertain from an interrupted run:[/] {len(plan.uncertain)} (not resent, "
            "so nobody gets two copies; --resend-uncertain to send them anyway)."
        )
        for email in plan.uncertain[:SHOW_REJECTED]:
            console.print(f"  uncertain: {_show(email)}")
    if plan.busy:
        console.print(
            f"Being sent right now by another run: {plan.busy} (skipped; that run sends them)."
        )
    transport = make_transport(plan.prepared, via.value, smtp_host=smtp_host, smtp_port=smtp_port)
    if dry_run:
        from newsletter.deliver.send import dry_run as build_all

        count = build_all(plan, transport)
        console.print(
            f"Dry run: built {count} message(s) for {transport.describe()}; nothing was sent "
            "or logged."
        )
        return
    if not plan.recipients:
        console.print("Nothing to send: everyone in the audience has been handled.")
        return
    if not yes:
        typer.confirm(
            f"Send {month} “{plan.prepared.subject}” to {len(plan.recipients)} recipient(s) "
            f"via {transport.describe()}?",
            abort=True,
        )
    report = _run_with_progress(plan, transport, per_second)
    _summary(report, f"Sent {month} via {transport.describe()}")
    if report.stopped is not None:
        raise report.stopped  # what failed in the send log; nothing was sent without a claim
    if report.interrupted:
        console.print("[yellow]Interrupted.[/] Run the same command again to resume.")
        raise typer.Exit(EXIT_INTERRUPTED)
    if not report.ok:
        console.print("Run the same command again to retry the deferred ones.")
        raise typer.Exit(EXIT_SOME_FAILED)


def _run_with_progress(plan: Plan, transport: Transport, rate: float | None) -> SendReport:
    import signal

    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from newsletter.deliver.send import run_send

    stop = {"requested": False}

    def on_interrupt(signum: int, frame: object) -> None:
        if stop["requested"]:
            raise KeyboardInterrupt
        stop["requested"] = True
        err_console.print("Stopping after the current message (Ctrl-C again to stop at once)…")

    columns = (TextColumn("Sending"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("ETA"), TimeRemainingColumn())  # fmt: skip
    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("send", total=len(plan.recipients))
            return run_send(
                plan,
                transport,
                rate=rate,
                should_stop=lambda: stop["requested"],
                on_progress=lambda n: progress.advance(task, n),
            )
    finally:
        signal.signal(signal.SIGINT, previous)


def _send_proof(
    proj: Project, month: str, via: Via, to: list[str], host: str | None, port: int | None
) -> None:
    from newsletter.deliver.export import prepare
    from newsletter.deliver.send import make_transport, send_proof

    prepared = prepare(proj, month).as_proof()
    transport = make_transport(prepared, via.value, smtp_host=host, smtp_port=port)
    report = send_proof(prepared, transport, to)
    _summary(report, f"Proof of {month} via {transport.describe()} (not logged)")
    if not report.ok:
        raise typer.Exit(EXIT_SOME_FAILED)


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
        raise typer.Exit(EXIT_SOME_FAILED)


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
    with SuppressionList(proj.store_path) as suppressions:
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
    with SuppressionList(proj.store_path) as suppressions:
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
    with SuppressionList(proj.store_path) as suppressions:
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
        table.add_row(_show(e.email), e.reason, _show(e.source or ""), e.added)
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
    with SuppressionList(proj.store_path) as suppressions:
        removed = suppressions.remove(emails)
    console.print(f"Removed {removed} address(es) from the suppression list.")
