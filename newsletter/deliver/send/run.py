"""Running a plan: pace, claim, hand over, record; and proofs and dry runs beside it.

Per batch: wait for the ``--rate`` slot, make the transport ready (connected), and only then
claim the recipients in the send log, so that a crash while waiting or connecting leaves
nothing behind. A transport with its own connections (SMTP) gets the whole plan as a feed
instead, and does the same per message on each connection (``lanes.py``). The transport marks
each message ``sending`` right before the server may accept it, and the answer is recorded at
once. A run that stops for any reason gives its unsent claims back; one that dies leaves them
free for the next run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from newsletter.deliver import merge
from newsletter.deliver.export import Prepared, chunks
from newsletter.deliver.send.clock import SYSTEM_CLOCK, Clock
from newsletter.deliver.send.lanes import Feed, Pacer, RunLog, Sending, Streaming
from newsletter.deliver.send.plan import Plan
from newsletter.deliver.send.transport import Outgoing, Transport, Unlogged
from newsletter.errors import SendError, StoreError
from newsletter.store.sendlog import Outcome
from newsletter.store.sendrun import LEASE, SendRun

if TYPE_CHECKING:
    from newsletter.deliver.recipient import Recipient


@dataclass
class SendReport:
    planned: int = 0
    sent: int = 0
    skipped: int = 0  # claimed meanwhile by another run
    failed: list[Outcome] = field(default_factory=list)
    deferred: list[Outcome] = field(default_factory=list)
    uncertain: list[Outcome] = field(default_factory=list)
    interrupted: bool = False
    stopped: StoreError | None = None  # the send log failed: nothing more could be claimed
    unrecorded: list[Outcome] = field(default_factory=list)  # answers the log could not take
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return not (
            self.failed or self.deferred or self.uncertain or self.interrupted or self.stopped
        )

    def add(self, outcomes: Sequence[Outcome]) -> None:
        for outcome in outcomes:
            if outcome.status == "sent":
                self.sent += 1
            elif outcome.status == "skipped":
                self.skipped += 1
            else:
                getattr(self, outcome.status).append(outcome)


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


class _Handover:
    def __init__(self, run: SendRun) -> None:
        self.run = run

    def begin(self, items: Sequence[Outgoing]) -> list[Outgoing]:
        ours = set(self.run.hand_over([o.recipient.key for o in items]))
        return [o for o in items if o.recipient.key in ours]

    def undo(self, items: Sequence[Outgoing]) -> None:
        self.run.take_back([o.recipient.key for o in items])


def run_send(
    plan: Plan,
    transport: Transport,
    *,
    rate: float | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    on_progress: Callable[[int], None] | None = None,
    clock: Clock = SYSTEM_CLOCK,
    lease: float = LEASE,
) -> SendReport:
    """Send ``plan`` through ``transport``, claiming and recording every message in the log.

    A failure of the send log stops the run and is returned as ``report.stopped``.
    """
    month = plan.month
    personalizer = merge.Personalizer(plan.prepared.config, month, merge.load_secret())
    report = SendReport(planned=len(plan.recipients))
    pacer = Pacer(rate, clock)
    started = clock.monotonic()
    run = SendRun(plan.prepared.project.database, month, lease=lease)
    try:
        with transport:
            if isinstance(transport, Streaming):  # its own connections, each a lane
                feed = Feed(plan.recipients, transport.build, personalizer)
                log = RunLog(run, transport.name, plan.retake)
                sending = Sending(feed, log, pacer, report, should_stop, on_progress,
                                  lost=lambda: run.lost)  # fmt: skip
                transport.stream(sending, log)
                batches: Iterator[list[Recipient]] = iter(())
            else:
                batches = chunks(iter(plan.recipients), transport.batch_size)
            for batch in batches:
                if should_stop():
                    report.interrupted = True
                    break
                if run.lost:
                    raise SendError(
                        "this run lost its claims in the send log (its lease ran out)",
                        hint="another run may be sending this issue; run the command again "
                        "when it has finished",
                    )
                _send_batch(run, plan, transport, personalizer, batch, pacer, report)
                if on_progress:
                    on_progress(len(batch))
    except StoreError as exc:
        report.stopped = exc
    finally:
        closing = run.close()
        report.unrecorded = run.unrecorded
        if report.stopped is None and closing is not None:
            report.stopped = closing
    if transport.name == "smtp" and report.failed:
        from datetime import UTC, datetime

        from newsletter.deliver.feedback import take_send_failures

        # A 5xx is a hard bounce: the address is suppressed for every later issue.
        failures = [(o.key, o.detail) for o in report.failed]
        take_send_failures(plan.prepared.project, month, failures, now=datetime.now(UTC))
    report.elapsed = clock.monotonic() - started
    return report


def _send_batch(
    run: SendRun,
    plan: Plan,
    transport: Transport,
    personalizer: merge.Personalizer,
    batch: Sequence[Recipient],
    pacer: Pacer,
    report: SendReport,
) -> None:
    items = [transport.build(r, personalizer.personal(r)) for r in batch]
    pacer.wait()
    transport.open()  # connected before anything is claimed
    claimed = set(
        run.claim(
            [o.recipient.key for o in items],
            transport.name,
            retake=plan.retake,
            message_ids=[o.personal.message_id for o in items],
        )
    )
    report.skipped += len(items) - len(claimed)
    items = [o for o in items if o.recipient.key in claimed]
    if not items:
        return
    pacer.spent(len(items))
    try:
        outcomes = transport.deliver(items, _Handover(run))
    except SendError as exc:
        # Nothing of this batch reached the server: give the claims back, then stop.
        run.release([o.recipient.key for o in items], exc.message)
        raise
    report.add(outcomes)
    run.record(outcomes)


def dry_run(plan: Plan, transport: Transport) -> int:
    """Build every message of ``plan`` without connecting or logging; returns the count."""
    personalizer = merge.Personalizer(plan.prepared.config, plan.month, merge.load_secret())
    for recipient in plan.recipients:
        transport.build(recipient, personalizer.personal(recipient))
    return len(plan.recipients)


def proof_recipients(addresses: Sequence[str]) -> Iterator[Recipient]:
    from newsletter.deliver.audience import check_address
    from newsletter.deliver.recipient import Recipient

    for address in addresses:
        try:
            yield Recipient(email=check_address(address.strip()))
        except ValueError as exc:
            raise SendError(f"--test-to {address!r}: not an email address: {exc}") from None


def send_proof(
    prepared: Prepared, transport: Transport, addresses: Sequence[str], *,
    clock: Clock = SYSTEM_CLOCK,
) -> SendReport:  # fmt: skip
    """Send ``[PROOF]`` copies to staff; nothing is written to the send log."""
    personalizer = merge.Personalizer(prepared.config, prepared.month, merge.load_secret())
    report = SendReport()
    items = [transport.build(r, personalizer.personal(r)) for r in proof_recipients(addresses)]
    report.planned = len(items)
    started = clock.monotonic()
    with transport:
        for batch in chunks(iter(items), transport.batch_size):
            transport.open()
            report.add(transport.deliver(batch, Unlogged()))
    report.elapsed = clock.monotonic() - started
    return report
