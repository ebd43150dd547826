"""Sending over SMTP: one connection, reused and reopened when the server drops it.

Settings come from ``[smtp]`` in newsletter.toml, then ``NEWSLETTER_SMTP_*`` environment
variables, then ``--smtp-host``/``--smtp-port``; the password only ever from
``NEWSLETTER_SMTP_PASSWORD``. ``security`` is ``starttls`` (port 587), ``ssl`` (465) or
``none`` (a local relay; a password is then refused, so it never crosses the network in clear).

Replies: 2xx accepted; 4xx (and a dropped connection before the message was complete) is
retried with exponential backoff, up to ``[send] max_attempts``, then left ``deferred`` for
the next run; 5xx is a permanent failure for that recipient. The transaction is driven step
by step (MAIL, RCPT, DATA, the text, the final ".") so the code knows what the server has
seen. The message is marked ``sending`` in the send log after its text went out and right
before the final "." does: only a crash or a connection lost while waiting for the reply to
that "." is ambiguous, and that message is reported as uncertain instead of being sent again.
A refusal of the final "." (4xx) takes the mark back before the retry.
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import socket
import ssl
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
    from newsletter.deliver.merge import Personal
    from newsletter.deliver.message import MessageTemplate
    from newsletter.deliver.recipient import Recipient

ENV = "NEWSLETTER_SMTP_"
Security = Literal["starttls", "ssl", "none"]
MAX_BACKOFF = 300.0
_LEADING_DOT = re.compile(rb"(?m)^\.")
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
    config = SmtpConfig(
        host=host or var("HOST") or settings.host,
        port=port_value,
        security=cast(Security, security),
        username=var("USERNAME") or settings.username,
        password=env.get(ENV + "PASSWORD") or None,
        timeout=timeout,
        envelope_from=settings.envelope_from or envelope_from,
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


class _Transient(Exception):
    """The server did not take the message, but may later: retry."""

    def __init__(self, detail: str, *, drop: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.drop = drop


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return f"{code} {' '.join(text.split())}"


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
    ) -> None:
        self.config = config
        self.template = template
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self.sleep = sleep
        self.conn: smtplib.SMTP | None = None
        self.connections = 0  # how many times a connection was opened (tests, summary)

    def describe(self) -> str:
        return self.config.describe()

    def build(self, recipient: Recipient, personal: Personal) -> Outgoing:
        return Outgoing(recipient, personal, self.template.render(personal))

    def __enter__(self) -> SmtpTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.quit()
            except (smtplib.SMTPException, OSError):
                self.conn.close()
            self.conn = None

    def _drop(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(OSError):
                self.conn.close()
            self.conn = None

    # --- connecting ---------------------------------------------------------------------------

    def _connect(self) -> smtplib.SMTP:
        if self.conn is not None:
            return self.conn
        cfg = self.config
        context = ssl.create_default_context()
        try:
            if cfg.security == "ssl":
                conn: smtplib.SMTP = smtplib.SMTP_SSL(
                    cfg.host, cfg.port, timeout=cfg.timeout, context=context
                )
            else:
                conn = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
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
                f"{_reply(exc.smtp_code, exc.smtp_error)}",
                hint="check NEWSLETTER_SMTP_USERNAME / [smtp] username and "
                "NEWSLETTER_SMTP_PASSWORD",
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise SendError(
                f"{cfg.describe()}: {exc}",
                hint="the server offers no STARTTLS or no login; check [smtp] security",
            ) from exc
        except smtplib.SMTPResponseException as exc:
            detail = _reply(exc.smtp_code, exc.smtp_error)
            if exc.smtp_code >= 500:
                raise SendError(f"{cfg.describe()} refused the session: {detail}") from exc
            raise _Transient(detail, drop=True) from exc
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise _Transient(f"cannot connect to {cfg.describe()}: {exc}", drop=True) from exc
        self.conn = conn
        self.connections += 1
        return conn

    def open(self) -> None:
        """Connected (and logged in), retrying with backoff; nothing is claimed meanwhile.

        Without any SMTP settings there is one try: waiting on a guessed server helps no one.
        """
        attempts = 1 if self.config.defaulted else self.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                self._connect()
                return
            except _Transient as exc:
                detail = exc.detail
                self._drop()
            if attempt < attempts:
                self._backoff(attempt)
        if self.config.defaulted:
            raise SendError(
                f"newsletter.toml has no [smtp] table, and no mail server answers at the "
                f"default {self.config.describe()}: {detail}",
                hint="add an [smtp] table (host, port, security, username; `newsletter init` "
                "writes a commented one), or set NEWSLETTER_SMTP_HOST, or pass --smtp-host",
            )
        raise SendError(
            f"{detail} (after {self.max_attempts} attempts)",
            hint="check the server is running and [smtp] host/port; rerun to resume",
        )

    def _backoff(self, attempt: int) -> None:
        self.sleep(min(self.retry_delay * 2 ** (attempt - 1), MAX_BACKOFF))

    # --- one message --------------------------------------------------------------------------

    def deliver(self, batch: Sequence[Outgoing], handover: Handover) -> list[Outcome]:
        return [self._send(item, handover) for item in batch]

    def _send(self, item: Outgoing, handover: Handover) -> Outcome:
        detail = ""
        for attempt in range(1, self.max_attempts + 1):
            try:
                return self._transaction(self._connect(), item, handover)
            except _Transient as exc:
                detail = exc.detail
                if exc.drop:
                    self._drop()
            if attempt < self.max_attempts:
                self._backoff(attempt)  # still claimed, never in doubt: a crash here frees it
        detail = f"{detail} (after {self.max_attempts} attempts)"
        return Outcome(item.recipient.key, "deferred", detail)

    def _reset(self, conn: smtplib.SMTP) -> None:
        try:
            conn.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _transaction(self, conn: smtplib.SMTP, item: Outgoing, handover: Handover) -> Outcome:
        """MAIL, RCPT, DATA, the text, then "." once the handover is logged; returns the
        outcome or raises _Transient to retry."""
        key = item.recipient.key
        sender = self.config.envelope_from
        try:
            code, reply = conn.mail(sender)
            if code != 250:
                self._reset(conn)
                if code >= 500:
                    raise SendError(
                        f"{self.config.describe()} refuses the sender {sender}: "
                        f"{_reply(code, reply)}",
                        hint="check [newsletter] from_email or [smtp] envelope_from is allowed "
                        "to send through this server",
                    )
                raise _Transient(_reply(code, reply), drop=code == 421)
            code, reply = conn.rcpt(item.recipient.email)
            if code not in (250, 251):
                self._reset(conn)
                if code >= 500:
                    return Outcome(key, "failed", _reply(code, reply))
                raise _Transient(_reply(code, reply), drop=code == 421)
            conn.putcmd("data")
            code, reply = conn.getreply()
            if code != 354:
                self._reset(conn)
                if code >= 500:
                    return Outcome(key, "failed", _reply(code, reply))
                raise _Transient(_reply(code, reply), drop=code == 421)
            text = _LEADING_DOT.sub(b"..", item.data)
            conn.send(text if text.endswith(b"\r\n") else text + b"\r\n")
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            # The server cannot have taken a message it never got to the end of.
            raise _Transient(f"connection lost: {exc or type(exc).__name__}", drop=True) from exc
        try:
            ours = handover.begin([item])
        except BaseException:
            self._drop()  # a message without its final "." is discarded by the server
            raise
        if not ours:
            self._drop()
            return Outcome(key, "skipped", "taken over by another run")
        try:
            conn.send(b".\r\n")
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            handover.undo([item])  # the "." did not leave whole: the server cannot accept it
            raise _Transient(f"connection lost: {exc or type(exc).__name__}", drop=True) from exc
        try:
            code, reply = conn.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            return Outcome(
                key,
                "uncertain",
                f"connection lost while the server was accepting the message: {exc}",
            )
        if code == 250:
            return Outcome(key, "sent", _reply(code, reply), item.personal.message_id)
        if code >= 500:
            return Outcome(key, "failed", _reply(code, reply))
        handover.undo([item])
        raise _Transient(_reply(code, reply), drop=code == 421)


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
