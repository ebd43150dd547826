"""Who holds a claim in the send log, and whether they are still there.

A send run is owned by one process: its host, the host's boot and pid namespace, its pid and
the pid's start time. On the same host (and boot) the process table is the truth: a claim
whose process is gone, a zombie, or a reused pid (another start time) is no longer held. A
run on another host (or container, or an earlier boot) cannot be looked at, so it holds its
claims only while its lease, renewed by a heartbeat, has not expired.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def _stat(pid: int) -> tuple[str, str] | None:
    """(state, start time) of ``pid`` from /proc, or None when it cannot be read."""
    text = _read(f"/proc/{pid}/stat")
    if not text or ")" not in text:
        return None
    fields = text.rsplit(")", 1)[1].split()  # the name in parentheses may hold spaces
    return (fields[0], fields[19]) if len(fields) > 19 else None


def _machine() -> str:
    """This boot of this machine, and this pid namespace (containers share a boot id)."""
    boot = _read("/proc/sys/kernel/random/boot_id")
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    return f"{boot}/{namespace}" if boot else ""


@dataclass(frozen=True)
class Owner:
    host: str
    machine: str  # boot id and pid namespace; "" where the system does not say
    pid: int
    started: str  # the process's start time (clock ticks after boot); "" when unknown

    @classmethod
    def current(cls) -> Owner:
        pid = os.getpid()
        stat = _stat(pid)
        return cls(socket.gethostname(), _machine(), pid, stat[1] if stat else "")

    def describe(self) -> str:
        return f"process {self.pid} on {self.host}"


def holds(owner: Owner, expires: float, *, here: Owner, now: float) -> bool:
    """Whether ``owner`` still holds its claims, as seen from ``here`` at ``now`` (unix time)."""
    if owner.host == here.host and owner.machine == here.machine:
        return _running(owner)
    # Another machine, container or boot (host names are not always unique): the lease says.
    return now < expires


def _running(owner: Owner) -> bool:
    try:
        os.kill(owner.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    stat = _stat(owner.pid)
    if stat is None:
        return True  # no /proc to ask: the pid exists, so assume it is the same process
    state, started = stat
    if state in ("Z", "X"):
        return False  # killed, not yet reaped by its parent
    return not (owner.started and started != owner.started)
