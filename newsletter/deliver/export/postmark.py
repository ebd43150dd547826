"""Postmark ``POST /email/batch``: up to 500 complete messages per request.

Postmark's batch endpoint takes finished messages, so each recipient's copy is filled here
(the issue is still rendered only once). Postmark answers HTTP 200 even when single messages
are refused: check every entry of the response (``ErrorCode`` 0 means accepted).
"""

from __future__ import annotations

from collections.abc import Iterator

from newsletter.deliver import merge
from newsletter.deliver.export.context import ExportContext, Request, common_headers, sender
from newsletter.deliver.export.files import from_requests
from newsletter.deliver.message import to_header

URL = "https://api.postmarkapp.com/email/batch"
MAX_MESSAGES = 500


def requests(ctx: ExportContext) -> Iterator[Request]:
    config = ctx.config
    prepared = ctx.prepared
    from_name, from_email = sender(config)
    shared = [{"Name": k, "Value": v} for k, v in common_headers(config).items()]
    for number, batch in enumerate(ctx.batches(MAX_MESSAGES), 1):
        messages = []
        for recipient, personal in batch:
            message = {
                "From": to_header(from_email, from_name),
                "To": to_header(recipient.email, recipient.name),
                "Subject": prepared.subject,
                "HtmlBody": merge.fill(prepared.html, personal.values, escape=True),
                "TextBody": merge.fill(prepared.text, personal.values),
                "MessageStream": config.providers.postmark_message_stream,
                "Tag": f"newsletter-{ctx.month}",
                "Headers": [
                    {"Name": "List-Unsubscribe", "Value": personal.list_unsubscribe},
                    *shared,
                ],
                "Metadata": {"issue": ctx.month},
            }
            if config.newsletter.reply_to:
                message["ReplyTo"] = config.newsletter.reply_to
            messages.append(message)
        yield Request(
            f"email-batch-{number:04d}",
            "POST",
            URL,
            messages,
            recipients=len(batch),
            note="check each result: ErrorCode 0 means accepted",
        )


export = from_requests(requests)
