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
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from newsletter.deliver.export.context import (
    ExportContext,
    Request,
    chunks,
    missing_setting,
    server_side,
)
from newsletter.deliver.export.endpoints import base_url
from newsletter.deliver.export.files import from_requests
from newsletter.deliver.export.schedule import send_at
from newsletter.errors import ExportError, SendError

if TYPE_CHECKING:
    import httpx

    from newsletter.deliver.export.prepared import Prepared
    from newsletter.deliver.recipient import Recipient

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


class MailchimpIssue:
    """The issue's Mailchimp requests: members, the campaign, its content, its start."""

    name = "mailchimp"
    import_size = MAX_MEMBERS

    def __init__(self, prepared: Prepared) -> None:
        config = prepared.config
        self.prepared = prepared
        self.list_id = config.providers.mailchimp_list_id
        if not self.list_id:
            raise missing_setting("mailchimp", "mailchimp_list_id", '"a1b2c3d4e5"')
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

        self.merged = server_side(prepared, "mailchimp", tag, forbidden=("*|",))
        self.api = base_url(config, "mailchimp")  # with the data centre: a real URL

    def imports(self, recipients: Iterator[Recipient]) -> Iterator[Request]:
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
                f"{self.api}/lists/{self.list_id}",
                {"members": members, "update_existing": False},
                recipients=len(batch),
            )

    def create(self, when: datetime | None = None) -> Request:
        settings = self.prepared.config.newsletter
        return Request(
            "create-campaign",
            "POST",
            f"{self.api}/campaigns",
            {
                "type": "regular",
                "recipients": {"list_id": self.list_id},
                "settings": {
                    "subject_line": self.prepared.subject,
                    "preview_text": self.prepared.issue.preheader,
                    "title": f"{settings.name} {self.prepared.month}",
                    "from_name": settings.sender,
                    "reply_to": settings.reply_to or settings.from_email,
                },
            },
        )

    def content(self, campaign: str) -> Request:
        return Request(
            "set-content",
            "PUT",
            f"{self.api}/campaigns/{campaign}/content",
            {"html": self.merged.html, "plain_text": self.merged.text},
            note="{campaign_id} is the id the create-campaign response returns",
        )

    def start(self, campaign: str, when: datetime | None) -> Request:
        """``actions/send``, or ``actions/schedule`` at a quarter hour (UTC), as Mailchimp
        schedules only on :00, :15, :30 and :45."""
        url = f"{self.api}/campaigns/{campaign}/actions"
        if when is None:
            return Request("send", "POST", f"{url}/send", None)
        utc = when.astimezone(UTC)
        if utc.minute % 15 or utc.second:
            raise SendError(
                f"Mailchimp schedules only at :00, :15, :30 or :45; send_at is {when.isoformat()}",
                hint="move the issue's send_at to a quarter hour",
            )
        stamp = utc.isoformat(timespec="seconds").replace("+00:00", "Z")
        return Request("schedule", "POST", f"{url}/schedule", {"schedule_time": stamp})

    def created(self, response: httpx.Response) -> str:
        return str(response.json()["id"])

    def import_status(self, response: httpx.Response) -> Request | None:
        return None  # members are in the list when Mailchimp answers

    def import_finished(self, response: httpx.Response) -> bool:
        return True

    @property
    def title(self) -> str:
        return f"{self.prepared.config.newsletter.name} {self.prepared.month}"

    def lookup(self) -> Request:
        query = f"list_id={self.list_id}&count=1000&fields=campaigns.id,campaigns.settings.title"
        return Request("campaigns", "GET", f"{self.api}/campaigns?{query}", None)

    def found(self, response: httpx.Response) -> str | None:
        for campaign in response.json().get("campaigns", []):
            if campaign.get("settings", {}).get("title") == self.title:
                return str(campaign["id"])
        return None


def requests(ctx: ExportContext) -> Iterator[Request]:
    issue = MailchimpIssue(ctx.prepared)
    if ctx.audience is not None:
        yield from issue.imports(ctx.recipients())
    yield issue.create()
    yield issue.content("{campaign_id}")
    when = send_at(ctx.prepared.issue)
    if when is not None:
        yield issue.start("{campaign_id}", when)
    ctx.notes.append(
        "Mailchimp sends to the whole list and handles unsubscribes; keep its list in step "
        "with `newsletter suppress list --format csv`"
    )


export = from_requests(requests)
