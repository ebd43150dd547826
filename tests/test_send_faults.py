"""Real `newsletter send` processes against a real aiosmtpd, raced and killed on purpose.

The promise checked at the server after each scenario: every deliverable recipient ends with
exactly one copy, and a recipient is reported uncertain only when the server really accepted
its message (the process died while waiting for the reply to the final ".").

Kills are placed by conditions, never by timers: the server kills the sender from inside an
SMTP command (before it replies), or the test waits until the sender's main thread is asleep
(in ``--rate`` pacing or in the retry backoff: the kernel says so in /proc).
"""

from __future__ import annotations

import asyncio
import os
import random
import resource
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from newsletter.store.sendlog import SendLog, Standing
from tests.conftest import REPO
from tests.factories import audience
from tests.factories import send_project as make_project
from tests.test_send_smtp import free_port

SECRET = "faults-test-secret-0123456789"
ISSUE = "2020-10"
# clock_nanosleep and nanosleep, where /proc/PID/wchan does not name the kernel function
SLEEP_SYSCALLS = {"x86_64": {"35", "230"}, "aarch64": {"101", "115"}}

Hook = Callable[[str, str], None]  # (stage, address): MAIL, RCPT, DATA (accepted), RSET


@dataclass
class FaultHandler:
    """Records what the server accepted; runs hooks inside commands, before it replies."""

    accepted: list[str] = field(default_factory=list)
    faults: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)  # RCPT refused every time
    hooks: list[Hook] = field(default_factory=list)
    rcpt_gate: int = 0  # hold RCPT until this many sessions wait there at once
    waiting: set[int] = field(default_factory=set)
    sessions: int = 0

    def fault(self, address: str, stage: str, *replies: str) -> None:
        self.faults.setdefault(address, []).extend((stage, r) for r in replies)

    def _take(self, address: str, stage: str) -> str | None:
        queue = self.faults.get(address.lower(), [])
        if queue and queue[0][0] == stage:
            return queue.pop(0)[1]
        return None

    def _run(self, stage: str, address: str) -> None:
        for hook in list(self.hooks):
            hook(stage, address.lower())

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        self._run("MAIL", address)
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.rcpt_gate:  # both senders hold a claim at this moment
            self.waiting.add(id(session))
            deadline = time.monotonic() + 60
            while len(self.waiting) < self.rcpt_gate and time.monotonic() < deadline:
                await asyncio.sleep(0.005)
            self.rcpt_gate = 0
        self._run("RCPT", address)
        reply = self.refused.get(address.lower()) or self._take(address, "rcpt")
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_RSET(self, server: Any, session: Any, envelope: Any) -> str:
        self._run("RSET", "")
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        address = envelope.rcpt_tos[0]
        reply = self._take(address, "data")
        if reply:
            return reply
        self.accepted.append(address.lower())
        self._run("DATA", address)
        return "250 2.0.0 OK queued"

    def count(self) -> Counter[str]:
        return Counter(self.accepted)


@pytest.fixture
def server() -> Iterator[FaultHandler]:
    from aiosmtpd.controller import Controller

    handler = FaultHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), ready_timeout=10)
    controller.start()
    handler.port = controller.port  # type: ignore[attr-defined]
    try:
        yield handler
    finally:
        controller.stop()


def project_for(
    tmp_path: Path, server: FaultHandler, retry_delay: float = 0, connections: int = 1
) -> Path:
    """One connection unless asked: these scenarios place a kill at one exact point of one
    connection's conversation (tests/test_send_lanes.py kills sends over four)."""
    port = server.port  # type: ignore[attr-defined]
    root = make_project(tmp_path / "p", port, connections=connections).root
    toml = root / "newsletter.toml"
    toml.write_text(toml.read_text().replace("retry_delay = 0\n", f"retry_delay = {retry_delay}\n"))
    return root


def start(project: Path, recipients: Path, *options: str) -> subprocess.Popen[str]:
    env = {**os.environ, "NEWSLETTER_SECRET": SECRET, "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    return subprocess.Popen(
        [sys.executable, "-m", "newsletter", "send", ISSUE, "--audience", str(recipients),
         "--yes", *options],
        cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=300)
    return proc.returncode, out, err


def send(project: Path, recipients: Path, *options: str) -> tuple[int, str, str]:
    return finish(start(project, recipients, *options))


def standing(project: Path) -> dict[str, Standing]:
    with SendLog(project / ".newsletter" / "store.db") as log:
        return log.standing(ISSUE)


def asleep(pid: int) -> bool:
    """Whether the process's main thread is in a timed sleep (time.sleep) right now."""
    try:
        if "nanosleep" in Path(f"/proc/{pid}/wchan").read_text():
            return True
        number = Path(f"/proc/{pid}/syscall").read_text().split()[0]
    except (OSError, IndexError):
        return False
    return number in SLEEP_SYSCALLS.get(os.uname().machine, set())


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.002)


def can_see_sleep() -> bool:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if asleep(proc.pid):
                return True
            time.sleep(0.01)
        return False
    finally:
        proc.kill()
        proc.wait()


needs_proc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not can_see_sleep(),
    reason="needs /proc/PID/wchan or /proc/PID/syscall to see that a process sleeps",
)


def kill_at(server: FaultHandler, proc: subprocess.Popen[str], stage: str, n: int) -> list[str]:
    """Kill ``proc`` inside the ``n``-th ``stage`` command; returns [address] once killed."""
    seen = {"n": 0}
    killed: list[str] = []

    def hook(at: str, address: str) -> None:
        if at == stage and not killed:
            seen["n"] += 1
            if seen["n"] == n:
                os.kill(proc.pid, signal.SIGKILL)
                killed.append(address)

    server.hooks[:] = [hook]
    return killed


def kill_when_asleep(
    server: FaultHandler, proc: subprocess.Popen[str], *, after: int, what: str
) -> None:
    """Kill ``proc`` in its first sleep after the server accepted ``after`` more messages."""
    before = len(server.accepted)
    server.hooks[:] = []

    def due() -> bool:
        if proc.poll() is not None:
            return True  # it finished first
        return len(server.accepted) - before >= after and asleep(proc.pid)

    wait_for(due, what)
    proc.kill()


# --- two runs at once ------------------------------------------------------------------------


@pytest.mark.parametrize("connections", [1, 4])
def test_a_send_and_a_resend_uncertain_at_once_never_send_twice(
    tmp_path: Path, server: FaultHandler, connections: int
) -> None:
    project = project_for(tmp_path, server, connections=connections)
    addresses = [f"c{i:02d}@example.org" for i in range(30)]
    recipients = audience(tmp_path / "a.csv", addresses)
    # The first message of each connection waits until every connection of both holds a claim.
    server.rcpt_gate = 2 * connections
    plain = start(project, recipients)
    resend = start(project, recipients, "--resend-uncertain")
    (code_a, out_a, err_a), (code_b, out_b, err_b) = finish(plain), finish(resend)
    assert code_a == 0 and code_b == 0, err_a + err_b
    assert server.count() == Counter(addresses), "each exactly once"
    assert "uncertain" not in (out_a + out_b).lower()

    def sent(out: str) -> int:
        return int(next(line for line in out.splitlines() if "│ sent" in line).split("│")[2])

    assert sent(out_a) >= 1 and sent(out_b) >= 1 and sent(out_a) + sent(out_b) == 30
    assert set(standing(project).values()) == {"sent"}


# --- kills while nothing is in doubt ---------------------------------------------------------


@needs_proc
def test_a_kill_during_the_retry_backoff_loses_nobody(tmp_path: Path, server: FaultHandler) -> None:
    project = project_for(tmp_path, server, retry_delay=60)
    addresses = [f"b{i}@example.org" for i in range(4)]
    recipients = audience(tmp_path / "a.csv", addresses)
    server.fault("b1@example.org", "rcpt", "451 4.3.0 try again later")
    proc = start(project, recipients)
    refused: list[str] = []
    server.hooks[:] = [lambda stage, _: refused.append(stage) if stage == "RSET" else None]
    wait_for(lambda: bool(refused) and asleep(proc.pid), "the sender waits to retry b1")
    proc.kill()
    assert finish(proc)[0] == -signal.SIGKILL
    assert standing(project) == {"b0@example.org": "sent", "b1@example.org": "deferred"}
    code, out, err = send(project, recipients)
    assert code == 0, err
    assert "uncertain" not in out.lower()
    assert server.count() == Counter(addresses), "b1 delivered by the rerun, once"


@needs_proc
def test_a_kill_during_rate_pacing_loses_nobody(tmp_path: Path, server: FaultHandler) -> None:
    project = project_for(tmp_path, server)
    addresses = [f"p{i}@example.org" for i in range(4)]
    recipients = audience(tmp_path / "a.csv", addresses)
    proc = start(project, recipients, "--rate", "1/m")  # the second message waits a minute
    wait_for(lambda: len(server.accepted) == 1 and asleep(proc.pid), "the sender paces")
    proc.kill()
    assert finish(proc)[0] == -signal.SIGKILL
    assert standing(project) == {"p0@example.org": "sent"}, "nothing claimed while pacing"
    code, out, err = send(project, recipients)
    assert code == 0, err
    assert "uncertain" not in out.lower()
    assert server.count() == Counter(addresses)


# --- ten kills at random points, then a rerun ------------------------------------------------


@needs_proc
def test_ten_random_kills_then_a_rerun_deliver_each_recipient_once(
    tmp_path: Path, server: FaultHandler
) -> None:
    seed = int(os.environ.get("SEND_FAULTS_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    project = project_for(tmp_path, server, retry_delay=0.05)
    addresses = [f"k{i:02d}@example.org" for i in range(36)]
    undeliverable = "k05@example.org"
    recipients = audience(tmp_path / "a.csv", addresses)
    server.refused[undeliverable] = "550 5.1.1 no such user"
    server.fault("k08@example.org", "rcpt", "451 4.3.0 try again later")
    server.fault("k13@example.org", "data", "451 4.3.0 try again later")  # refuses the "."
    in_doubt: list[str] = []  # killed while waiting for the reply to an accepted message
    plan = [(rng.choice(["MAIL", "RCPT", "DATA", "asleep"]), rng.randint(1, 3)) for _ in range(10)]
    for stage, n in plan:
        where = f"seed {seed}, kill at {stage} #{n}"
        if stage == "asleep":
            proc = start(project, recipients, "--rate", "4/s")
            kill_when_asleep(server, proc, after=n, what=where)
            killed: list[str] = []
        else:
            proc = start(project, recipients)
            killed = kill_at(server, proc, stage, n)
        code, _, err = finish(proc)
        assert code in (0, 3, -signal.SIGKILL), (where, err)  # 3: the 550 was reported
        if stage == "DATA":
            in_doubt.extend(killed)
        assert max(server.count().values(), default=0) <= 1, (where, server.count())
    server.hooks[:] = []
    code, _, err = send(project, recipients)
    assert code in (0, 3), (seed, err)
    deliverable = [a for a in addresses if a != undeliverable]
    final = standing(project)
    uncertain = {k for k, s in final.items() if s == "uncertain"}
    # Killed inside DATA: in doubt. A kill at the next MAIL or RCPT may also find the message
    # before it accepted but not yet recorded (its answer is committed with the next claim),
    # or, pipelined, k13's refused "." whose reply the sender never read: in doubt too, and
    # reported rather than resent. Everyone else is delivered exactly once.
    unanswered = uncertain - set(server.accepted)
    assert unanswered <= {"k13@example.org"}, f"seed {seed}: {unanswered}"
    expected = Counter(a for a in deliverable if a not in unanswered)
    assert server.count() == expected, f"seed {seed}: each exactly once"
    assert set(in_doubt) <= uncertain, f"seed {seed}: {uncertain}"
    assert len(uncertain) <= len(plan), f"seed {seed}: at most one in doubt per kill"
    assert final[undeliverable] == "failed"
    assert {s for k, s in final.items() if k not in uncertain and k != undeliverable} == {"sent"}


# --- the send log fails in the middle of a send ----------------------------------------------


def fill_disk_of(proc: subprocess.Popen[str], project: Path) -> None:
    """From now on the sender cannot grow the store's files (``disk I/O error``)."""
    wal = project / ".newsletter" / "store.db-wal"
    size = wal.stat().st_size
    resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, (size, resource.RLIM_INFINITY))


@pytest.mark.skipif(not hasattr(resource, "prlimit"), reason="needs prlimit (Linux)")
@pytest.mark.parametrize("when", ["accepted", "deferred"])
def test_a_store_failure_mid_send_says_what_failed_and_keeps_at_most_once(
    tmp_path: Path, server: FaultHandler, when: str
) -> None:
    project = project_for(tmp_path, server)
    addresses = [f"d{i}@example.org" for i in range(6)]
    recipients = audience(tmp_path / "a.csv", addresses)
    if when == "deferred":  # three refusals: all tries, so it is deferred
        server.fault("d2@example.org", "rcpt", *["451 4.3.0 try again later"] * 3)
    proc = start(project, recipients)
    refusals = {"n": 0}

    def hook(stage: str, address: str) -> None:
        if when == "accepted" and stage == "DATA" and address == "d1@example.org":
            fill_disk_of(proc, project)  # before the server's "250" reaches the sender
        if when == "deferred" and stage == "RCPT" and address == "d2@example.org":
            refusals["n"] += 1
            if refusals["n"] == 3:  # the last try: the sender is about to record 'deferred'
                fill_disk_of(proc, project)

    server.hooks[:] = [hook]
    code, out, err = finish(proc)
    assert code == 4, out + err
    assert "cannot record what the server answered in the send log: disk I/O error" in err
    assert "cannot rollback" not in err and "Traceback" not in err and "internal" not in err
    assert "hint:" in err
    assert "answered but not recorded" in out
    server.hooks[:] = []
    code, out, err = send(project, recipients)
    assert code == 0, err
    final = standing(project)
    if when == "accepted":
        # Accepted but never recorded: in doubt, so never sent a second time.
        assert final["d1@example.org"] == "uncertain"
        assert "Uncertain from an interrupted run: 1" in out
    else:
        # Refused, and the refusal could not be recorded: never in doubt, sent by the rerun.
        assert "uncertain" not in out.lower()
    assert server.count() == Counter(addresses), "each exactly once"
