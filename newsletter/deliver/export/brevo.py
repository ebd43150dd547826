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

from newsletter.deliver.export.context import ExportContext, Request, chunks, server_side
from newsletter.deliver.export.files import from_requests

API = "https://api.brevo.com/v3"
MAX_CONTACTS = 1000


def _protect(content: str, html: bool) -> str:
    # Brevo's template language reads {{ }} and {% %}; keep the issue's own braces literal.
    return content.replace("{{", "&#123;&#123;").replace("{%", "&#123;%")


def requests(ctx: ExportContext) -> Iterator[Request]:
    config = ctx.config
    prepared = ctx.prepared
    list_ids = ctx.setting(config.providers.brevo_list_ids, "brevo_list_ids", "[2]")
    fallback = config.send.name_fallback.replace('"', "'")

    def tag(name: str, html: bool) -> str:
        if name == "unsubscribe_url":
            return "{{ unsubscribe }}"
        if name == "preferences_url":
            return "{{ update_profile }}"
        if name == "name":
            return f'{{{{ contact.FIRSTNAME | default : "{fallback}" }}}}'
        return f"{{{{ contact.{name.upper()} }}}}"

    merged = server_side(prepared, "brevo", tag, protect=_protect)
    if ctx.audience is not None:
        for number, batch in enumerate(chunks(ctx.recipients(), MAX_CONTACTS), 1):
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
                f"{API}/contacts/import",
                {
                    "listIds": list_ids,
                    "updateExistingContacts": False,
                    "emptyContactsAttributes": False,
                    "jsonBody": contacts,
                },
                recipients=len(batch),
            )
    settings = config.newsletter
    yield Request(
        "create-email-campaign",
        "POST",
        f"{API}/emailCampaigns",
        {
            "name": f"{settings.name} {ctx.month}",
            "sender": {"name": settings.sender, "email": settings.from_email},
            "subject": prepared.subject,
            "previewText": prepared.issue.preheader,
            "htmlContent": merged.html,
            "recipients": {"listIds": list_ids},
            "replyTo": settings.reply_to or settings.from_email,
            "tag": f"newsletter-{ctx.month}",
        },
    )
    ctx.notes.append(
        "Brevo sends to the lists and handles unsubscribes; create a FIRSTNAME attribute "
        "(and one per custom column) in Brevo before importing"
    )


export = from_requests(requests)
