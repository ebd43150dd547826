"""Sending over several connections at once: the feed they share, the pacer, the run's log.

A transport that keeps its own connections (SMTP) gets a ``Sending``: each connection (a
*lane*) takes the next recipient from the shared ``Feed`` (built into a message only when
taken, so no more than one message per lane is ever held), asks the shared ``Pacer`` for a
slot (``--rate`` counts every lane together), and commits its steps through the run's
``SendRun`` writer, which joins every lane's waiting step into one transaction.

``run_lanes`` runs lane 0 in the calling thread and the others in threads. A lane that fails
stops the others after their current message; the first error is raised once all are done.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from newsletter.errors import SendError
from newsletter.store.sendlog import Done, Outcome, Status, Step

if TYPE_CHECKING:
    from newsletter.deliver import merge
    from newsletter.deliver.recipient import Recipient
    from newsletter.deliver.send.clock import Clock
    from newsletter.deliver.send.transport import Handover, Outgoing


class Pacer:
    """Keeps the average at ``rate`` messages per second over all lanes together.

    Slots are ``start + n / rate``; a lane takes one before it claims a message. Thread-safe;
    the clock is injected, so tests pace without waiting.
    """

    def __init__(self, rate: float | None, clock: Clock) -> None:
        self.rate = rate
        self.clock = clock
        self.start = clock.monotonic()
        self.count = 0
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Until the next message's slot (the slot is taken by ``spent``)."""
        if self.rate:
            delay = self.start + self.count / self.rate - self.clock.monotonic()
            if delay > 0:
                self.clock.sleep(delay)

    def spent(self, messages: int) -> None:
        with self._lock:
            self.count += messages

    def due(self) -> bool:
        """Take the next slot if its time has come (never waits)."""
        if not self.rate:
            return True
        with self._lock:
            if self.start + self.count / self.rate > self.clock.monotonic():
                return False
            self.count += 1
            return True

    def take(self) -> None:
        """Take the next slot, sleeping until its time."""
        if not self.rate:
            return
        with self._lock:
            slot = self.start + self.count / self.rate
            self.count += 1
        delay = slot - self.clock.monotonic()
        if delay > 0:
            self.clock.sleep(delay)

    def give_back(self) -> None:
        """A slot taken for a message that was not sent after all (none left, or skipped)."""
        if self.rate:
            with self._lock:
                self.count -= 1


class Committer(Protocol):
    def commit(self, step: Step) -> Done: ...


class Report(Protocol):
    """What lanes fill in (``run.SendReport``)."""

    interrupted: bool

    def add(self, outcomes: Sequence[Outcome]) -> None: ...


@runtime_checkable
class Streaming(Protocol):
    """A transport that keeps several connections itself (SMTP): ``run_send`` hands it the
    whole plan as a feed, instead of batches through ``deliver``."""

    def stream(self, sending: Sending, log: Committer) -> None: ...


class Feed:
    """The plan's recipients, handed out one at a time and built only when taken."""

    def __init__(
        self,
        recipients: Iterable[Recipient],
        build: Callable[[Recipient, merge.Personal], Outgoing],
        personalizer: merge.Personalizer,
    ) -> None:
        self._recipients: Iterator[Recipient] = iter(recipients)
        self._returned: deque[Outgoing] = deque()
        self._lock = threading.Lock()
        self.build = build
        self.personalizer = personalizer

    def take(self) -> Outgoing | None:
        with self._lock:
            if self._returned:
                return self._returned.popleft()
            recipient = next(self._recipients, None)
        if recipient is None:
            return None
        return self.build(recipient, self.personalizer.personal(recipient))

    def give_back(self, item: Outgoing) -> None:
        """An unclaimed message this lane cannot send (it could not connect): another may."""
        with self._lock:
            self._returned.append(item)


@dataclass
class Sending:
    """What every lane of one send shares."""

    feed: Feed
    log: Committer
    pacer: Pacer
    report: Report
    should_stop: Callable[[], bool] = lambda: False
    on_progress: Callable[[int], None] | None = None
    lost: Callable[[], bool] = lambda: False  # the run lost its claims (lease ran out)
    failed: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def stopping(self) -> bool:
        if self.lost():
            raise SendError(
                "this run lost its claims in the send log (its lease ran out)",
                hint="another run may be sending this issue; run the command again when it "
                "has finished",
            )
        if self.failed.is_set():
            return True
        if self.should_stop():
            with self._lock:
                self.report.interrupted = True
            return True
        return False

    def add(self, outcome: Outcome) -> None:
        with self._lock:
            self.report.add([outcome])
        if self.on_progress:
            self.on_progress(1)


class RunLog:
    """The run's send log as lanes commit to it (``SendRun.commit`` with this send's via)."""

    def __init__(self, run: Committer, via: str, retake: tuple[Status, ...]) -> None:
        self.run = run
        self.via = via
        self.retake = retake

    def commit(self, step: Step) -> Done:
        from newsletter.store.sendrun import SendRun

        assert isinstance(self.run, SendRun)
        return self.run.commit(step, via=self.via, retake=self.retake)


class HandoverLog:
    """Lanes over a ``Handover`` instead of the run's log: proofs, and ``deliver`` batches
    that are already claimed. Records are collected as the batch's outcomes."""

    def __init__(self, items: Sequence[Outgoing], handover: Handover) -> None:
        self.items = {o.recipient.key: o for o in items}
        self.handover = handover
        self.outcomes: dict[str, Outcome] = {}

    def commit(self, step: Step) -> Done:
        for outcome in step.record:
            self.outcomes[outcome.key] = outcome
        if step.take_back:
            self.handover.undo([self.items[k] for k in step.take_back])
        handed = self.handover.begin([self.items[k] for k in step.hand_over])
        return Done([o.recipient.key for o in handed], list(step.claim), list(step.take_back))


def run_lanes(count: int, lane: Callable[[int], None], sending: Sending) -> None:
    """``lane(i)`` for i in range(count): 0 here, the others in threads; raises the first
    error once every lane has stopped."""
    errors: list[BaseException] = []

    def guarded(index: int) -> None:
        try:
            lane(index)
        except BaseException as exc:
            errors.append(exc)
            sending.failed.set()

    threads = [
        threading.Thread(target=guarded, args=(i,), name=f"send-lane-{i}", daemon=True)
        for i in range(1, count)
    ]
    for thread in threads:
        thread.start()
    try:
        lane(0)
    except BaseException:
        sending.failed.set()
        raise
    finally:
        for thread in threads:
            thread.join()
    if errors:
        raise errors[0]
