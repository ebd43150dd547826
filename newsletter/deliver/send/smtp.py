"""Sending over SMTP: ``[smtp] connections`` connections at once (default 4), pipelined.

Settings come from ``[smtp]`` in newsletter.toml, then ``NEWSLETTER_SMTP_*`` environment
variables, then ``--smtp-host``/``--smtp-port``; the password only ever from
``NEWSLETTER_SMTP_PASSWORD``. ``security`` is ``starttls`` (port 587), ``ssl`` (465) or
``none`` (a local relay; a password is then refused, so it never crosses the network in clear).

Each connection is a lane (``smtplane.py``: the claims, replies, retries and the one window of
doubt); ``lanes.py`` shares the recipients, the ``--rate`` pacer and the run's send-log writer
between them. A message is written once per recipient from the issue's pre-encoded template,
dot-stuffed with one ``bytes.replace`` and sent as it is.
"""

from __future__ import annotations

import contextlib
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, cast

from newsletter.deliver.send.transport import Handover, Outgoing, TransportOptions
from newsletter.errors import ConfigError, SendError
from newsletter.store.sendlog import Outcome

if TYPE_CHECKING:
    from newsletter.config import SmtpSettings
    from newsletter.deliver.export.prepared import Prepared
    from newsletter.deliver.merge import Personal, Personalizer
    from newsletter.deliver.message import MessageTemplate
    from newsletter.deliver.recipient import Recipient
    from newsletter.deliver.send.lanes import Committer, Sending

ENV = "NEWSLETTER_SMTP_"
Security = Literal["starttls", "ssl", "none"]
MAX_BACKOFF = 300.0
MAX_CONNECTIONS = 32
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: Security
    username: str | None
    password: str | None
    timeout: float
    envelope_from: str
    connections: int = 1
    # No [smtp] table, NEWSLETTER_SMTP_HOST or --smtp-host: the defaults are only a guess.
    defaulted: bool = False

    def describe(self) -> str:
        return f"{self.host}:{self.port} ({self.security})"


def resolve(
    settings: SmtpSettings,
    envelope_from: str,
    *,
    host: str | None = None,
    port: int | None = None,
    env: Mapping[str, str] | None = None,
    configured: bool = True,
) -> SmtpConfig:
    """[smtp] settings, overridden by NEWSLETTER_SMTP_* variables, then by the CLI options.

    ``configured``: newsletter.toml has an [smtp] table.
    """
    import os

    env = os.environ if env is None else env

    def var(name: str) -> str | None:
        value = env.get(ENV + name)
        return value.strip() if value and value.strip() else None

    def number(name: str, value: str, kind: Callable[[str], float]) -> float:
        try:
            return kind(value)
        except ValueError:
            raise ConfigError(f"{ENV}{name}={value!r}: not a number") from None

    port_value = port or (int(number("PORT", p, int)) if (p := var("PORT")) else settings.port)
    if not 0 < port_value < 65536:
        raise ConfigError(f"SMTP port {port_value} is out of range", hint="e.g. 587 or 465")
    security = var("SECURITY") or settings.security
    if security not in ("starttls", "ssl", "none"):
        raise ConfigError(f"{ENV}SECURITY={security!r}: use starttls, ssl or none")
    timeout = number("TIMEOUT", t, float) if (t := var("TIMEOUT")) else settings.timeout
    lanes = (
        int(number("CONNECTIONS", c, int)) if (c := var("CONNECTIONS")) else settings.connections
    )
    if not 1 <= lanes <= MAX_CONNECTIONS:
        raise ConfigError(
            f"{ENV}CONNECTIONS={lanes}: use 1 to {MAX_CONNECTIONS} connections",
            hint="4 suits most servers; some allow fewer connections from one sender",
        )
    config = SmtpConfig(
        host=host or var("HOST") or settings.host,
        port=port_value,
        security=cast(Security, security),
        username=var("USERNAME") or settings.username,
        password=env.get(ENV + "PASSWORD") or None,
        timeout=timeout,
        envelope_from=settings.envelope_from or envelope_from,
        connections=lanes,
        defaulted=not configured and not host and not var("HOST"),
    )
    if config.username and not config.password:
        raise ConfigError(
            f"SMTP user {config.username!r} has no password",
            hint=f"set {ENV}PASSWORD in the environment (never in newsletter.toml)",
        )
    if config.password and config.security == "none" and config.host not in _LOCAL_HOSTS:
        raise ConfigError(
            f"refusing to send the SMTP password to {config.host} unencrypted",
            hint='set security = "starttls" (port 587) or "ssl" (port 465) under [smtp]',
        )
    return config


class SmtpTransport:
    name = "smtp"
    batch_size = 1

    def __init__(
        self,
        config: SmtpConfig,
        template: MessageTemplate,
        *,
        max_attempts: int = 4,
        retry_delay: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        pipelining: bool = True,
    ) -> None:
        self.config = config
        self.template = template
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self.sleep = sleep
        self.pipelining = pipelining  # used where the server offers it
        self.opened = 0  # how many connections were opened (tests, summary)
        self._lock = threading.Lock()
        self._context: ssl.SSLContext | None = None

    @property
    def envelope_from(self) -> str:
        return self.config.envelope_from

    def describe(self) -> str:
        cfg = self.config
        lanes = f", {cfg.connections} connections" if cfg.connections > 1 else ""
        return f"{cfg.describe()[:-1]}{lanes})"

    def build(self, recipient: Recipient, personal: Personal) -> Outgoing:
        """The message as it goes on the wire: dot-stuffed once (RFC 5321 4.5.2), CRLF."""
        data = self.template.render(personal).replace(b"\r\n.", b"\r\n..")
        if data.startswith(b"."):
            data = b"." + data
        if not data.endswith(b"\r\n"):
            data += b"\r\n"
        return Outgoing(recipient, personal, data)

    def __enter__(self) -> SmtpTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def open(self) -> None:
        """Nothing to do: each lane connects before it claims anything."""

    # --- sending -----------------------------------------------------------------------------

    def stream(self, sending: Sending, log: Committer) -> None:
        """Send the whole feed over ``[smtp] connections`` lanes at once."""
        from newsletter.deliver.send.lanes import run_lanes
        from newsletter.deliver.send.smtplane import Lane

        def lane(index: int) -> None:
            Lane(self, sending, log, first=index == 0).run()

        run_lanes(self.config.connections, lane, sending)

    def deliver(self, batch: Sequence[Outgoing], handover: Handover) -> list[Outcome]:
        """``batch`` (already claimed, or proofs) over one connection; one outcome each."""
        from newsletter.deliver.send.clock import SYSTEM_CLOCK
        from newsletter.deliver.send.lanes import Feed, HandoverLog, Pacer, Sending
        from newsletter.deliver.send.run import SendReport
        from newsletter.deliver.send.smtplane import Lane

        log = HandoverLog(batch, handover)
        feed = Feed((), self.build, cast("Personalizer", None))
        for item in batch:
            feed.give_back(item)
        sending = Sending(feed, log, Pacer(None, SYSTEM_CLOCK), SendReport())
        Lane(self, sending, log, first=True).run()
        keys = [o.recipient.key for o in batch]
        return [log.outcomes.get(k) or Outcome(k, "deferred", "not sent") for k in keys]

    # --- what lanes ask -----------------------------------------------------------------------

    @property
    def connect_attempts(self) -> int:
        """Without any SMTP settings, one try: waiting on a guessed server helps no one."""
        return 1 if self.config.defaulted else self.max_attempts

    def backoff(self, attempt: int) -> float:
        return float(min(self.retry_delay * 2 ** (attempt - 1), MAX_BACKOFF))

    def envelope(self, item: Outgoing) -> list[bytes]:
        """MAIL, RCPT and DATA for ``item``; SendError for an address the server cannot take."""
        sender, rcpt = self.config.envelope_from, item.recipient.email
        try:
            return [f"MAIL FROM:<{sender}>\r\n".encode("ascii"),
                    f"RCPT TO:<{rcpt}>\r\n".encode("ascii"), b"DATA\r\n"]  # fmt: skip
        except UnicodeEncodeError:
            raise SendError(f"{rcpt}: an address that is not ASCII needs SMTPUTF8") from None

    def unreachable(self, detail: str) -> SendError:
        if self.config.defaulted:
            return SendError(
                f"newsletter.toml has no [smtp] table, and no mail server answers at the "
                f"default {self.config.describe()}: {detail}",
                hint="add an [smtp] table (host, port, security, username; `newsletter init` "
                "writes a commented one), or set NEWSLETTER_SMTP_HOST, or pass --smtp-host",
            )
        return SendError(
            f"{detail} (after {self.connect_attempts} attempts)",
            hint="check the server is running and [smtp] host/port; rerun to resume",
        )

    def _tls(self) -> ssl.SSLContext:
        """One TLS context for every connection (loading the CA store takes a while)."""
        with self._lock:
            if self._context is None:
                self._context = ssl.create_default_context()
            return self._context

    @staticmethod
    def hang_up(conn: smtplib.SMTP, *, polite: bool) -> None:
        if polite:
            try:
                conn.quit()
                return
            except (smtplib.SMTPException, OSError):
                pass
        with contextlib.suppress(OSError):
            conn.close()

    def connect(self) -> smtplib.SMTP:
        """A new connection, greeted and logged in; Transient when worth trying again."""
        from newsletter.deliver.send.smtplane import Transient, reply_text

        cfg = self.config
        context = self._tls() if cfg.security != "none" else None
        try:
            if cfg.security == "ssl":
                conn: smtplib.SMTP = smtplib.SMTP_SSL(
                    cfg.host, cfg.port, timeout=cfg.timeout, context=context
                )
            else:
                conn = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
            # The "." and the next envelope follow the body at once: without this, Nagle holds
            # them until the server's delayed ACK, some 40 ms a message.
            if conn.sock is not None:
                conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.ehlo()
            if cfg.security == "starttls":
                conn.starttls(context=context)
                conn.ehlo()
            if cfg.username:
                conn.login(cfg.username, cfg.password or "")
        except socket.gaierror as exc:
            raise SendError(
                f"SMTP host {cfg.host!r} not found: {exc.strerror}",
                hint="check [smtp] host, NEWSLETTER_SMTP_HOST or --smtp-host",
            ) from exc
        except ssl.SSLError as exc:
            raise SendError(
                f"TLS with {cfg.describe()} failed: {exc.reason or exc}",
                hint="check the port matches security (587 starttls, 465 ssl) and that the "
                "server's certificate is valid for this host name",
            ) from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise SendError(
                f"{cfg.describe()} refused the login of {cfg.username!r}: "
                f"{reply_text(exc.smtp_code, exc.smtp_error)}",
                hint="check NEWSLETTER_SMTP_USERNAME / [smtp] username and "
                "NEWSLETTER_SMTP_PASSWORD",
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise SendError(
                f"{cfg.describe()}: {exc}",
                hint="the server offers no STARTTLS or no login; check [smtp] security",
            ) from exc
        except smtplib.SMTPResponseException as exc:
            detail = reply_text(exc.smtp_code, exc.smtp_error)
            if exc.smtp_code >= 500:
                raise SendError(f"{cfg.describe()} refused the session: {detail}") from exc
            raise Transient(detail, drop=True) from exc
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise Transient(f"cannot connect to {cfg.describe()}: {exc}", drop=True) from exc
        with self._lock:
            self.opened += 1
        return conn


def open_transport(prepared: Prepared, options: TransportOptions) -> SmtpTransport:
    """``--via smtp``: the ``[smtp]`` settings, with the command line's host and port."""
    config = prepared.config
    smtp = resolve(
        config.smtp, config.newsletter.from_email, host=options.host, port=options.port,
        configured="smtp" in config.model_fields_set,
    )  # fmt: skip
    return SmtpTransport(
        smtp,
        prepared.message_template(),
        max_attempts=options.max_attempts,
        retry_delay=options.retry_delay,
    )
