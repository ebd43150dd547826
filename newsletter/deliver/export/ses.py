"""Amazon SES v2: ``CreateEmailTemplate`` once, then ``SendBulkEmail`` per 50 recipients.

The template holds the issue with ``{{field}}`` placeholders; each bulk entry carries its
recipient's ``ReplacementTemplateData`` (a JSON string) and ``List-Unsubscribe`` header.
SES does not HTML-escape template data, so the HTML part uses ``{{field__html}}`` with an
escaped copy of each value. Text that already reads like ``{{ … }}`` is kept literal by
writing its braces through a placeholder (``{{_lb}}``) whose value is ``{{``.

``newsletter send --via ses`` sends exactly these payloads with boto3.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from newsletter.deliver.export.context import (
    ExportContext,
    Merged,
    Request,
    common_headers,
    sender,
    server_side,
)
from newsletter.deliver.export.endpoints import base_url
from newsletter.deliver.export.files import from_requests
from newsletter.deliver.export.prepared import Prepared
from newsletter.deliver.merge import HTML_SUFFIX, Personal
from newsletter.deliver.message import ascii_header, to_header

if TYPE_CHECKING:
    from newsletter.deliver.recipient import Recipient

MAX_ENTRIES = 50
LEFT_BRACES = "_lb"  # template data key whose value is "{{"; CSV columns start with a letter


def tag(name: str, html: bool) -> str:
    return "{{" + name + (HTML_SUFFIX if html else "") + "}}"


def _protect(content: str, html: bool) -> str:
    return content.replace("{{", "{{" + LEFT_BRACES + "}}")


class SesIssue:
    """The prepared issue as an SES template, and the requests that send it."""

    def __init__(self, prepared: Prepared) -> None:
        self.prepared = prepared
        self.config = prepared.config
        self.merged: Merged = server_side(prepared, "ses", tag, protect=_protect)
        self.subject = _protect(prepared.subject, False)
        self.braces = "{{" + LEFT_BRACES + "}}" in (
            self.merged.text + self.merged.html + self.subject
        )
        digest = hashlib.sha256(
            "\x00".join((self.subject, self.merged.html, self.merged.text)).encode()
        ).hexdigest()[:12]
        self.template_name = f"newsletter-{prepared.month}-{digest}"

    def create_template(self) -> dict[str, Any]:
        return {
            "TemplateName": self.template_name,
            "TemplateContent": {
                "Subject": self.subject,
                "Html": self.merged.html,
                "Text": self.merged.text,
            },
        }

    def _data(self, values: dict[str, str]) -> str:
        if self.braces:
            values = {**values, LEFT_BRACES: "{{"}
        return json.dumps(values, ensure_ascii=False)

    def bulk_email(self, batch: Sequence[tuple[Recipient, Personal]]) -> dict[str, Any]:
        if not 0 < len(batch) <= MAX_ENTRIES:
            raise ValueError(f"SendBulkEmail takes 1 to {MAX_ENTRIES} entries, got {len(batch)}")
        config = self.config
        from_name, from_email = sender(config)
        defaults = {name: "" for name in self.merged.text_fields}
        defaults.update({name + HTML_SUFFIX: "" for name in self.merged.html_fields})
        if "name" in defaults:
            defaults["name"] = config.send.name_fallback
        request: dict[str, Any] = {
            "FromEmailAddress": to_header(from_email, from_name),
            "DefaultContent": {
                "Template": {
                    "TemplateName": self.template_name,
                    "TemplateData": self._data(defaults),
                    "Headers": [
                        {"Name": k, "Value": ascii_header(k, v)}
                        for k, v in common_headers(config).items()
                    ],
                }
            },
            "BulkEmailEntries": [
                {
                    "Destination": {"ToAddresses": [to_header(r.email, r.name)]},
                    "ReplacementEmailContent": {
                        "ReplacementTemplate": {
                            "ReplacementTemplateData": self._data(self.merged.data(p))
                        }
                    },
                    "ReplacementHeaders": [
                        {"Name": "List-Unsubscribe", "Value": p.list_unsubscribe}
                    ],
                }
                for r, p in batch
            ],
            "DefaultEmailTags": [{"Name": "issue", "Value": self.prepared.month}],
        }
        if config.newsletter.reply_to:
            request["ReplyToAddresses"] = [config.newsletter.reply_to]
        if config.providers.ses_configuration_set:
            request["ConfigurationSetName"] = config.providers.ses_configuration_set
        return request


def requests(ctx: ExportContext) -> Iterator[Request]:
    ses = SesIssue(ctx.prepared)
    base = base_url(ctx.config, "ses")  # with the region: a real URL in the manifest
    yield Request("create-email-template", "POST", f"{base}/v2/email/templates",
                  ses.create_template())  # fmt: skip
    for number, batch in enumerate(ctx.batches(MAX_ENTRIES), 1):
        yield Request(
            f"send-bulk-email-{number:04d}",
            "POST",
            f"{base}/v2/email/outbound-bulk-emails",
            ses.bulk_email(batch),
            recipients=len(batch),
        )
    ctx.notes.append(
        "SESv2 request bodies (boto3: sesv2.create_email_template(**body), then "
        "sesv2.send_bulk_email(**body) per file); or run `newsletter send --via ses`"
    )


export = from_requests(requests)
