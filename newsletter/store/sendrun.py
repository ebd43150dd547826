"""A send run: this process's hold on its claims in the send log, kept alive by a heartbeat.

The heartbeat is a thread with its own connection that moves the run's lease on every third
of ``lease`` seconds, so that runs on other hosts can tell a live run from a dead one. If it
finds that the run was ended as gone (its lease ran out), ``lost`` is set: the run's claims
may now be someone else's, and it must stop (``hand_over`` would refuse them anyway).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterable, Sequence

from newsletter.errors import StoreError
from newsletter.store.db import Target
from newsletter.store.sendlog import Outcome, SendLog, Status

LEASE = 30.0  # seconds without a heartbeat after which a run on another host counts as gone


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

    def claim(
        self,
        keys: Sequence[str],
        via: str,
        *,
        retake: Iterable[Status] = ("deferred",),
        message_ids: Sequence[str | None] | None = None,
    ) -> list[str]:
        return self.log.claim(
            self.issue, keys, via, run=self.id, retake=retake, message_ids=message_ids
        )

    def hand_over(self, keys: Iterable[str]) -> list[str]:
        return self.log.hand_over(self.issue, keys, self.id)

    def take_back(self, keys: Iterable[str]) -> list[str]:
        return self.log.take_back(self.issue, keys, self.id)

    def release(self, keys: Iterable[str], detail: str) -> None:
        self.log.release(self.issue, keys, detail, self.id)

    def record(self, outcomes: Sequence[Outcome]) -> None:
        """Write the outcomes; if the log cannot take them they are kept for ``close``."""
        try:
            self.log.record(self.issue, outcomes, self.id)
        except StoreError:
            self.unrecorded.extend(outcomes)
            raise

    def close(self) -> StoreError | None:
        """Stop the heartbeat, write what could not be written before, end the run.

        Never raises for the store: a run that cannot be ended is found gone by the next one
        (its process has exited), so the error is returned for the caller to report.
        """
        self._stop.set()
        self._beat.join()
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
