"""One collect at a time per project: an advisory lock on ``.newsletter/collect.lock``.

Two runs at once would fetch everything twice and race to store the same new stories (the
store copes, but the second run's work is wasted and its report confusing), so a second run
stops at once and says who holds the lock. The operating system releases the lock when its
holder exits, however it exits (even SIGKILL): a stale lock file never blocks anyone.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from newsletter.errors import StoreError

LOCK_NAME = "collect.lock"


@contextmanager
def collect_lock(folder: Path) -> Iterator[None]:
    """Hold the collect lock in ``folder`` (the project's ``.newsletter``) for the block."""
    try:
        import fcntl
    except ImportError:  # not a POSIX system: the store's writes are still safe
        yield
        return
    path = folder / LOCK_NAME
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+", encoding="utf-8")
    except OSError as exc:
        raise StoreError(
            f"{path}: cannot create the collect lock: {exc.strerror}",
            hint="check the project's .newsletter folder is writable",
        ) from exc
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip()
            raise StoreError(
                "another collect is running on this project"
                + (f" (process {holder})" if holder.isdigit() else ""),
                hint="wait for it to finish, then run collect again if you still need to",
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)  # the lock itself goes with the file's closing
