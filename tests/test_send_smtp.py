"""Sending over SMTP to a real local server (aiosmtpd), with faults injected on purpose.

``SmtpServer`` is used by the other test_send* modules too: it records every message it
accepts and can, per address, answer RCPT or the end of DATA with any reply, or drop the
connection (before or after storing the message).
"""

from __future__ import annotations

import email
import socket
import ssl
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import policy
from pathlib import Path
from typing import Any

import pytest

from newsletter.deliver.send import make_transport, plan_send, run_send, send_proof
from newsletter.deliver.send.smtp import SmtpTransport, resolve
from newsletter.errors import ConfigError, SendError
from newsletter.project import Project
from newsletter.store.sendlog import SendLog, Status
from newsletter.store.suppression import SuppressionList
from tests.conftest import REPO
from tests.factories import audience, without_tables
from tests.factories import send_project as make_project
from tests.pgserver import Backend

SECRET = "smtp-test-secret-0123456789"

DROP = "drop"  # close the connection instead of replying
ACCEPT_THEN_DROP = "accept-then-drop"  # store the message, then close without replying


@dataclass
class Received:
    sender: str
    rcpt: list[str]
    data: bytes

    @property
    def message(self) -> email.message.EmailMessage:
        msg = email.message_from_bytes(self.data, policy=policy.default)
        assert isinstance(msg, email.message.EmailMessage)
        return msg


@dataclass
class Handler:
    received: list[Received] = field(default_factory=list)
    # address (lower-case) -> queue of (stage, reply) faults, used one per attempt
    faults: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    on_message: Callable[[int], None] | None = None
    sessions: int = 0

    def fault(self, address: str, stage: str, *replies: str) -> None:
        self.faults.setdefault(address.lower(), []).extend((stage, r) for r in replies)

    def _take(self, address: str, stage: str) -> str | None:
        queue = self.faults.get(address.lower(), [])
        if queue and queue[0][0] == stage:
            return queue.pop(0)[1]
        return None

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        reply = self._take(address, "rcpt")
        if reply == DROP:
            server.transport.close()
            return "421 4.4.2 gone"
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = self._take(envelope.rcpt_tos[0], "data")
        if reply == DROP:
            server.transport.close()
            return "451 gone"
        if reply and reply != ACCEPT_THEN_DROP:
            return reply
        self.received.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                bytes(envelope.original_content or envelope.content),
            )
        )
        if self.on_message:
            self.on_message(len(self.received))
        if reply == ACCEPT_THEN_DROP:
            server.transport.close()
        return "250 2.0.0 OK queued"

    def count(self) -> Counter[str]:
        return Counter(r.rcpt[0].lower() for r in self.received)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpServer:
    """A real SMTP server on 127.0.0.1 in a thread."""

    def __init__(self, **kwargs: Any) -> None:
        from aiosmtpd.controller import Controller

        self.handler = Handler()
        self.port = free_port()
        self.controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, ready_timeout=10, **kwargs
        )

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def smtp_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The secret set, and no SMTP setting from the environment of whoever runs the tests."""
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    for name in ("HOST", "PORT", "SECURITY", "USERNAME", "PASSWORD", "TIMEOUT", "CONNECTIONS"):
        monkeypatch.delenv(f"NEWSLETTER_SMTP_{name}", raising=False)


@pytest.fixture
def env(smtp_env: None, backend: Backend) -> Backend:
    """``smtp_env``, and a fresh store that the send log and suppressions go to: the test runs
    on SQLite and on PostgreSQL."""
    return backend


ADDRESSES = [f"r{i}@example.org" for i in range(6)]


def send(project: Project, path: Path, **plan_options: Any) -> Any:
    plan = plan_send(project, "2020-10", path, **plan_options)
    transport = make_transport(plan.prepared, "smtp")
    return plan, run_send(plan, transport)


# --- the happy path ----------------------------------------------------------------------------


@pytest.mark.usefixtures("env")
def test_one_connection_every_message_once_and_a_rerun_sends_nothing(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    project = make_project(tmp_path / "p", smtp_server.port, connections=1)
    path = audience(tmp_path / "a.csv", ADDRESSES)
    plan, report = send(project, path)
    assert report.sent == 6 and report.ok
    assert smtp_server.handler.count() == Counter(ADDRESSES)
    assert smtp_server.handler.sessions == 1, "one connection, reused"
    msg = smtp_server.handler.received[0].message
    assert msg["To"].addresses[0].addr_spec == "r0@example.org"
    assert str(msg["List-Unsubscribe"]).startswith("<https://news.oslocancercluster.no/unsub")
    assert smtp_server.handler.received[0].sender == "newsletter@oslocancercluster.no"
    with SendLog(project.database) as log:
        assert log.counts("2020-10") == {"sent": 6}

    plan, report = send(project, path)
    assert plan.recipients == [] and plan.already_sent == 6 and report.sent == 0
    assert len(smtp_server.handler.received) == 6


# --- fault injection ---------------------------------------------------------------------------


@pytest.mark.usefixtures("env")
@pytest.mark.parametrize(
    ("stage", "reply"),
    [
        ("rcpt", "451 4.3.0 try again later"),
        ("data", "451 4.3.0 try again later"),
        ("rcpt", "421 4.3.2 shutting down"),
        ("data", "421 4.3.2 shutting down"),
        ("rcpt", DROP),
    ],
)
def test_temporary_refusals_are_retried_and_delivered_once(
    tmp_path: Path, smtp_server: SmtpServer, stage: str, reply: str
) -> None:
    project = make_project(tmp_path / "p", smtp_server.port, connections=1)
    smtp_server.handler.fault("r2@example.org", stage, reply, reply)  # two bad tries, then OK
    _, report = send(project, audience(tmp_path / "a.csv", ADDRESSES))
    assert report.sent == 6 and report.ok
    assert smtp_server.handler.count() == Counter(ADDRESSES)
    if reply.startswith("421") or reply == DROP:
        assert smtp_server.handler.sessions == 3, "reconnected after each closed connection"


@pytest.mark.usefixtures("env")
def test_temporary_refusals_run_out_then_the_next_run_delivers(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    project = make_project(tmp_path / "p", smtp_server.port)
    path = audience(tmp_path / "a.csv", ADDRESSES)
    smtp_server.handler.fault("r1@example.org", "rcpt", *["452 4.2.2 mailbox full"] * 3)
    _, report = send(project, path)
    assert report.sent == 5 and [o.key for o in report.deferred] == ["r1@example.org"]
    assert "452 4.2.2 mailbox full (after 3 attempts)" in report.deferred[0].detail
    plan, report = send(project, path)
    assert [r.email for r in plan.recipients] == ["r1@example.org"] and report.sent == 1
    assert smtp_server.handler.count() == Counter(ADDRESSES)


@pytest.mark.usefixtures("env")
def test_a_5xx_is_a_permanent_failure_recorded_once(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    project = make_project(tmp_path / "p", smtp_server.port)
    path = audience(tmp_path / "a.csv", ADDRESSES)
    smtp_server.handler.fault("r3@example.org", "rcpt", "550 5.1.1 no such user")
    smtp_server.handler.fault("r4@example.org", "data", "554 5.7.1 rejected as spam")
    _, report = send(project, path)
    assert report.sent == 4
    assert {o.key: o.detail for o in report.failed} == {
        "r3@example.org": "550 5.1.1 no such user",
        "r4@example.org": "554 5.7.1 rejected as spam",
    }
    assert "r3@example.org" not in smtp_server.handler.count()
    # A 5xx is a hard bounce: both are now suppressed, so no later send tries them.
    plan, _ = send(project, path)
    assert plan.recipients == []
    assert {r.value for r in plan.audience.rejected if r.kind == "suppressed"} == {
        "r3@example.org",
        "r4@example.org",
    }
    # Once an operator lifts the suppression, --retry-failed tries again.
    with SuppressionList(project.database) as suppressions:
        suppressions.remove(["r3@example.org", "r4@example.org"])
    plan, _ = send(project, path)
    assert plan.recipients == [] and plan.previously_failed == 2
    plan, report = send(project, path, retry_failed=True)
    assert report.sent == 2 and smtp_server.handler.count() == Counter(ADDRESSES)


@pytest.mark.usefixtures("env")
def test_a_connection_lost_at_acceptance_is_never_sent_twice(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    project = make_project(tmp_path / "p", smtp_server.port)
    path = audience(tmp_path / "a.csv", ADDRESSES)
    # r1: the server stored the message but the reply was lost; r2: it was lost entirely.
    smtp_server.handler.fault("r1@example.org", "data", ACCEPT_THEN_DROP)
    smtp_server.handler.fault("r2@example.org", "data", DROP)
    _, report = send(project, path)
    assert report.sent == 4
    assert sorted(o.key for o in report.uncertain) == ["r1@example.org", "r2@example.org"]
    assert smtp_server.handler.count()["r1@example.org"] == 1
    assert smtp_server.handler.count()["r2@example.org"] == 0
    plan, report = send(project, path)  # at-most-once: neither is resent by default
    assert plan.recipients == [] and sorted(plan.uncertain) == ["r1@example.org", "r2@example.org"]
    plan, report = send(project, path, resend_uncertain=True)  # staff decide
    assert report.sent == 2 and smtp_server.handler.count()["r2@example.org"] == 1


@pytest.mark.usefixtures("env")
def test_no_server_is_a_clear_error_and_nothing_is_marked(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", free_port())
    path = audience(tmp_path / "a.csv", ADDRESSES)
    with pytest.raises(SendError) as info:
        send(project, path)
    assert "cannot connect to 127.0.0.1:" in info.value.message
    assert "after 3 attempts" in info.value.message
    with SendLog(project.database) as log:  # nobody is claimed before the connection is up
        assert log.counts("2020-10") == {}


@pytest.mark.usefixtures("smtp_env")
def test_a_refused_sender_stops_the_send(tmp_path: Path, smtp_server: SmtpServer) -> None:
    project = make_project(tmp_path / "p", smtp_server.port)

    async def refuse(
        server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        return "553 5.7.1 sender not allowed"

    smtp_server.handler.handle_MAIL = refuse  # type: ignore[attr-defined]
    with pytest.raises(SendError, match=r"refuses the sender newsletter@oslocancercluster\.no"):
        send(project, audience(tmp_path / "a.csv", ADDRESSES))
    assert smtp_server.handler.received == []


# --- crashes -----------------------------------------------------------------------------------


class Crash(BaseException):
    """Stands for the process dying (power cut, kill -9) at a chosen instruction."""


@pytest.mark.usefixtures("env")
def test_a_crash_between_acceptance_and_record_then_rerun_delivers_each_once(
    tmp_path: Path, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project(tmp_path / "p", smtp_server.port, connections=1)
    path = audience(tmp_path / "a.csv", ADDRESSES)
    apply = SendLog.apply
    calls = {"n": 0}

    def crashing_apply(self: SendLog, issue: str, run: str, steps: Any, **kw: Any) -> Any:
        if any(s.record for s in steps):
            calls["n"] += 1
            if calls["n"] == 3:  # the 3rd message was accepted; die before noting it
                raise Crash
        return apply(self, issue, run, steps, **kw)

    monkeypatch.setattr(SendLog, "apply", crashing_apply)
    with pytest.raises(Crash):
        send(project, path)
    monkeypatch.setattr(SendLog, "apply", apply)
    assert len(smtp_server.handler.received) == 3

    plan, report = send(project, path)
    assert plan.uncertain == ["r2@example.org"] and report.sent == 3
    assert smtp_server.handler.count() == Counter(ADDRESSES), "each exactly once"
    plan, report = send(project, path)
    assert plan.recipients == [] and report.sent == 0


@pytest.mark.usefixtures("env")
def test_a_crash_before_the_message_leaves_then_rerun_delivers_each_once(
    tmp_path: Path, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project(tmp_path / "p", smtp_server.port, connections=1)
    path = audience(tmp_path / "a.csv", ADDRESSES)
    apply = SendLog.apply

    def crashing_apply(self: SendLog, issue: str, run: str, steps: Any, **kw: Any) -> Any:
        done = apply(self, issue, run, steps, **kw)
        if any("r0@example.org" in s.claim for s in steps):
            raise Crash  # claimed (on disk), but never handed to the server
        return done

    monkeypatch.setattr(SendLog, "apply", crashing_apply)
    with pytest.raises(Crash):
        send(project, path)
    monkeypatch.setattr(SendLog, "apply", apply)
    assert smtp_server.handler.received == []
    with SendLog(project.database) as log:
        assert log.standing("2020-10") == {"r0@example.org": "deferred"}, "not in doubt"
    plan, report = send(project, path)
    # Claimed but never handed over is not uncertain: the next run simply sends it.
    assert plan.uncertain == [] and report.sent == 6
    assert smtp_server.handler.count() == Counter(ADDRESSES)


@pytest.mark.usefixtures("env")
def test_a_refused_final_dot_is_not_in_doubt_during_the_retry(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    project = make_project(tmp_path / "p", smtp_server.port, connections=1)
    path = audience(tmp_path / "a.csv", ADDRESSES[:2])
    seen: list[dict[str, Status]] = []

    def backoff(seconds: float) -> None:  # the transport's sleep: look at the log meanwhile
        with SendLog(project.database) as log:
            seen.append(log.statuses("2020-10"))

    smtp_server.handler.fault("r1@example.org", "data", "451 4.3.0 try again later")
    plan = plan_send(project, "2020-10", path)
    transport = make_transport(plan.prepared, "smtp")
    assert isinstance(transport, SmtpTransport)
    transport.sleep = backoff
    report = run_send(plan, transport)
    assert report.sent == 2 and smtp_server.handler.count() == Counter(ADDRESSES[:2])
    # While waiting to retry, r1 is only claimed: had the process died then, the next run
    # would have sent it, not reported it uncertain.
    assert seen == [{"r0@example.org": "sent", "r1@example.org": "claimed"}]


# --- settings ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("smtp_env")
def test_environment_and_options_override_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project(tmp_path / "p", 2525)
    smtp = project.config.smtp
    assert resolve(smtp, "a@example.org").describe() == "127.0.0.1:2525 (none)"
    env = {
        "NEWSLETTER_SMTP_HOST": "mail.example.org",
        "NEWSLETTER_SMTP_PORT": "587",
        "NEWSLETTER_SMTP_SECURITY": "starttls",
        "NEWSLETTER_SMTP_USERNAME": "bot",
        "NEWSLETTER_SMTP_PASSWORD": "pw",
    }
    resolved = resolve(smtp, "a@example.org", env=env)
    assert (
        resolved.host,
        resolved.port,
        resolved.security,
        resolved.username,
        resolved.password,
    ) == ("mail.example.org", 587, "starttls", "bot", "pw")
    resolved = resolve(smtp, "a@example.org", host="relay.example.org", port=465, env=env)
    assert (resolved.host, resolved.port) == ("relay.example.org", 465)
    with pytest.raises(ConfigError, match="has no password"):
        resolve(smtp, "a@example.org", env={"NEWSLETTER_SMTP_USERNAME": "bot"})
    with pytest.raises(ConfigError, match="unencrypted"):
        resolve(
            smtp,
            "a@example.org",
            host="mail.example.org",
            env={"NEWSLETTER_SMTP_USERNAME": "bot", "NEWSLETTER_SMTP_PASSWORD": "pw"},
        )
    with pytest.raises(ConfigError, match="NEWSLETTER_SMTP_PORT='x'"):
        resolve(smtp, "a@example.org", env={"NEWSLETTER_SMTP_PORT": "x"})
    # [smtp] connections (default 4), and NEWSLETTER_SMTP_CONNECTIONS over it.
    assert resolve(smtp, "a@example.org", env={}).connections == 4
    assert resolve(smtp, "a@example.org", env={"NEWSLETTER_SMTP_CONNECTIONS": "8"}).connections == 8
    with pytest.raises(ConfigError, match="NEWSLETTER_SMTP_CONNECTIONS=0: use 1 to 32"):
        resolve(smtp, "a@example.org", env={"NEWSLETTER_SMTP_CONNECTIONS": "0"})


def test_the_password_never_comes_from_the_config_file(tmp_path: Path) -> None:
    from newsletter.config import load_config

    root = tmp_path / "p"
    root.mkdir()
    text = without_tables((REPO / "newsletter.toml").read_text(), "smtp")
    text += '\n[smtp]\npassword = "hunter2"\n'
    (root / "newsletter.toml").write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(root / "newsletter.toml")
    assert (
        "smtp.password" in info.value.message and "NEWSLETTER_SMTP_PASSWORD" in info.value.message
    )


@pytest.fixture(scope="module")
def tls() -> Any:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    return ca, cert


@pytest.mark.usefixtures("smtp_env")
@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_and_login(
    tmp_path: Path, tls: Any, security: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    ca, cert = tls
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        logins.append((data.login, data.password))
        ok = data.password == b"s3cret"
        return AuthResult(success=ok, handled=ok)  # handled=False: the server answers 535

    if security == "ssl":
        # aiosmtpd cannot tell an implicit-TLS session from plain text, so it must be told
        # to offer AUTH; the connection is TLS from the first byte all the same.
        kwargs: dict[str, Any] = {"ssl_context": context, "auth_require_tls": False}
    else:
        kwargs = {"tls_context": context, "require_starttls": True, "auth_require_tls": True}
    with SmtpServer(authenticator=authenticator, **kwargs) as server:
        project = make_project(tmp_path / "p", server.port)
        ca_file = tmp_path / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))  # trust the test CA, nothing else
        monkeypatch.setenv("NEWSLETTER_SMTP_SECURITY", security)
        monkeypatch.setenv("NEWSLETTER_SMTP_USERNAME", "newsbot")
        monkeypatch.setenv("NEWSLETTER_SMTP_PASSWORD", "wrong")
        with pytest.raises(SendError, match="refused the login of 'newsbot'"):
            send(project, audience(tmp_path / "a.csv", ADDRESSES[:2]))
        monkeypatch.setenv("NEWSLETTER_SMTP_PASSWORD", "s3cret")
        _, report = send(project, audience(tmp_path / "a.csv", ADDRESSES[:2]))
        assert report.sent == 2 and server.handler.count() == Counter(ADDRESSES[:2])
        assert logins[-1] == (b"newsbot", b"s3cret")

        monkeypatch.delenv("SSL_CERT_FILE")  # an untrusted certificate is refused
        with pytest.raises(SendError, match=r"TLS with 127\.0\.0\.1"):
            send(project, audience(tmp_path / "b.csv", ["new@example.org"]))


@pytest.mark.usefixtures("env")
def test_proofs_go_to_staff_only_and_are_not_logged(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    from newsletter.deliver.export import prepare

    project = make_project(tmp_path / "p", smtp_server.port)
    prepared = prepare(project, "2020-10").as_proof()
    report = send_proof(prepared, make_transport(prepared, "smtp"), ["Staff@Example.org"])
    assert report.sent == 1
    (got,) = smtp_server.handler.received
    assert got.message["Subject"].startswith("[PROOF] ") and got.rcpt == ["Staff@example.org"]
    with SendLog(project.database) as log:
        assert log.counts("2020-10") == {}
    with pytest.raises(SendError, match="not an email address"):
        send_proof(prepared, make_transport(prepared, "smtp"), ["nope"])


class FakeClock:
    """Time that moves only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.mark.usefixtures("smtp_env")
def test_rate_limit_paces_the_messages(tmp_path: Path, smtp_server: SmtpServer) -> None:
    project = make_project(tmp_path / "p", smtp_server.port)
    plan = plan_send(project, "2020-10", audience(tmp_path / "a.csv", ADDRESSES))
    clock = FakeClock()
    report = run_send(plan, make_transport(plan.prepared, "smtp"), rate=2.0, clock=clock)
    assert report.sent == 6
    # At 2 per second each message after the first waits for its slot: half a second each
    # on this clock, which moves only while the pacer sleeps.
    assert clock.sleeps == [0.5] * 5 and report.elapsed == 2.5


def test_the_pacer_waits_only_for_the_time_not_already_spent() -> None:
    from newsletter.deliver.send import Pacer

    clock = FakeClock()
    pacer = Pacer(4.0, clock)
    pacer.wait()  # the first message goes at once
    pacer.spent(1)
    clock.now += 0.1  # sending it took 0.1 s
    pacer.wait()
    pacer.spent(2)  # a batch of two
    clock.now += 1.0  # slower than the rate: no wait
    pacer.wait()
    assert clock.sleeps == [pytest.approx(0.15)]
    Pacer(None, clock).wait()  # no rate: never waits
    assert len(clock.sleeps) == 1
