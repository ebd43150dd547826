"""Postmark ``POST /email/batch``: up to 500 complete messages per request.

Postmark's batch endpoint takes finished messages, so each recipient's copy is filled here
(the issue is still rendered only once). Postmark answers HTTP 200 even when single messages
are refused: check every entry of the response (``ErrorCode`` 0 means accepted).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from newsletter.deliver import merge
from newsletter.deliver.export.context import ExportContext, Request, common_headers, sender
from newsletter.deliver.export.endpoints import base_url
from newsletter.deliver.export.files import from_requests
from newsletter.deliver.message import to_header
from newsletter.errors import SendError

if TYPE_CHECKING:
    from newsletter.deliver.export.prepared import Prepared
    from newsletter.deliver.merge import Personal
    from newsletter.deliver.recipient import Recipient

MAX_MESSAGES = 500


class PostmarkIssue:
    """The issue's ``email/batch`` requests: up to 500 finished messages each."""

    max_batch = MAX_MESSAGES

    def __init__(self, prepared: Prepared, *, when: datetime | None = None) -> None:
        if when is not None:
            raise SendError(
                f"Postmark cannot schedule a message; the issue's send_at is {when.isoformat()}",
                hint="send at that time with `newsletter send --due` (cron), or remove send_at",
            )
        self.prepared = prepared
        config = prepared.config
        self.url = f"{base_url(config, 'postmark')}/email/batch"
        from_name, from_email = sender(config)
        self.sender = to_header(from_email, from_name)
        self.shared = [{"Name": k, "Value": v} for k, v in common_headers(config).items()]

    def request(self, batch: Sequence[tuple[Recipient, Personal]], number: int) -> Request:
        prepared = self.prepared
        config = prepared.config
        messages = []
        for recipient, personal in batch:
            message = {
                "From": self.sender,
                "To": to_header(recipient.email, recipient.name),
                "Subject": prepared.subject,
                "HtmlBody": merge.fill(prepared.html, personal.values, escape=True),
                "TextBody": merge.fill(prepared.text, personal.values),
                "MessageStream": config.providers.postmark_message_stream,
                "Tag": f"newsletter-{prepared.month}",
                "Headers": [
                    {"Name": "List-Unsubscribe", "Value": personal.list_unsubscribe},
                    *self.shared,
                ],
                "Metadata": {"issue": prepared.month},
            }
            if config.newsletter.reply_to:
                message["ReplyTo"] = config.newsletter.reply_to
            messages.append(message)
        return Request(
            f"email-batch-{number:04d}",
            "POST",
            self.url,
            messages,
            recipients=len(batch),
            note="check each result: ErrorCode 0 means accepted",
        )


def requests(ctx: ExportContext) -> Iterator[Request]:
    issue = PostmarkIssue(ctx.prepared)  # no scheduling at Postmark
    for number, batch in enumerate(ctx.batches(MAX_MESSAGES), 1):
        yield issue.request(batch, number)


export = from_requests(requests)
