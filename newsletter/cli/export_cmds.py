"""newsletter export, newsletter send."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from newsletter.cli.app import MonthArg, ProjectOpt, app, console, err_console, open_project
from newsletter.cli.show import SHOW_ROWS, print_rejections, show
from newsletter.registry import PROVIDERS, TRANSPORTS

if TYPE_CHECKING:
    from newsletter.deliver.audience import AudienceReport
    from newsletter.deliver.send import Plan, SendReport, Transport
    from newsletter.project import Project

EXIT_SOME_FAILED = 3
EXIT_INTERRUPTED = 130


# Typer offers an Enum's members as the choices; the members come from the registries, so
# a registered provider or transport is a choice with no second list of names.
if TYPE_CHECKING:
    Provider = str
    Via = str
else:
    Provider = StrEnum("Provider", [(name, name) for name in PROVIDERS.names()])
    Via = StrEnum("Via", [(name, name) for name in TRANSPORTS.names()])


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
    date: Annotated[
        str | None,
        typer.Option(
            "--date",
            metavar="WHEN",
            help="eml: the Date of every message, e.g. 2024-04-02T09:00+02:00 (default: now). "
            "Give the time they will be sent: spam filters distrust a Date hours old.",
        ),
    ] = None,
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
    from newsletter.deliver.export.eml import parse_date

    provider = str(to)
    when = parse_date(date) if date is not None else None
    result = export_issue(
        open_project(project), month, provider, out, audience, topic=topic, date=when
    )
    if result.audience is not None:
        print_audience(result.audience)
    if provider == "eml":
        for path in result.files:
            console.print(f"Wrote {path}")
    else:
        console.print(f"Wrote {result.requests} request file(s) to {out}/")
    if result.recipients:
        console.print(f"{result.recipients} recipient(s) in {provider}'s requests.")
    for note in result.notes:
        console.print(f"[dim]note:[/] {show(note)}")
    if result.manifest:
        console.print(f"Manifest: {result.manifest}")


def _summary(report: SendReport, label: str) -> None:
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


@app.command()
def send(
    month: MonthArg,
    via: Annotated[
        Via,
        typer.Option(
            "--via",
            help="smtp (the \\[smtp] settings), ses (boto3) or a provider's API "
            "(key from NEWSLETTER_<PROVIDER>_API_KEY).",
        ),
    ] = "smtp",
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
    unsubscribe links); the SMTP password comes from NEWSLETTER_SMTP_PASSWORD, API keys
    from NEWSLETTER_SENDGRID_API_KEY and the like (README: "Sending through a provider's API").

    Example: newsletter send 2020-10 --via smtp --audience subscribers.csv --rate 5/s
    """
    from newsletter.deliver.send import make_transport, parse_rate, plan_send

    proj = open_project(project)
    per_second = parse_rate(rate) if rate is not None else proj.config.send.rate
    if test_to:
        _send_proof(proj, month, via, test_to, smtp_host, smtp_port)
        return
    plan = plan_send(
        proj, month, audience, topic=topic, via=str(via), resend_uncertain=resend_uncertain,
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
        for email in plan.uncertain[:SHOW_ROWS]:
            console.print(f"  uncertain: {show(email)}")
    if plan.busy:
        console.print(
            f"Being sent right now by another run: {plan.busy} (skipped; that run sends them)."
        )
    transport = make_transport(plan.prepared, str(via), smtp_host=smtp_host, smtp_port=smtp_port)
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
    transport = make_transport(prepared, str(via), smtp_host=host, smtp_port=port)
    report = send_proof(prepared, transport, to)
    _summary(report, f"Proof of {month} via {transport.describe()} (not logged)")
    if not report.ok:
        raise typer.Exit(EXIT_SOME_FAILED)
