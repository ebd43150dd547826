"""What a transport is: the Protocol every transport implements, and the handover it calls.

``newsletter.registry.TRANSPORTS`` names a factory per transport (``smtp``, ``ses``), and
the CLI's ``--via`` choices come from there; ``make_transport`` asks it.

A transport gets messages that are already claimed in the send log. It calls
``handover.begin`` right before the point after which the server may accept a message (for
SMTP the final "." of the message, for SES the request), and ``handover.undo`` when the
server then refused it after all, so that only that window is ever recorded as in doubt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from newsletter.deliver.send.clock import SYSTEM_CLOCK, Clock
from newsletter.errors import SendError
from newsletter.registry import TRANSPORTS

if TYPE_CHECKING:
    from newsletter.deliver import merge
    from newsletter.deliver.export.prepared import Prepared
    from newsletter.deliver.recipient import Recipient
    from newsletter.store.sendlog import Outcome


@dataclass
class Outgoing:
    """One recipient's message, built before it is claimed: a build error never claims."""

    recipient: Recipient
    personal: merge.Personal
    data: Any = None  # the MIME bytes for SMTP; SES builds its request per batch


class Handover(Protocol):
    def begin(self, items: Sequence[Outgoing]) -> list[Outgoing]:
        """Mark ``items`` as being handed over, durably; returns those that may go (the
        others are no longer this run's and must not reach the server)."""
        ...

    def undo(self, items: Sequence[Outgoing]) -> None:
        """The server certainly did not accept ``items`` (it refused them)."""
        ...


class Unlogged:
    """The handover of proofs, which are not logged: everything may go."""

    def begin(self, items: Sequence[Outgoing]) -> list[Outgoing]:
        return list(items)

    def undo(self, items: Sequence[Outgoing]) -> None:
        pass


class Transport(Protocol):
    name: str
    batch_size: int

    def describe(self) -> str: ...

    def build(self, recipient: Recipient, personal: merge.Personal) -> Outgoing: ...

    def __enter__(self) -> Transport: ...

    def __exit__(self, *exc: object) -> None: ...

    def open(self) -> None:
        """Be ready to hand messages over (connected, logged in). Called before each batch
        is claimed; raise SendError when that is impossible."""
        ...

    def deliver(self, batch: Sequence[Outgoing], handover: Handover) -> list[Outcome]:
        """One outcome per message, in order. Raise SendError only when none of the batch
        can have reached the server (connection lost for good, sender refused...)."""
        ...


@dataclass(frozen=True)
class TransportOptions:
    """How hard to try, and the command line's overrides of the server to talk to."""

    max_attempts: int = 4
    retry_delay: float = 2.0
    host: str | None = None
    port: int | None = None
    clock: Clock = SYSTEM_CLOCK  # API transports pace and back off on it


@runtime_checkable
class TransportFactory(Protocol):
    def __call__(self, prepared: Prepared, options: TransportOptions, /) -> Transport:
        """A transport for ``prepared``, configured from newsletter.toml and ``options``."""
        ...


def check_via(via: str) -> None:
    if via not in TRANSPORTS:
        raise SendError(f"unknown --via {via!r}", hint=f"choose one of: {TRANSPORTS.choices()}")


def make_transport(
    prepared: Prepared,
    via: str,
    *,
    smtp_host: str | None = None,
    smtp_port: int | None = None,
) -> Transport:
    """The transport ``via`` names, configured from newsletter.toml and the environment."""
    check_via(via)
    factory = TRANSPORTS.get(via)
    if not isinstance(factory, TransportFactory):
        raise TypeError(f"transport {via!r} is registered as {factory!r}, not a factory")
    send = prepared.config.send
    options = TransportOptions(send.max_attempts, send.retry_delay, smtp_host, smtp_port)
    return factory(prepared, options)
