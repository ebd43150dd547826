"""Mailgun ``POST /v3/{domain}/messages`` (form fields): one request per 1000 recipients.

Batch sending: the ``to`` field repeats once per recipient and ``recipient-variables`` (a JSON
object keyed by address) carries each one's values, used in the content as
``%recipient.key%``. With recipient variables Mailgun sends every recipient their own copy.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
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
from newsletter.deliver.message import to_header

if TYPE_CHECKING:
    from newsletter.deliver.export.prepared import Prepared
    from newsletter.deliver.merge import Personal
    from newsletter.deliver.recipient import Recipient

MAX_RECIPIENTS = 1000
MAX_SCHEDULE = timedelta(days=3)
UNSUBSCRIBE_KEY = "_list_unsubscribe"  # CSV columns start with a letter, so this never clashes


def tag(name: str, html: bool) -> str:
    return f"%recipient.{name}{HTML_SUFFIX if html else ''}%"


class MailgunIssue:
    """The issue's ``messages`` requests, one per batch of up to 1000 recipients."""

    max_batch = MAX_RECIPIENTS

    def __init__(self, prepared: Prepared, *, when: datetime | None = None) -> None:
        config = prepared.config
        domain = config.providers.mailgun_domain or config.newsletter.from_email.rsplit("@", 1)[1]
        self.url = f"{base_url(config, 'mailgun')}/v3/{domain}/messages"
        self.merged = server_side(prepared, "mailgun", tag)
        from_name, from_email = sender(config)
        self.base: dict[str, Any] = {
            "from": to_header(from_email, from_name),
            "subject": prepared.subject,
            "text": self.merged.text,
            "html": self.merged.html,
            "o:tag": ["newsletter", prepared.month],
            "h:List-Unsubscribe": f"%recipient.{UNSUBSCRIBE_KEY}%",
            **{f"h:{name}": value for name, value in common_headers(config).items()},
        }
        if config.newsletter.reply_to:
            self.base["h:Reply-To"] = config.newsletter.reply_to
        if when is not None:
            when = within(when, MAX_SCHEDULE, "Mailgun")
            self.base["o:deliverytime"] = format_datetime(when.astimezone(UTC))

    def request(self, batch: Sequence[tuple[Recipient, Personal]], number: int) -> Request:
        variables = {}
        for recipient, personal in batch:
            data = self.merged.data(personal)
            data[UNSUBSCRIBE_KEY] = personal.list_unsubscribe
            variables[recipient.email] = data
        body = {
            **self.base,
            "to": [to_header(r.email, r.name) for r, _ in batch],
            "recipient-variables": json.dumps(variables, ensure_ascii=False),
        }
        return Request(
            f"messages-{number:04d}",
            "POST",
            self.url,
            body,
            recipients=len(batch),
            content_type="multipart/form-data",
            note="form fields; a list means the field repeats",
        )


def requests(ctx: ExportContext) -> Iterator[Request]:
    issue = MailgunIssue(ctx.prepared, when=send_at(ctx.prepared.issue))
    for number, batch in enumerate(ctx.batches(MAX_RECIPIENTS), 1):
        yield issue.request(batch, number)


export = from_requests(requests)
