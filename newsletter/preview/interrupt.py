"""Wait for Ctrl+C without letting KeyboardInterrupt land at a random point."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def until_interrupted() -> Iterator[Callable[[], object]]:
    """Yield a ``wait`` that returns on Ctrl+C (SIGINT); start the server inside the block.

    A KeyboardInterrupt raised wherever the main thread is can land just after it took a
    lock (entering ``Event.wait()``, say) and leave it held, so that closing the server
    blocks for ever. Instead SIGINT is blocked here and in every thread started inside, and
    ``wait`` takes it with ``sigwait``; one that comes early stays pending until then.
    """
    if not hasattr(signal, "pthread_sigmask") or signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        yield threading.Event().wait  # Windows, or started in the background by a shell
        return

    def wait() -> None:
        signal.sigwait({signal.SIGINT})

    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield wait
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
