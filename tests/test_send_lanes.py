"""Sending over several SMTP connections at once, pipelined, against a real aiosmtpd.

- Pipelining: the server offers PIPELINING and sees each message's RCPT and DATA arrive with
  its MAIL; replies per command are told apart (a 550 and a 451 among accepted ones).
- The ``--rate`` limit holds across all connections together (an injected clock; no timing).
- SMTP faults: four connections, random 421/451 replies and dropped connections, and ten
  SIGKILLs of a real ``newsletter send`` at random points, then a rerun. What the README
  promises: nobody gets two copies; everyone is sent exactly one, except those in doubt after
  a kill (at most one per connection per kill), which are reported and not resent, and
  every one of those the server did accept. Counted at the server; the seed is printed.
"""

from __future__ import annotations

import os
import random
import signal
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from newsletter.deliver.send import make_transport, plan_send, run_send
from newsletter.deliver.send.smtp import SmtpTransport
from newsletter.store.sendlog import SendLog
from tests.factories import audience
from tests.factories import send_project as make_project
from tests.test_send_faults import SECRET, finish, standing, start
from tests.test_send_smtp import free_port

ISSUE = "2020-10"
DOTS = b".leading dot\r\n.\r\n..two dots\r\n"


@dataclass
class LaneHandler:
    """Offers PIPELINING; records what it accepts, per session; faults on request."""

    accepted: list[str] = field(default_factory=list)
    bodies: dict[str, bytes] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)  # RCPT refused every time
    once: dict[tuple[str, str], str] = field(default_factory=dict)  # (stage, address): reply
    sessions: int = 0
    pipelined: int = 0  # MAILs that arrived with their RCPT and DATA already behind them
    rng: random.Random | None = None  # random faults when set
    dot_drops: int = 0  # connections dropped after a message's final "."
    on_mail: Any = None
    on_accept: Any = None

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.sessions += 1
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    def _random(self, server: Any, stage: str) -> str | None:
        if self.rng is None:
            return None
        roll = self.rng.random()
        if roll < 0.04:
            server.transport.close()  # the connection drops
            self.dot_drops += stage == "DATA"  # after the final ".": the sender cannot know
            return "421 4.4.2 dropped"
        if roll < 0.07:
            return "451 4.3.0 try again later"
        if roll < 0.09 and stage == "RCPT":
            server.transport.close()
            return "421 4.3.2 shutting down"
        return None

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        buffered = bytes(getattr(server._reader, "_buffer", b""))  # what arrived with MAIL
        if b"RCPT TO:" in buffered and b"DATA" in buffered:
            self.pipelined += 1
        if self.on_mail:
            self.on_mail()
        reply = self._random(server, "MAIL")
        if reply:
            return reply
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        key = address.lower()
        reply = (
            self.refused.get(key) or self.once.pop(("RCPT", key), None)
            or self._random(server, "RCPT")
        )  # fmt: skip
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        key = envelope.rcpt_tos[0].lower()
        reply = self.once.pop(("DATA", key), None) or self._random(server, "DATA")
        if reply:
            return reply
        self.accepted.append(key)
        self.bodies[key] = bytes(envelope.original_content or envelope.content)
        if self.on_accept:
            self.on_accept(len(self.accepted))
        return "250 2.0.0 OK queued"

    def count(self) -> Counter[str]:
        return Counter(self.accepted)


@pytest.fixture
def lanes_server() -> Iterator[LaneHandler]:
    from aiosmtpd.controller import Controller

    handler = LaneHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), ready_timeout=10)
    controller.start()
    handler.port = controller.port  # type: ignore[attr-defined]
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    for name in ("HOST", "PORT", "SECURITY", "USERNAME", "PASSWORD", "TIMEOUT", "CONNECTIONS"):
        monkeypatch.delenv(f"NEWSLETTER_SMTP_{name}", raising=False)


def port_of(server: LaneHandler) -> int:
    return int(server.port)  # type: ignore[attr-defined]


@pytest.mark.usefixtures("env")
def test_pipelined_commands_over_four_connections_each_reply_to_its_recipient(
    tmp_path: Path, lanes_server: LaneHandler
) -> None:
    project = make_project(tmp_path / "p", port_of(lanes_server), connections=4)
    addresses = [f"p{i:02d}@example.org" for i in range(24)]
    path = audience(tmp_path / "a.csv", addresses)
    lanes_server.refused["p03@example.org"] = "550 5.1.1 no such user"
    lanes_server.once[("RCPT", "p07@example.org")] = "451 4.3.0 greylisted"
    lanes_server.once[("DATA", "p11@example.org")] = "451 4.3.0 queue full"
    plan = plan_send(project, ISSUE, path)
    transport = make_transport(plan.prepared, "smtp")
    assert isinstance(transport, SmtpTransport)
    render = transport.template.render
    # Lines that start with "." (one is a lone "."), which must reach the server unchanged.
    transport.template.render = lambda *a, **k: render(*a, **k) + DOTS  # type: ignore[method-assign]
    report = run_send(plan, transport)

    deliverable = [a for a in addresses if a != "p03@example.org"]
    assert lanes_server.count() == Counter(deliverable), "each accepted once"
    assert report.sent == 23 and [o.key for o in report.failed] == ["p03@example.org"]
    assert lanes_server.sessions == 4
    assert lanes_server.pipelined >= 20, "MAIL, RCPT and DATA went out together"
    with SendLog(project.database) as log:
        rows = {k: (s, d) for k, s, d in log.rows(ISSUE)}
    assert {s for k, (s, _) in rows.items() if k != "p03@example.org"} == {"sent"}
    assert rows["p03@example.org"] == ("failed", "550 5.1.1 no such user")
    # Dot-stuffed once on the way, un-stuffed by the server: what the template wrote.
    assert all(body.endswith(DOTS) for body in lanes_server.bodies.values())


class FakeClock:
    """Time moves only when someone sleeps; shared by every connection."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.lock = threading.Lock()

    def monotonic(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += max(seconds, 0.0)


@pytest.mark.usefixtures("env")
def test_the_rate_limit_holds_across_all_connections(
    tmp_path: Path, lanes_server: LaneHandler
) -> None:
    project = make_project(tmp_path / "p", port_of(lanes_server), connections=4)
    addresses = [f"r{i:02d}@example.org" for i in range(20)]
    clock = FakeClock()
    started: list[float] = []  # the clock when each MAIL arrived
    lanes_server.on_mail = lambda: started.append(clock.monotonic())
    plan = plan_send(project, ISSUE, audience(tmp_path / "a.csv", addresses))
    report = run_send(plan, make_transport(plan.prepared, "smtp"), rate=5.0, clock=clock)
    assert report.sent == 20 and lanes_server.count() == Counter(addresses)
    assert lanes_server.sessions == 4
    # The n-th message of all connections together starts no sooner than n / rate seconds in.
    assert len(started) == 20
    for n, at in enumerate(sorted(started)):
        assert at - 1000.0 >= n / 5.0 - 1e-9, (n, at)


def test_four_connections_random_faults_and_ten_kills_never_send_twice(
    tmp_path: Path, lanes_server: LaneHandler
) -> None:
    seed = int(os.environ.get("SEND_FAULTS_SEED", random.randrange(1 << 30)))
    print(f"SEND_FAULTS_SEED={seed}")
    rng = random.Random(seed)
    lanes_server.rng = random.Random(seed + 1)
    project = make_project(tmp_path / "p", port_of(lanes_server), connections=4).root
    addresses = [f"f{i:03d}@example.org" for i in range(120)]
    undeliverable = "f007@example.org"
    lanes_server.refused[undeliverable] = "550 5.1.1 no such user"
    recipients = audience(tmp_path / "a.csv", addresses)
    deaths = 0
    for kill in range(10):
        where = f"seed {seed}, kill {kill + 1}"
        target = len(lanes_server.accepted) + rng.randint(1, 8)
        proc = start(project, recipients)
        if rng.random() < 0.5:  # inside DATA, before the server says "250"
            lanes_server.on_accept = lambda n, p=proc, t=target: (
                os.kill(p.pid, signal.SIGKILL) if n == t else None
            )
            lanes_server.on_mail = None
        else:  # inside some MAIL, whatever the other connections are doing
            mails = {"n": 0}
            stop_at = rng.randint(2, 12)

            def at_mail(p: Any = proc, m: dict[str, int] = mails, k: int = stop_at) -> None:
                m["n"] += 1
                if m["n"] == k:
                    os.kill(p.pid, signal.SIGKILL)

            lanes_server.on_mail, lanes_server.on_accept = at_mail, None
        code, _, err = finish(proc)
        assert code in (0, 3, -signal.SIGKILL), (where, err)  # 3: some failed or deferred
        deaths += code == -signal.SIGKILL
        assert max(lanes_server.count().values(), default=0) <= 1, (where, lanes_server.count())
    lanes_server.on_mail = lanes_server.on_accept = None
    lanes_server.rng = None
    code, out, err = finish(start(project, recipients))
    assert code in (0, 3), (seed, err)

    count = lanes_server.count()
    final = standing(project)
    uncertain = {k for k, s in final.items() if s == "uncertain"}
    deliverable = [a for a in addresses if a != undeliverable]
    assert max(count.values()) == 1, f"seed {seed}: nobody gets two copies"
    assert final[undeliverable] == "failed" and undeliverable not in count
    # Exactly once for everyone not in doubt; those in doubt are reported, not resent.
    assert {a for a in deliverable if a not in uncertain} <= set(count), f"seed {seed}"
    assert {final[a] for a in deliverable if a not in uncertain} == {"sent"}, f"seed {seed}"
    # In doubt: at most one per connection per kill, plus each connection dropped after a
    # message's final "." (the reply never came, so the sender cannot know either).
    bound = 4 * deaths + lanes_server.dot_drops
    assert len(uncertain) <= bound, f"seed {seed}: at most one per connection per kill or drop"
    assert set(count) <= set(deliverable)
    assert sum(count.values()) + len(uncertain - set(count)) == len(deliverable), f"seed {seed}"
    if uncertain:
        assert f"Uncertain from an interrupted run: {len(uncertain)}" in out
