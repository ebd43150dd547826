"""Mailchimp Marketing API: audience members, then a campaign and its content.

1. ``POST /lists/{list_id}`` with up to 500 ``members`` per request (only with --audience;
   ``update_existing`` is false, so nobody who unsubscribed in Mailchimp is re-subscribed).
2. ``POST /campaigns`` with ``settings.subject_line``, ``preview_text``, ``title`` ...
3. ``PUT /campaigns/{campaign_id}/content`` with ``html`` and ``plain_text``.

Mailchimp personalises and unsubscribes itself, so merge tokens become its merge tags:
``*|UNSUB|*``, ``*|FNAME|*`` (with the fallback name), ``*|EMAIL|*``, ``*|CITY|*`` ...
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from newsletter.deliver.export.context import ExportContext, Request, chunks, server_side
from newsletter.deliver.export.endpoints import base_url
from newsletter.deliver.export.files import from_requests
from newsletter.errors import ExportError

MAX_MEMBERS = 500
_MERGE_TAG = re.compile(r"^[A-Z][A-Z0-9_]{0,9}$")


def merge_tag(name: str) -> str:
    """A custom field's Mailchimp merge tag: upper case, at most 10 characters."""
    upper = name.upper()
    if not _MERGE_TAG.match(upper):
        raise ExportError(
            f"mailchimp: merge field {name!r} cannot be a Mailchimp merge tag (at most 10 "
            "letters, digits or _)",
            hint="rename that column of the audience (and the token in the issue)",
        )
    return upper


def requests(ctx: ExportContext) -> Iterator[Request]:
    config = ctx.config
    prepared = ctx.prepared
    list_id = ctx.setting(config.providers.mailchimp_list_id, "mailchimp_list_id", '"a1b2c3d4e5"')
    fallback = config.send.name_fallback

    def tag(name: str, html: bool) -> str:
        if name == "unsubscribe_url":
            return "*|UNSUB|*"
        if name == "preferences_url":
            return "*|UPDATE_PROFILE|*"
        if name == "email":
            return "*|EMAIL|*"
        if name == "name":
            return f"*|IF:FNAME|**|FNAME|**|ELSE:|*{fallback}*|END:IF|*"
        return f"*|{merge_tag(name)}|*"

    merged = server_side(prepared, "mailchimp", tag, forbidden=("*|",))
    api = base_url(config, "mailchimp")  # with the data centre: a real URL in the manifest
    if ctx.audience is not None:
        recipients = ctx.recipients()
        for number, batch in enumerate(chunks(recipients, MAX_MEMBERS), 1):
            members = []
            for r in batch:
                member: dict[str, Any] = {
                    "email_address": r.email,
                    "status": "subscribed",
                    "merge_fields": {
                        "FNAME": r.name,
                        **{merge_tag(k): v for k, v in r.fields.items()},
                    },
                }
                if r.language:
                    member["language"] = r.language
                members.append(member)
            yield Request(
                f"list-members-{number:04d}",
                "POST",
                f"{api}/lists/{list_id}",
                {"members": members, "update_existing": False},
                recipients=len(batch),
            )
    settings = config.newsletter
    yield Request(
        "create-campaign",
        "POST",
        f"{api}/campaigns",
        {
            "type": "regular",
            "recipients": {"list_id": list_id},
            "settings": {
                "subject_line": prepared.subject,
                "preview_text": prepared.issue.preheader,
                "title": f"{settings.name} {ctx.month}",
                "from_name": settings.sender,
                "reply_to": settings.reply_to or settings.from_email,
            },
        },
    )
    yield Request(
        "set-content",
        "PUT",
        f"{api}/campaigns/{{campaign_id}}/content",
        {"html": merged.html, "plain_text": merged.text},
        note="{campaign_id} is the id the create-campaign response returns",
    )
    ctx.notes.append(
        "Mailchimp sends to the whole list and handles unsubscribes; keep its list in step "
        "with `newsletter suppress list --format csv`"
    )


export = from_requests(requests)
