"""newsletter send: one issue, a proof, or every issue that is due."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from newsletter.cli.app import CLOCK, ProjectOpt, app, console, err_console, open_project
from newsletter.cli.export_cmds import AudienceOpt, TopicOpt, print_audience
from newsletter.cli.show import SHOW_ROWS, show
from newsletter.registry import TRANSPORTS

if TYPE_CHECKING:
    from newsletter.deliver.send import Plan, SendReport, Transport
    from newsletter.project import Project

EXIT_SOME_FAILED = 3
EXIT_INTERRUPTED = 130

# The transports' names come from their registry, as export's providers do.
if TYPE_CHECKING:
    Via = str
else:
    Via = StrEnum("Via", [(name, name) for name in TRANSPORTS.names()])


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


@dataclass(frozen=True)
class SendOptions:
    """How `send` sends, the same for one month and for every issue `--due`."""

    via: str
    audience: Path | None
    topic: str | None
    dry_run: bool
    rate: float | None
    smtp_host: str | None
    smtp_port: int | None
    resend_uncertain: bool
    retry_failed: bool


@app.command()
def send(
    month: Annotated[
        str | None,
        typer.Argument(help="The issue's month, as YYYY-MM (or --due).", metavar="YYYY-MM"),
    ] = None,
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
    due: Annotated[
        bool,
        typer.Option(
            "--due", help="Send every approved issue whose send_at has come (for a timer)."
        ),
    ] = False,
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
    """Send an approved issue to the confirmed subscribers (or --audience FILE), never twice.

    Every message is recorded in the send log, so running the same command again resumes:
    it sends only to whoever has not got the issue yet. Only an issue approved with
    `newsletter approve` is sent (proofs with --test-to and --dry-run need no approval);
    once everyone has had it, the issue file is marked sent. --due sends every approved
    issue whose send_at has come, without asking: run it from cron or a systemd timer.
    Needs NEWSLETTER_SECRET (signs the unsubscribe links); the SMTP password comes from
    NEWSLETTER_SMTP_PASSWORD, API keys from NEWSLETTER_SENDGRID_API_KEY and the like
    (README: "Sending through a provider's API").

    Example: newsletter send 2020-10 --via smtp --audience subscribers.csv --rate 5/s
    """
    from newsletter.deliver.send import parse_rate

    if due == (month is not None):
        raise typer.BadParameter(
            "give the issue's month, or --due for every issue whose time has come",
            param_hint="YYYY-MM / --due",
        )
    if due and test_to:
        raise typer.BadParameter("a proof is of one issue: give its month", param_hint="--test-to")
    proj = open_project(project)
    options = SendOptions(
        str(via), audience, topic, dry_run,
        parse_rate(rate) if rate is not None else proj.config.send.rate,
        smtp_host, smtp_port, resend_uncertain, retry_failed,
    )  # fmt: skip
    if month is None:
        _send_due(proj, options)
    elif test_to:
        _send_proof(proj, month, options.via, test_to, smtp_host, smtp_port)
    else:
        _send_month(proj, month, options, yes=yes)


def _send_due(proj: Project, options: SendOptions) -> None:
    from newsletter.deliver.send.due import Standing, schedule
    from newsletter.errors import NewsletterError

    now = CLOCK.now()
    entries = schedule(proj, now)
    for entry in entries:
        when = f"{entry.due_at:%Y-%m-%d %H:%M %z}" if entry.due_at else ""
        if entry.standing is Standing.waiting:
            console.print(f"{entry.month}: approved, goes out at {when}.")
        elif entry.standing is Standing.draft and entry.due_at and entry.due_at <= now:
            console.print(
                f"[yellow]{entry.month}: its send_at ({when}) has come, but it is a draft[/]; "
                f"`newsletter approve {entry.month}` to send it."
            )
        elif entry.standing is Standing.unreadable:
            err_console.print(f"[red]{entry.month}: not read:[/] {show(entry.problem)}")
    due = [e for e in entries if e.standing is Standing.due]
    if not due:
        console.print(f"Nothing is due at {now:%Y-%m-%d %H:%M %Z}.")
        return
    failed: list[int] = []
    for entry in due:
        console.print(f"[bold]{entry.month}[/] is due (send_at {entry.due_at:%Y-%m-%d %H:%M %z}).")
        try:
            _send_month(proj, entry.month, options, yes=True)
        except typer.Exit as exc:
            failed.append(exc.exit_code)
        except NewsletterError as exc:  # one issue's problem does not hold back the others
            err_console.print(f"[bold red]error:[/] {show(exc.message)}", highlight=False)
            if exc.hint:
                err_console.print(f"[dim]hint:[/] {show(exc.hint)}", highlight=False)
            failed.append(exc.exit_code)
    if failed:
        raise typer.Exit(failed[0])


def _send_month(proj: Project, month: str, options: SendOptions, *, yes: bool) -> None:
    from newsletter.deliver.send import make_transport, plan_send
    from newsletter.errors import ApprovalError
    from newsletter.issuefile.status import require_approved

    path = proj.require_issue(month)
    try:
        issue = require_approved(path)
        if issue.sent_at is not None:
            console.print(
                f"{month} went out on {issue.sent_at:%Y-%m-%d %H:%M %Z}; only recipients who "
                "have not had it yet get it now."
            )
    except ApprovalError as exc:
        if not options.dry_run:
            raise
        console.print(f"[yellow]Not approved:[/] {show(exc.message)} (a real send would refuse)")
    plan = plan_send(
        proj, month, options.audience, topic=options.topic, via=options.via,
        resend_uncertain=options.resend_uncertain, retry_failed=options.retry_failed,
    )  # fmt: skip
    print_audience(plan.audience)
    if plan.already_sent:
        console.print(f"Already sent earlier: {plan.already_sent} (skipped).")
    if plan.previously_failed:
        console.print(
            f"Failed permanently earlier: {plan.previously_failed} (skipped; --retry-failed)."
        )
    if plan.uncertain and options.resend_uncertain:
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
    transport = make_transport(
        plan.prepared, options.via, smtp_host=options.smtp_host, smtp_port=options.smtp_port
    )
    if options.dry_run:
        from newsletter.deliver.send import dry_run as build_all

        count = build_all(plan, transport)
        console.print(
            f"Dry run: built {count} message(s) for {transport.describe()}; nothing was sent "
            "or logged."
        )
        return
    if not plan.recipients:
        console.print("Nothing to send: everyone in the audience has been handled.")
        _mark_sent(proj, month, plan, None)
        return
    if not yes:
        typer.confirm(
            f"Send {month} “{plan.prepared.subject}” to {len(plan.recipients)} recipient(s) "
            f"via {transport.describe()}?",
            abort=True,
        )
    report = _run_with_progress(plan, transport, options.rate)
    _summary(report, f"Sent {month} via {transport.describe()}")
    _mark_sent(proj, month, plan, report)
    if report.stopped is not None:
        raise report.stopped  # what failed in the send log; nothing was sent without a claim
    if report.interrupted:
        console.print("[yellow]Interrupted.[/] Run the same command again to resume.")
        raise typer.Exit(EXIT_INTERRUPTED)
    if not report.ok:
        console.print("Run the same command again to retry the deferred ones.")
        raise typer.Exit(EXIT_SOME_FAILED)


def _mark_sent(proj: Project, month: str, plan: Plan, report: SendReport | None) -> None:
    from newsletter.deliver.send.due import mark_sent, send_finished

    if send_finished(plan, report) and mark_sent(proj, month, CLOCK.now()):
        console.print(f"Marked {month} as sent in {proj.issue_path(month)}.")


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
    proj: Project, month: str, via: str, to: list[str], host: str | None, port: int | None
) -> None:
    from newsletter.deliver.export import prepare
    from newsletter.deliver.send import make_transport, send_proof

    prepared = prepare(proj, month).as_proof()
    transport = make_transport(prepared, str(via), smtp_host=host, smtp_port=port)
    report = send_proof(prepared, transport, to)
    _summary(report, f"Proof of {month} via {transport.describe()} (not logged)")
    if not report.ok:
        raise typer.Exit(EXIT_SOME_FAILED)
