"""send: deliver an issue to an audience over SMTP or Amazon SES, at most once per person.

The issue is rendered once; each recipient's copy is filled in from it. Every message is
claimed in the send log once the transport is ready, marked ``sending`` right before the
server may accept it, and recorded (``sent``, ``failed``, ``deferred``) right after, so a
rerun after a crash, Ctrl-C or a failed run resumes where it stopped and never repeats a
message that was accepted. See ``newsletter.store.sendlog`` for the one ambiguous window and
why it is resolved as at-most-once.

- ``plan.py``: who gets it now (``plan_send``); ``run.py``: pacing, claims, records
  (``run_send``), proofs and dry runs; ``transport.py``: what a transport is, and
  ``make_transport`` (from ``newsletter.registry.TRANSPORTS``); ``smtp.py`` and ``ses.py``:
  the transports.
"""

from __future__ import annotations

from newsletter.deliver.send.clock import SYSTEM_CLOCK, Clock
from newsletter.deliver.send.lanes import Pacer
from newsletter.deliver.send.plan import Plan, plan_send, plan_sends
from newsletter.deliver.send.run import (
    SendReport,
    dry_run,
    parse_rate,
    proof_recipients,
    run_send,
    send_proof,
)
from newsletter.deliver.send.transport import (
    Handover,
    Outgoing,
    Transport,
    TransportFactory,
    TransportOptions,
    Unlogged,
    make_transport,
)

__all__ = [
    "SYSTEM_CLOCK",
    "Clock",
    "Handover",
    "Outgoing",
    "Pacer",
    "Plan",
    "SendReport",
    "Transport",
    "TransportFactory",
    "TransportOptions",
    "Unlogged",
    "dry_run",
    "make_transport",
    "parse_rate",
    "plan_send",
    "plan_sends",
    "proof_recipients",
    "run_send",
    "send_proof",
]
