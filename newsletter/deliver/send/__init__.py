"""send: deliver an issue to an audience over SMTP or Amazon SES, at most once per person.

The issue is rendered once; each recipient's copy is filled in from it. Every message is
claimed in the send log (``sending``) before it is handed over and recorded (``sent``,
``failed``, ``deferred``) right after, so a rerun after a crash, Ctrl-C or a failed run
resumes where it stopped and never repeats a message that was accepted. See
``newsletter.sendlog`` for the one ambiguous window and why it is resolved as at-most-once.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from newsletter.deliver import merge
from newsletter.deliver.export import Prepared, chunks, prepare
from newsletter.errors import SendError
from newsletter.store.sendlog import Outcome, SendLog, Status

if TYPE_CHECKING:
    from newsletter.deliver.audience import AudienceReport, Recipient
    from newsletter.project import Project

VIAS = ("smtp", "ses")


@dataclass
class Outgoing:
    """One recipient's message, built before it is claimed: a build error never claims."""

    recipient: Recipient
    personal: merge.Personal
    data: Any = None  # the MIME bytes for SMTP; SES builds its request per batch


class Transport(Protocol):
    name: str
    batch_size: int

    def describe(self) -> str: ...

    def build(self, recipient: Recipient, personal: merge.Personal) -> Outgoing: ...

    def __enter__(self) -> Transport: ...

    def __exit__(self, *exc: object) -> None: ...

    def deliver(self, batch: Sequence[Outgoing]) -> list[Outcome]:
        """One outcome per message, in order. Raise SendError only when none of the batch
        can have reached the server (connect or login failed, sender refused...)."""
        ...


@dataclass
class Plan:
    """Who gets the issue now, and who does not and why; computed before anything is sent."""

    prepared: Prepared
    via: str
    recipients: list[Recipient]
    audience: AudienceReport
    already_sent: int = 0
    previously_failed: int = 0
    uncertain: list[str] = field(default_factory=list)  # 'sending' rows of an earlier run
    retake: tuple[Status, ...] = ("deferred",)

    @property
    def month(self) -> str:
        return self.prepared.month


@dataclass
class SendReport:
    planned: int = 0
    sent: int = 0
    skipped: int = 0  # claimed meanwhile by another run
    failed: list[Outcome] = field(default_factory=list)
    deferred: list[Outcome] = field(default_factory=list)
    uncertain: list[Outcome] = field(default_factory=list)
    interrupted: bool = False
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return not (self.failed or self.deferred or self.uncertain or self.interrupted)


def parse_rate(value: str | float | None) -> float | None:
    """``10``, ``10/s``, ``600/m`` or ``3600/h`` as messages per second."""
    if value is None or isinstance(value, float | int):
        return None if value is None else float(value)
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(?:/\s*([smh]))?\s*", value)
    if not match or float(match.group(1)) <= 0:
        raise SendError(
            f"--rate {value!r}: expected messages per second, minute or hour",
            hint="for example --rate 10/s, --rate 600/m or --rate 3600/h",
        )
    per = {"s": 1, "m": 60, "h": 3600}[match.group(2) or "s"]
    return float(match.group(1)) / per


def plan_send(
    project: Project,
    month: str,
    audience: Path | None = None,
    *,
    topic: str | None = None,
    via: str = "smtp",
    resend_uncertain: bool = False,
    retry_failed: bool = False,
) -> Plan:
    """Render the issue, read the audience (default: the confirmed subscribers) and the send
    log; nothing is sent."""
    from newsletter.deliver.subscribers import open_audience

    if via not in VIAS:
        raise SendError(f"unknown --via {via!r}", hint=f"choose one of: {', '.join(VIAS)}")
    prepared = prepare(project, month)
    merge.load_secret()  # fail now, before a prompt, when links cannot be signed
    reader = open_audience(project, audience, topic=topic, required=True)
    assert reader is not None
    recipients, report = list(reader), reader.report
    merge.check_fields([prepared.html, prepared.text], report.columns, where=str(report.path))
    retake: tuple[Status, ...] = ("deferred",)
    if resend_uncertain:
        retake += ("sending",)
    if retry_failed:
        retake += ("failed",)
    with SendLog(project.store_path) as log:
        statuses = log.statuses(month)
    plan = Plan(prepared, via, [], report, retake=retake)
    for recipient in recipients:
        status = statuses.get(recipient.key)
        if status is None or status in retake:
            plan.recipients.append(recipient)
        elif status == "sent":
            plan.already_sent += 1
        elif status == "failed":
            plan.previously_failed += 1
        elif status == "sending":
            plan.uncertain.append(recipient.email)
    return plan


class _Pacer:
    """Keeps the average at ``rate`` messages per second (no burst beyond one batch)."""

    def __init__(self, rate: float | None, sleep: Callable[[float], None]) -> None:
        self.rate = rate
        self.sleep = sleep
        self.start = time.monotonic()
        self.count = 0

    def wait(self, upcoming: int) -> None:
        if self.rate:
            delay = self.start + self.count / self.rate - time.monotonic()
            if delay > 0:
                self.sleep(delay)
        self.count += upcoming


def run_send(
    plan: Plan,
    transport: Transport,
    *,
    rate: float | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    on_progress: Callable[[int], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SendReport:
    """Send ``plan`` through ``transport``, claiming and recording every message in the log."""
    project = plan.prepared.project
    month = plan.month
    personalizer = merge.Personalizer(project.config, month, merge.load_secret())
    report = SendReport(planned=len(plan.recipients))
    pacer = _Pacer(rate, sleep)
    started = time.monotonic()
    with SendLog(project.store_path) as log, transport:
        for batch in chunks(iter(plan.recipients), transport.batch_size):
            if should_stop():
                report.interrupted = True
                break
            items = [transport.build(r, personalizer.personal(r)) for r in batch]
            claimed = set(
                log.claim(
                    month,
                    [o.recipient.key for o in items],
                    transport.name,
                    retake=plan.retake,
                    message_ids=[o.personal.message_id for o in items],
                )
            )
            report.skipped += len(items) - len(claimed)
            items = [o for o in items if o.recipient.key in claimed]
            if not items:
                if on_progress:
                    on_progress(len(batch))
                continue
            pacer.wait(len(items))
            try:
                outcomes = transport.deliver(items)
            except SendError as exc:
                # Nothing of this batch reached the server: give the claims back, then stop.
                log.release(month, [o.recipient.key for o in items], exc.message)
                raise
            log.record(month, outcomes)
            for outcome in outcomes:
                if outcome.status == "sent":
                    report.sent += 1
                else:
                    getattr(report, outcome.status).append(outcome)
            if on_progress:
                on_progress(len(batch))
    report.elapsed = time.monotonic() - started
    return report


def dry_run(plan: Plan, transport: Transport) -> int:
    """Build every message of ``plan`` without connecting or logging; returns the count."""
    personalizer = merge.Personalizer(plan.prepared.config, plan.month, merge.load_secret())
    for recipient in plan.recipients:
        transport.build(recipient, personalizer.personal(recipient))
    return len(plan.recipients)


def proof_recipients(addresses: Sequence[str]) -> Iterator[Recipient]:
    from newsletter.deliver.audience import Recipient, check_address

    for address in addresses:
        try:
            yield Recipient(email=check_address(address.strip()))
        except ValueError as exc:
            raise SendError(f"--test-to {address!r}: not an email address: {exc}") from None


def send_proof(prepared: Prepared, transport: Transport, addresses: Sequence[str]) -> SendReport:
    """Send ``[PROOF]`` copies to staff; nothing is written to the send log."""
    personalizer = merge.Personalizer(prepared.config, prepared.month, merge.load_secret())
    report = SendReport()
    items = [transport.build(r, personalizer.personal(r)) for r in proof_recipients(addresses)]
    report.planned = len(items)
    started = time.monotonic()
    with transport:
        for batch in chunks(iter(items), transport.batch_size):
            for outcome in transport.deliver(batch):
                if outcome.status == "sent":
                    report.sent += 1
                else:
                    getattr(report, outcome.status).append(outcome)
    report.elapsed = time.monotonic() - started
    return report


def make_transport(
    prepared: Prepared,
    via: str,
    *,
    smtp_host: str | None = None,
    smtp_port: int | None = None,
) -> Transport:
    """The transport ``via`` names, configured from newsletter.toml and the environment."""
    config = prepared.config
    attempts, delay = config.send.max_attempts, config.send.retry_delay
    if via == "smtp":
        from newsletter.deliver.send.smtp import SmtpTransport, resolve

        smtp = resolve(config.smtp, config.newsletter.from_email, host=smtp_host, port=smtp_port)
        return SmtpTransport(
            smtp, prepared.message_template(), max_attempts=attempts, retry_delay=delay
        )
    if via == "ses":
        from newsletter.deliver.send.ses import SesTransport

        return SesTransport(prepared, max_attempts=attempts, retry_delay=delay)
    raise SendError(f"unknown --via {via!r}", hint=f"choose one of: {', '.join(VIAS)}")
