"""The API transports ``newsletter.registry.TRANSPORTS`` names: each provider's auth and
how its answer says who was taken (the requests come from its export module)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from newsletter.deliver.send.campaigns import CampaignTransport
from newsletter.deliver.send.messages import MessageTransport, all_sent
from newsletter.errors import ConfigError
from newsletter.store.sendlog import Outcome

if TYPE_CHECKING:
    from collections.abc import Sequence

    import httpx

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


def mailgun(prepared: Prepared, options: TransportOptions) -> MessageTransport:
    """``--via mailgun``: ``messages`` with ``recipient-variables``, 1000 recipients per
    request (US or EU region); the answer's ``id`` names the batch."""
    from newsletter.deliver.export.mailgun import MailgunIssue

    def message_id(response: httpx.Response) -> str | None:
        body = response.json()
        return str(body["id"]) if isinstance(body, dict) and body.get("id") else None

    return MessageTransport(
        "mailgun", "Mailgun", prepared, options,
        lambda when: MailgunIssue(prepared, when=when),
        all_sent(message_id),
        lambda key: {"auth": ("api", key)},
    )  # fmt: skip


# Postmark's per-message codes that mean "not now" rather than "never".
POSTMARK_LATER = {429, 100}


def _postmark_results(keys: Sequence[str], response: httpx.Response) -> dict[str, Outcome]:
    """Postmark answers 200 for a batch even when single messages were refused: each entry
    says (``ErrorCode`` 0 is accepted), in the order of the messages."""
    results = response.json()
    if not isinstance(results, list) or len(results) != len(keys):
        detail = f"Postmark answered {type(results).__name__} for {len(keys)} messages"
        return {k: Outcome(k, "uncertain", detail) for k in keys}
    outcomes = {}
    for key, result in zip(keys, results, strict=True):
        code = result.get("ErrorCode")
        detail = f"{code}: {result.get('Message', '')}"
        if code == 0:
            outcomes[key] = Outcome(key, "sent", detail, result.get("MessageID"))
        elif code in POSTMARK_LATER:
            outcomes[key] = Outcome(key, "deferred", detail)
        else:
            outcomes[key] = Outcome(key, "failed", detail)
    return outcomes


def postmark(prepared: Prepared, options: TransportOptions) -> MessageTransport:
    """``--via postmark``: ``email/batch``, 500 finished messages per request, each
    result checked."""
    from newsletter.deliver.export.postmark import PostmarkIssue

    return MessageTransport(
        "postmark", "Postmark", prepared, options,
        lambda when: PostmarkIssue(prepared, when=when),
        _postmark_results,
        lambda key: {"headers": {"X-Postmark-Server-Token": key}},
    )  # fmt: skip


def brevo(prepared: Prepared, options: TransportOptions) -> CampaignTransport:
    """``--via brevo``: contacts imports of 1000, a campaign, then ``sendNow`` (or its
    ``scheduledAt`` set)."""
    from newsletter.deliver.export.brevo import BrevoIssue

    return CampaignTransport("Brevo", prepared, options, BrevoIssue(prepared),
                             lambda key: {"headers": {"api-key": key}})  # fmt: skip


def mailchimp(prepared: Prepared, options: TransportOptions) -> CampaignTransport:
    """``--via mailchimp``: list members in 500s, a campaign, its content, then
    ``actions/send`` (or ``actions/schedule``)."""
    from newsletter.deliver.export.mailchimp import MailchimpIssue

    return CampaignTransport("Mailchimp", prepared, options, MailchimpIssue(prepared),
                             lambda key: {"auth": ("newsletter", key)})  # fmt: skip


def listmonk(prepared: Prepared, options: TransportOptions) -> CampaignTransport:
    """``--via listmonk``: one subscriber import, a campaign, then its status ``running``
    (or ``scheduled`` at its ``send_at``)."""
    from newsletter.deliver.export.endpoints import LISTMONK_USER
    from newsletter.deliver.export.listmonk import ListmonkIssue

    def auth(token: str) -> dict[str, object]:
        user = os.environ.get(LISTMONK_USER, "").strip()
        if not user:
            raise ConfigError(
                f"{LISTMONK_USER} is not set; listmonk's API needs the API user's name",
                hint=f"export {LISTMONK_USER}=api-user (and NEWSLETTER_LISTMONK_API_TOKEN)",
            )
        return {"headers": {"Authorization": f"token {user}:{token}"}}

    return CampaignTransport("listmonk", prepared, options, ListmonkIssue(prepared), auth,
                             create_scheduled=True)  # fmt: skip
