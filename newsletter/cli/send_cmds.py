"""newsletter send: one issue, a proof, or every issue that is due."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from newsletter.cli.app import CLOCK, ProjectOpt, app, console, err_console, open_project
from newsletter.cli.export_cmds import AudienceOpt, EditionOpt, TopicOpt, print_audience
from newsletter.cli.send_show import print_standing, summary
from newsletter.cli.show import show
from newsletter.registry import TRANSPORTS

if TYPE_CHECKING:
    from newsletter.deliver.send import Plan, SendReport, Transport
    from newsletter.deliver.send.due import Scheduled
    from newsletter.project import Project

EXIT_SOME_FAILED = 3
EXIT_INTERRUPTED = 130

# The transports' names come from their registry, as export's providers do.
if TYPE_CHECKING:
    Via = str
else:
    Via = StrEnum("Via", [(name, name) for name in TRANSPORTS.names()])


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
    edition: str | None = None


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
    edition: EditionOpt = None,
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

    With several editions, each recipient gets the edition of their language (the
    audience's language column, a subscriber's edition), else the default one; one
    message per person and month, whichever edition. Each edition's file is approved and
    marked sent on its own; --edition sends (or proofs) only that edition.

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
        smtp_host, smtp_port, resend_uncertain, retry_failed, edition,
    )  # fmt: skip
    if month is None:
        _send_due(proj, options)
    elif test_to:
        _send_proof(proj, month, options.via, test_to, smtp_host, smtp_port, edition)
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
            console.print(f"{entry.label}: approved, goes out at {when}.")
        elif entry.standing is Standing.draft and entry.due_at and entry.due_at <= now:
            console.print(
                f"[yellow]{entry.label}: its send_at ({when}) has come, but it is a draft[/]; "
                f"`newsletter approve {entry.month}` to send it."
            )
        elif entry.standing is Standing.unreadable:
            err_console.print(f"[red]{entry.label}: not read:[/] {show(entry.problem)}")
    due = [e for e in entries if e.standing is Standing.due]
    if not due:
        console.print(f"Nothing is due at {now:%Y-%m-%d %H:%M %Z}.")
        return
    failed: list[int] = []
    for entry in due:
        console.print(f"[bold]{entry.label}[/] is due (send_at {entry.due_at:%Y-%m-%d %H:%M %z}).")
    for month, codes in _due_sends(proj, due):
        for code in codes:
            try:
                _send_month(proj, month, replace(options, edition=code), yes=True)
            except typer.Exit as exc:
                failed.append(exc.exit_code)
            except NewsletterError as exc:  # one issue's problem does not hold back the others
                err_console.print(f"[bold red]error:[/] {show(exc.message)}", highlight=False)
                if exc.hint:
                    err_console.print(f"[dim]hint:[/] {show(exc.hint)}", highlight=False)
                failed.append(exc.exit_code)
    if failed:
        raise typer.Exit(failed[0])


def _due_sends(proj: Project, due: list[Scheduled]) -> list[tuple[str, list[str | None]]]:
    """Each due month with its due editions; None: all of them in one routed send."""
    months: dict[str, list[str | None]] = {}
    for entry in due:
        months.setdefault(entry.month, []).append(entry.edition)
    every = len(proj.editions)
    return [(m, [None] if len(codes) == every else codes) for m, codes in months.items()]


def _send_month(proj: Project, month: str, options: SendOptions, *, yes: bool) -> None:
    from newsletter.deliver.send import make_transport, plan_sends
    from newsletter.errors import ApprovalError
    from newsletter.issuefile.status import require_approved

    several = not proj.default_edition.single
    for each in proj.pick_editions(options.edition):  # each edition's file on its own
        path = proj.require_issue(month, each)
        which = f" ({each.code})" if several else ""
        try:
            issue = require_approved(path)
            if issue.sent_at is not None:
                console.print(
                    f"{month}{which} went out on {issue.sent_at:%Y-%m-%d %H:%M %Z}; only "
                    "recipients who have not had it yet get it now."
                )
        except ApprovalError as exc:
            if not options.dry_run:
                raise
            console.print(
                f"[yellow]Not approved:[/] {show(exc.message)} (a real send would refuse)"
            )
    plans = plan_sends(
        proj, month, options.audience, topic=options.topic, via=options.via,
        resend_uncertain=options.resend_uncertain, retry_failed=options.retry_failed,
        edition=options.edition,
    )  # fmt: skip
    print_audience(plans[0].audience)
    if several:
        shares = ", ".join(
            f"{p.prepared.edition_code} {len(p.recipients) + p.already_sent}" for p in plans
        )
        console.print(f"Editions: {shares} recipient(s).")
    print_standing(plans, options.resend_uncertain)
    transports = [
        make_transport(p.prepared, options.via, smtp_host=options.smtp_host,
                       smtp_port=options.smtp_port)
        for p in plans
    ]  # fmt: skip
    if options.dry_run:
        from newsletter.deliver.send import dry_run as build_all

        count = sum(build_all(p, t) for p, t in zip(plans, transports, strict=True))
        console.print(
            f"Dry run: built {count} message(s) for {transports[0].describe()}; nothing was "
            "sent or logged."
        )
        return
    todo = [(p, t) for p, t in zip(plans, transports, strict=True) if p.recipients]
    if not todo:
        console.print("Nothing to send: everyone in the audience has been handled.")
        _mark_sent(proj, month, plans, {}, options.edition)
        return
    if not yes:
        what = "; ".join(
            f"{_edition_label(p, several)}“{p.prepared.subject}” to {len(p.recipients)}"
            for p, _ in todo
        )
        typer.confirm(f"Send {month} {what} recipient(s) via {todo[0][1].describe()}?", abort=True)
    reports: dict[str, SendReport] = {}
    for plan, transport in todo:
        report = _run_with_progress(plan, transport, options.rate)
        reports[plan.prepared.edition_code] = report
        label = f"Sent {month}{' (' + plan.prepared.edition_code + ')' if several else ''}"
        summary(report, f"{label} via {transport.describe()}")
        if report.stopped is not None or report.interrupted:
            break
    _mark_sent(proj, month, plans, reports, options.edition)
    for report in reports.values():
        if report.stopped is not None:
            raise report.stopped  # what failed in the send log; nothing was sent without a claim
        if report.interrupted:
            console.print("[yellow]Interrupted.[/] Run the same command again to resume.")
            raise typer.Exit(EXIT_INTERRUPTED)
    if not all(r.ok for r in reports.values()):
        console.print("Run the same command again to retry the deferred ones.")
        raise typer.Exit(EXIT_SOME_FAILED)


def _edition_label(plan: Plan, several: bool) -> str:
    return f"({plan.prepared.edition_code}) " if several else ""


def _mark_sent(
    proj: Project,
    month: str,
    plans: list[Plan],
    reports: dict[str, SendReport],
    edition: str | None,
) -> None:
    """Mark each edition's file sent once everyone who gets that edition has had it (an
    edition nobody in the audience gets, once every other one is done)."""
    from newsletter.deliver.send.due import mark_sent, send_finished

    done = [
        p
        for p in plans
        if (not p.recipients or p.prepared.edition_code in reports)
        and send_finished(p, reports.get(p.prepared.edition_code))
    ]
    codes = {p.prepared.edition_code for p in done}
    if len(done) == len(plans):
        codes |= {e.code for e in proj.pick_editions(edition)}
    for each in proj.editions:
        if each.code in codes and mark_sent(proj, month, CLOCK.now(), each):
            console.print(f"Marked {month} as sent in {proj.issue_path(month, each)}.")


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
    proj: Project,
    month: str,
    via: str,
    to: list[str],
    host: str | None,
    port: int | None,
    edition: str | None = None,
) -> None:
    """A proof of every edition (or of --edition's) to each address."""
    from newsletter.deliver.export import prepare
    from newsletter.deliver.send import make_transport, send_proof

    failed = False
    for each in proj.pick_editions(edition):
        prepared = prepare(proj, month, each).as_proof()
        transport = make_transport(prepared, str(via), smtp_host=host, smtp_port=port)
        report = send_proof(prepared, transport, to)
        which = "" if each.single else f" ({each.code})"
        summary(report, f"Proof of {month}{which} via {transport.describe()} (not logged)")
        failed = failed or not report.ok
    if failed:
        raise typer.Exit(EXIT_SOME_FAILED)
