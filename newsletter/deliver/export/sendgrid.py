"""SendGrid v3 ``POST /v3/mail/send``: one request per 1000 recipients.

Each recipient is one personalization (``to``, ``substitutions``, ``headers``). The content is
shared: merge tokens become substitution tags (``%name%`` in the text part, ``%name__html%``
with an HTML-escaped value in the HTML part), which SendGrid replaces per personalization.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from newsletter.deliver.export.context import (
    ExportContext,
    Request,
    common_headers,
    sender,
    server_side,
)
from newsletter.deliver.export.endpoints import base_url
from newsletter.deliver.export.files import from_requests
from newsletter.deliver.export.schedule import send_at, within
from newsletter.deliver.merge import HTML_SUFFIX

if TYPE_CHECKING:
    from newsletter.deliver.export.prepared import Prepared
    from newsletter.deliver.merge import Personal
    from newsletter.deliver.recipient import Recipient

MAX_PERSONALIZATIONS = 1000
MAX_CATEGORIES = 10
MAX_SCHEDULE = timedelta(hours=72)


def tag(name: str, html: bool) -> str:
    return f"%{name}{HTML_SUFFIX if html else ''}%"


class SendgridIssue:
    """The issue's ``mail/send`` requests, one per batch of up to 1000 recipients."""

    max_batch = MAX_PERSONALIZATIONS

    def __init__(self, prepared: Prepared, *, when: datetime | None = None) -> None:
        config = prepared.config
        self.url = f"{base_url(config, 'sendgrid')}/v3/mail/send"
        self.merged = server_side(prepared, "sendgrid", tag)
        from_name, from_email = sender(config)
        self.base: dict[str, Any] = {
            "from": {"email": from_email, "name": from_name},
            "subject": prepared.subject,
            "content": [
                {"type": "text/plain", "value": self.merged.text},
                {"type": "text/html", "value": self.merged.html},
            ],
            "headers": common_headers(config),
            "categories": ["newsletter", prepared.month],
            "custom_args": {"issue": prepared.month},
        }
        if config.newsletter.reply_to:
            self.base["reply_to"] = {"email": config.newsletter.reply_to}
        if config.providers.sendgrid_asm_group_id is not None:
            self.base["asm"] = {"group_id": config.providers.sendgrid_asm_group_id}
        if when is not None:
            self.base["send_at"] = int(within(when, MAX_SCHEDULE, "SendGrid").timestamp())

    def request(self, batch: Sequence[tuple[Recipient, Personal]], number: int) -> Request:
        personalizations = []
        for recipient, personal in batch:
            to: dict[str, str] = {"email": recipient.email}
            if recipient.name:
                to["name"] = recipient.name
            entry: dict[str, Any] = {
                "to": [to],
                "headers": {"List-Unsubscribe": personal.list_unsubscribe},
            }
            substitutions = {tag(k.removesuffix(HTML_SUFFIX), k.endswith(HTML_SUFFIX)): v
                             for k, v in self.merged.data(personal).items()}  # fmt: skip
            if substitutions:
                entry["substitutions"] = substitutions
            if recipient.language:
                entry["custom_args"] = {"language": recipient.language}
            personalizations.append(entry)
        return Request(
            f"mail-send-{number:04d}",
            "POST",
            self.url,
            {"personalizations": personalizations, **self.base},
            recipients=len(batch),
        )


def requests(ctx: ExportContext) -> Iterator[Request]:
    issue = SendgridIssue(ctx.prepared, when=send_at(ctx.prepared.issue))
    for number, batch in enumerate(ctx.batches(MAX_PERSONALIZATIONS), 1):
        yield issue.request(batch, number)


export = from_requests(requests)
