"""Brevo (formerly Sendinblue): contacts import, then ``POST /v3/emailCampaigns``.

1. ``POST /v3/contacts/import`` with ``jsonBody`` batches (only with --audience), into the
   configured ``listIds``. Brevo documents no count limit but asks for bodies under ~8 MB;
   1000 contacts per request stays far below that.
2. ``POST /v3/emailCampaigns`` with ``name``, ``sender``, ``subject``, ``previewText``,
   ``htmlContent`` and ``recipients.listIds``.

Brevo personalises and unsubscribes itself: ``{{ unsubscribe }}``, ``{{ contact.FIRSTNAME }}``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

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
from newsletter.errors import SendError

if TYPE_CHECKING:
    import httpx

    from newsletter.deliver.export.prepared import Prepared
    from newsletter.deliver.recipient import Recipient

MAX_CONTACTS = 1000


def _protect(content: str, html: bool) -> str:
    # Brevo's template language reads {{ }} and {% %}; keep the issue's own braces literal.
    return content.replace("{{", "&#123;&#123;").replace("{%", "&#123;%")


class BrevoIssue:
    """The issue's Brevo requests: contact imports, the campaign, and its start."""

    name = "brevo"
    import_size = MAX_CONTACTS

    def __init__(self, prepared: Prepared) -> None:
        config = prepared.config
        self.prepared = prepared
        self.api = base_url(config, "brevo")
        self.list_ids = config.providers.brevo_list_ids
        if not self.list_ids:
            raise missing_setting("brevo", "brevo_list_ids", "[2]")
        fallback = config.send.name_fallback.replace('"', "'")

        def tag(name: str, html: bool) -> str:
            if name == "unsubscribe_url":
                return "{{ unsubscribe }}"
            if name == "preferences_url":
                return "{{ update_profile }}"
            if name == "name":
                return f'{{{{ contact.FIRSTNAME | default : "{fallback}" }}}}'
            return f"{{{{ contact.{name.upper()} }}}}"

        self.merged = server_side(prepared, "brevo", tag, protect=_protect)

    def imports(self, recipients: Iterator[Recipient]) -> Iterator[Request]:
        for number, batch in enumerate(chunks(recipients, MAX_CONTACTS), 1):
            contacts = [
                {
                    "email": r.email,
                    "attributes": {
                        "FIRSTNAME": r.name,
                        **({"LANGUAGE": r.language} if r.language else {}),
                        **{k.upper(): v for k, v in r.fields.items()},
                    },
                }
                for r in batch
            ]
            yield Request(
                f"contacts-import-{number:04d}",
                "POST",
                f"{self.api}/contacts/import",
                {
                    "listIds": self.list_ids,
                    "updateExistingContacts": False,
                    "emptyContactsAttributes": False,
                    "jsonBody": contacts,
                },
                recipients=len(batch),
            )

    def create(self, when: datetime | None = None) -> Request:
        settings = self.prepared.config.newsletter
        body = {
            "name": f"{settings.name} {self.prepared.month}",
            "sender": {"name": settings.sender, "email": settings.from_email},
            "subject": self.prepared.subject,
            "previewText": self.prepared.issue.preheader,
            "htmlContent": self.merged.html,
            "recipients": {"listIds": self.list_ids},
            "replyTo": settings.reply_to or settings.from_email,
            "tag": f"newsletter-{self.prepared.month}",
        }
        if when is not None:
            body["scheduledAt"] = when.isoformat(timespec="seconds")
        return Request("create-email-campaign", "POST", f"{self.api}/emailCampaigns", body)

    def content(self, campaign: str) -> Request | None:
        return None  # the campaign carries its content

    def start(self, campaign: str, when: datetime | None) -> Request:
        """Send now, or set the send time on the draft (which schedules it)."""
        url = f"{self.api}/emailCampaigns/{campaign}"
        if when is None:
            return Request("send-now", "POST", f"{url}/sendNow", None)
        return Request("schedule", "PUT", url, {"scheduledAt": when.isoformat(timespec="seconds")})

    def created(self, response: httpx.Response) -> str:
        return str(response.json()["id"])

    def import_status(self, response: httpx.Response) -> Request | None:
        process = response.json()["processId"]
        return Request("process", "GET", f"{self.api}/processes/{process}", None)

    def import_finished(self, response: httpx.Response) -> bool:
        status = response.json().get("status")
        if status not in ("queued", "in_process", "completed"):
            raise SendError(f"Brevo: the contacts import ended as {status!r}")
        return bool(status == "completed")

    def lookup(self) -> Request:
        return Request("campaigns", "GET", f"{self.api}/emailCampaigns?limit=100&sort=desc", None)

    def found(self, response: httpx.Response) -> str | None:
        name = f"{self.prepared.config.newsletter.name} {self.prepared.month}"
        for campaign in response.json().get("campaigns", []):
            if campaign.get("name") == name:
                return str(campaign["id"])
        return None


def requests(ctx: ExportContext) -> Iterator[Request]:
    issue = BrevoIssue(ctx.prepared)
    if ctx.audience is not None:
        yield from issue.imports(ctx.recipients())
    yield issue.create(send_at(ctx.prepared.issue))  # scheduledAt: Brevo sends it then
    ctx.notes.append(
        "Brevo sends to the lists and handles unsubscribes; create a FIRSTNAME attribute "
        "(and one per custom column) in Brevo before importing"
    )


export = from_requests(requests)
