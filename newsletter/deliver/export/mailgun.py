"""Mailgun ``POST /v3/{domain}/messages`` (form fields): one request per 1000 recipients.

Batch sending: the ``to`` field repeats once per recipient and ``recipient-variables`` (a JSON
object keyed by address) carries each one's values, used in the content as
``%recipient.key%``. With recipient variables Mailgun sends every recipient their own copy.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from newsletter.deliver.export.context import (
    ExportContext,
    Request,
    common_headers,
    sender,
    server_side,
)
from newsletter.deliver.export.files import from_requests
from newsletter.deliver.merge import HTML_SUFFIX
from newsletter.deliver.message import to_header

MAX_RECIPIENTS = 1000
UNSUBSCRIBE_KEY = "_list_unsubscribe"  # CSV columns start with a letter, so this never clashes


def tag(name: str, html: bool) -> str:
    return f"%recipient.{name}{HTML_SUFFIX if html else ''}%"


def requests(ctx: ExportContext) -> Iterator[Request]:
    config = ctx.config
    domain = config.providers.mailgun_domain or config.newsletter.from_email.rsplit("@", 1)[1]
    url = f"{config.providers.mailgun_api.rstrip('/')}/v3/{domain}/messages"
    merged = server_side(ctx.prepared, ctx.provider, tag)
    from_name, from_email = sender(config)
    base: dict[str, Any] = {
        "from": to_header(from_email, from_name),
        "subject": ctx.prepared.subject,
        "text": merged.text,
        "html": merged.html,
        "o:tag": ["newsletter", ctx.month],
        "h:List-Unsubscribe": f"%recipient.{UNSUBSCRIBE_KEY}%",
        **{f"h:{name}": value for name, value in common_headers(config).items()},
    }
    if config.newsletter.reply_to:
        base["h:Reply-To"] = config.newsletter.reply_to
    for number, batch in enumerate(ctx.batches(MAX_RECIPIENTS), 1):
        variables = {}
        for recipient, personal in batch:
            data = merged.data(personal)
            data[UNSUBSCRIBE_KEY] = personal.list_unsubscribe
            variables[recipient.email] = data
        body = {
            **base,
            "to": [to_header(r.email, r.name) for r, _ in batch],
            "recipient-variables": json.dumps(variables, ensure_ascii=False),
        }
        yield Request(
            f"messages-{number:04d}",
            "POST",
            url,
            body,
            recipients=len(batch),
            content_type="multipart/form-data",
            note="form fields; a list means the field repeats",
        )


export = from_requests(requests)
