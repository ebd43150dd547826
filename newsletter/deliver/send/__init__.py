"""send: deliver an issue to an audience over SMTP or Amazon SES, at most once per person.

The issue is rendered once; each recipient's copy is filled in from it. Every message is
claimed in the send log once the transport is ready, marked ``sending`` right before the
server may accept it, and recorded (``sent``, ``failed``, ``deferred``) right after, so a
rerun after a crash, Ctrl-C or a failed run resumes where it stopped and never repeats a
message that was accepted. See ``newsletter.store.sendlog`` for the one ambiguous window and
why it is resolved as at-most-once.

- ``plan.py``: who gets it now (``plan_send``); ``run.py``: pacing, claims, records
  (``run_send``), proofs and dry runs; ``transport.py``: what a transport is;
  ``smtp.py`` and ``ses.py``: the transports.
"""

from __future__ import annotations

from newsletter.deliver.export import Prepared
from newsletter.deliver.send.plan import VIAS, Plan, plan_send
from newsletter.deliver.send.run import (
    SYSTEM_CLOCK,
    Clock,
    Pacer,
    SendReport,
    dry_run,
    parse_rate,
    proof_recipients,
    run_send,
    send_proof,
)
from newsletter.deliver.send.transport import Handover, Outgoing, Transport, Unlogged
from newsletter.errors import SendError

__all__ = [
    "SYSTEM_CLOCK",
    "VIAS",
    "Clock",
    "Handover",
    "Outgoing",
    "Pacer",
    "Plan",
    "SendReport",
    "Transport",
    "Unlogged",
    "dry_run",
    "make_transport",
    "parse_rate",
    "plan_send",
    "proof_recipients",
    "run_send",
    "send_proof",
]


def make_transport(
    prepared: Prepared,
    via: str,
    *,
    smtp_host: str | None = None,
    smtp_port: int | None = None,
) -> Transport:
    """The transport ``via`` names, configured from newsletter.toml and the environment."""
    config = prepared.config
    attempts, delay = config.send.max_attempts, config.send.retry_delay
    if via == "smtp":
        from newsletter.deliver.send.smtp import SmtpTransport, resolve

        smtp = resolve(config.smtp, config.newsletter.from_email, host=smtp_host, port=smtp_port)
        return SmtpTransport(
            smtp, prepared.message_template(), max_attempts=attempts, retry_delay=delay
        )
    if via == "ses":
        from newsletter.deliver.send.ses import SesTransport

        return SesTransport(prepared, max_attempts=attempts, retry_delay=delay)
    raise SendError(f"unknown --via {via!r}", hint=f"choose one of: {', '.join(VIAS)}")
