"""Parse and normalise fetched feeds in worker processes, one per CPU core.

Parsing and normalising are most of a large collect's CPU time, and pure Python under the
GIL runs them on one core however many threads fetch. A small process pool spreads them
over the cores; fetching stays in threads and storing in the main process, so the results
(and their order in the store) are the same as parsing in-process.

The pool is started lazily, on the first document to parse, and only for runs with several
web feeds on a machine with more than one core: a few feeds are parsed faster in-process
than a pool starts. Workers come from a fork server (a fresh process that never ran a
thread, which plain ``fork`` after threads would not be) and preload only this module and
what it imports.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING

from newsletter.collect.feed import parse_feed
from newsletter.errors import NewsletterError

if TYPE_CHECKING:
    from newsletter.collect.batch import Built
    from newsletter.collect.fetch import Fetched
    from newsletter.config import CollectSettings, Source

# Fewer web feeds than this are parsed in-process: the pool would cost more than it saves.
MIN_FEEDS = 8
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>

Failure = tuple[type[NewsletterError], str, str | None]


def pool_size(settings: CollectSettings, feeds: int) -> int:
    """Worker processes for a run with ``feeds`` web feeds; 0 parses in-process."""
    cores = os.cpu_count() or 1
    if settings.workers is not None:
        workers = min(settings.workers, cores)
    else:
        workers = cores if feeds >= MIN_FEEDS else 0
    return workers if workers > 1 else 0


def _start_worker() -> None:
    # Ctrl-C reaches the whole process group: the main process stops the run, and workers
    # that died mid-task would only turn the remaining sources into broken-pool errors.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()


def die_with_parent() -> None:
    """End this worker as soon as the collect that started it is gone, even by SIGKILL.

    A worker's parent is the fork server, not collect, and when collect is killed the fork
    server does not exit either (the workers hold its pipe open, and it theirs): so a thread
    waits on collect itself (multiprocessing's sentinel for the parent, a pipe that closes
    when collect dies) and ends the worker then. The kernel's parent-death signal ends it
    with the fork server, should that be the one killed. With the workers gone, the fork
    server and the resource tracker see their pipes close and exit too.
    """
    if sys.platform.startswith("linux"):
        # (without prctl, the thread below still ends the worker with collect)
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        parent.join()  # returns when the parent's end of the pipe closes
        os._exit(1)  # nothing to clean up: the parent that wanted the result is gone

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def parse_and_build(fetched: Fetched, source: Source, limit: int) -> Built | Failure:
    """In a worker: the feed's items, or the user-facing error (class, message, hint)."""
    from newsletter.collect.batch import build

    try:
        return build(parse_feed(fetched, source=source.name), source, limit)
    except NewsletterError as exc:
        # Sent back as parts: pickling an exception keeps only its message, not its hint.
        return type(exc), exc.message, exc.hint


class FeedPool:
    """A process pool started on first use; ``parse`` falls back to in-process if it breaks."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._executor: ProcessPoolExecutor | None = None
        self._broken = False
        self._lock = threading.Lock()

    def _get(self) -> ProcessPoolExecutor | None:
        with self._lock:
            if self._executor is None and not self._broken:
                methods = multiprocessing.get_all_start_methods()
                context = multiprocessing.get_context(
                    "forkserver" if "forkserver" in methods else "spawn"
                )
                if "forkserver" in methods:
                    context.set_forkserver_preload([__name__])
                self._executor = ProcessPoolExecutor(
                    self.workers, mp_context=context, initializer=_start_worker
                )
            return self._executor

    def parse(self, fetched: Fetched, source: Source, limit: int) -> Built:
        from newsletter.collect.batch import build

        executor = self._get()
        if executor is not None:
            try:
                result = executor.submit(parse_and_build, fetched, source, limit).result()
            except BrokenProcessPool:
                self._broken = True  # a worker died (out of memory?): finish in-process
            else:
                if isinstance(result, tuple):
                    kind, message, hint = result
                    raise kind(message, hint=hint)
                return result
        return build(parse_feed(fetched, source=source.name), source, limit)

    def close(self, *, wait: bool = True) -> None:
        with self._lock:
            if self._executor is not None:
                self._executor.shutdown(wait=wait, cancel_futures=True)
                self._executor = None
