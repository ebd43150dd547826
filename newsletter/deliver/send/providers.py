"""The API transports ``newsletter.registry.TRANSPORTS`` names: each provider's auth and
how its answer says who was taken (the requests come from its export module)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from newsletter.deliver.send.messages import MessageTransport, all_sent

if TYPE_CHECKING:
    from newsletter.deliver.export.prepared import Prepared
    from newsletter.deliver.send.transport import TransportOptions


def _bearer(key: str) -> dict[str, object]:
    return {"headers": {"Authorization": f"Bearer {key}"}}


def sendgrid(prepared: Prepared, options: TransportOptions) -> MessageTransport:
    """``--via sendgrid``: v3 ``mail/send``, 1000 personalizations per request (202 +
    ``X-Message-Id``)."""
    from newsletter.deliver.export.sendgrid import SendgridIssue

    return MessageTransport(
        "sendgrid", "SendGrid", prepared, options,
        lambda when: SendgridIssue(prepared, when=when),
        all_sent(lambda response: response.headers.get("X-Message-Id")),
        _bearer,
    )  # fmt: skip
