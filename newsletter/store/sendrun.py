"""A send run: this process's hold on its claims in the send log, kept alive by a heartbeat.

The heartbeat is a thread with its own connection that moves the run's lease on every third
of ``lease`` seconds, so that runs on other hosts can tell a live run from a dead one. If it
finds that the run was ended as gone (its lease ran out), ``lost`` is set: the run's claims
may now be someone else's, and it must stop (``hand_over`` would refuse them anyway).

Every change goes through one writer thread (``commit``): the senders of a run (one per SMTP
connection) each hand it a ``Step`` and wait; it joins whatever is waiting into one durable
transaction (group commit), so N connections cost about one disk sync per round instead of
N. Nothing is queued ahead: a step is on disk before its sender goes on.
"""

from __future__ import annotations

import queue
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from newsletter.errors import StoreError
from newsletter.store.db import Target
from newsletter.store.sendlog import Done, Outcome, SendLog, Status, Step

LEASE = 30.0  # seconds without a heartbeat after which a run on another host counts as gone


@dataclass
class _Request:
    step: Step
    via: str
    retake: tuple[Status, ...]
    done: threading.Event = field(default_factory=threading.Event)
    result: Done | None = None
    error: BaseException | None = None


class SendRun:
    def __init__(
        self,
        target: Target,
        issue: str,
        *,
        lease: float = LEASE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issue = issue
        self.id = secrets.token_hex(8)
        self.lease = lease
        self.lost = False
        self.unrecorded: list[Outcome] = []  # answers the log could not take (full disk...)
        self.log = SendLog(target, clock=clock)
        try:
            self.log.start_run(self.id, issue, lease)
        except BaseException:
            self.log.close()
            raise
        self._lock = threading.Lock()
        self._requests: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write, name="send-log-writer", daemon=True)
        self._writer.start()
        self._stop = threading.Event()
        self._beat = threading.Thread(
            target=self._heartbeat, args=(target, clock), name="send-run-heartbeat", daemon=True
        )
        self._beat.start()

    def _heartbeat(self, target: Target, clock: Callable[[], float]) -> None:
        log: SendLog | None = None
        try:
            while not self._stop.wait(self.lease / 3):
                try:
                    log = log or SendLog(target, clock=clock)
                    if not log.renew(self.id, self.lease):
                        self.lost = True
                        return
                except StoreError:
                    continue  # a busy or failing disk: try again, the lease has room for it
        finally:
            if log is not None:
                log.close()

    def _write(self) -> None:
        """The writer: each round commits every step waiting, in one transaction."""
        while True:
            first = self._requests.get()
            if first is None:
                return
            time.sleep(0)  # let senders woken by the last round queue up behind this one
            batch, last = [first], False
            while not last:
                try:
                    request = self._requests.get_nowait()
                except queue.Empty:
                    break
                if request is None:
                    last = True
                else:
                    batch.append(request)
            groups: dict[tuple[str, tuple[Status, ...]], list[_Request]] = {}
            for request in batch:
                groups.setdefault((request.via, request.retake), []).append(request)
            for (via, retake), group in groups.items():
                try:
                    results = self.log.apply(
                        self.issue, self.id, [r.step for r in group], via=via, retake=retake
                    )
                except BaseException as exc:  # every sender in the round learns of it
                    for request in group:
                        request.error = exc
                        request.done.set()
                    continue
                for request, result in zip(group, results, strict=True):
                    request.result = result
                    request.done.set()
            if last:
                return

    def commit(
        self, step: Step, *, via: str = "smtp", retake: Iterable[Status] = ("deferred",)
    ) -> Done:
        """``step`` on disk (with whatever else is waiting); raises the store's error.

        Answers that could not be written are kept for ``close`` to try again.
        """
        request = _Request(step, via, tuple(retake))
        self._requests.put(request)
        request.done.wait()
        if request.error is not None:
            if step.record and isinstance(request.error, StoreError):
                with self._lock:
                    self.unrecorded.extend(step.record)
            raise request.error
        assert request.result is not None
        return request.result

    def claim(
        self,
        keys: Sequence[str],
        via: str,
        *,
        retake: Iterable[Status] = ("deferred",),
        message_ids: Sequence[str | None] | None = None,
    ) -> list[str]:
        step = Step(claim=tuple(keys), message_ids=tuple(message_ids or ()))
        return self.commit(step, via=via, retake=retake).claimed

    def hand_over(self, keys: Iterable[str]) -> list[str]:
        return self.commit(Step(hand_over=tuple(keys))).handed

    def take_back(self, keys: Iterable[str]) -> list[str]:
        return self.commit(Step(take_back=tuple(keys))).taken_back

    def release(self, keys: Iterable[str], detail: str) -> None:
        self.commit(Step(release=tuple(keys), release_detail=detail))

    def record(self, outcomes: Sequence[Outcome]) -> None:
        """Write the outcomes; if the log cannot take them they are kept for ``close``."""
        self.commit(Step(record=tuple(outcomes)))

    def close(self) -> StoreError | None:
        """Stop the heartbeat, write what could not be written before, end the run.

        Never raises for the store: a run that cannot be ended is found gone by the next one
        (its process has exited), so the error is returned for the caller to report.
        """
        self._stop.set()
        self._beat.join()
        self._requests.put(None)
        self._writer.join()
        error = None
        try:
            if self.unrecorded:
                self.log.record(self.issue, self.unrecorded, self.id)
                self.unrecorded = []
            self.log.end_run(self.id)
        except StoreError as exc:
            error = exc
        finally:
            self.log.close()
        return error
