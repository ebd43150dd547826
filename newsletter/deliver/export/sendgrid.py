"""SendGrid v3 ``POST /v3/mail/send``: one request per 1000 recipients.

Each recipient is one personalization (``to``, ``substitutions``, ``headers``). The content is
shared: merge tokens become substitution tags (``%name%`` in the text part, ``%name__html%``
with an HTML-escaped value in the HTML part), which SendGrid replaces per personalization.
"""

from __future__ import annotations

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

URL = "https://api.sendgrid.com/v3/mail/send"
MAX_PERSONALIZATIONS = 1000
MAX_CATEGORIES = 10


def tag(name: str, html: bool) -> str:
    return f"%{name}{HTML_SUFFIX if html else ''}%"


def requests(ctx: ExportContext) -> Iterator[Request]:
    config = ctx.config
    merged = server_side(ctx.prepared, ctx.provider, tag)
    from_name, from_email = sender(config)
    base: dict[str, Any] = {
        "from": {"email": from_email, "name": from_name},
        "subject": ctx.prepared.subject,
        "content": [
            {"type": "text/plain", "value": merged.text},
            {"type": "text/html", "value": merged.html},
        ],
        "headers": common_headers(config),
        "categories": ["newsletter", ctx.month],
        "custom_args": {"issue": ctx.month},
    }
    if config.newsletter.reply_to:
        base["reply_to"] = {"email": config.newsletter.reply_to}
    if config.providers.sendgrid_asm_group_id is not None:
        base["asm"] = {"group_id": config.providers.sendgrid_asm_group_id}
    for number, batch in enumerate(ctx.batches(MAX_PERSONALIZATIONS), 1):
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
                             for k, v in merged.data(personal).items()}  # fmt: skip
            if substitutions:
                entry["substitutions"] = substitutions
            if recipient.language:
                entry["custom_args"] = {"language": recipient.language}
            personalizations.append(entry)
        yield Request(
            f"mail-send-{number:04d}",
            "POST",
            URL,
            {"personalizations": personalizations, **base},
            recipients=len(batch),
        )


export = from_requests(requests)
