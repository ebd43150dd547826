"""listmonk (self-hosted): a subscriber import, then ``POST /api/campaigns``.

1. ``POST /api/import/subscribers`` (multipart: ``params`` JSON + a CSV ``file``), only with
   --audience. listmonk runs one import at a time, so the whole audience is one file.
2. ``POST /api/campaigns`` with ``name``, ``subject``, ``lists``, ``from_email``, ``body``,
   ``altbody`` ...
3. ``PUT /api/campaigns/{campaign_id}/status`` with ``running``: this one starts sending.

URLs are relative to your listmonk address. listmonk personalises with Go templates
(``{{ UnsubscribeURL }}``, ``{{ .Subscriber.Name }}``) and adds List-Unsubscribe itself.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from newsletter.deliver.export.context import (
    ExportContext,
    Request,
    common_headers,
    missing_setting,
    sender,
    server_side,
)
from newsletter.deliver.export.endpoints import base_url
from newsletter.deliver.export.files import from_requests
from newsletter.deliver.export.schedule import send_at
from newsletter.deliver.message import to_header
from newsletter.errors import SendError

if TYPE_CHECKING:
    import httpx

    from newsletter.deliver.export.prepared import Prepared
    from newsletter.deliver.recipient import Recipient


def _protect(content: str, html: bool) -> str:
    # Go templates read {{ }}; keep the issue's own braces literal.
    return content.replace("{{", "&#123;&#123;" if html else '{{ "{{" }}')


class ListmonkIssue:
    """The issue's listmonk requests: one subscriber import, the campaign, its start."""

    name = "listmonk"
    import_size = 10**9  # one import at a time: the whole audience is one file

    def __init__(self, prepared: Prepared, *, relative: bool = False) -> None:
        config = prepared.config
        self.prepared = prepared
        self.list_ids = config.providers.listmonk_list_ids
        if not self.list_ids:
            raise missing_setting("listmonk", "listmonk_list_ids", "[1]")
        fallback = json.dumps(config.send.name_fallback)

        def tag(name: str, html: bool) -> str:
            if name == "unsubscribe_url":
                return "{{ UnsubscribeURL }}"
            if name == "preferences_url":
                return "{{ ManageURL }}"
            if name == "name":
                return f"{{{{ or .Subscriber.Name {fallback} }}}}"
            if name == "email":
                return "{{ .Subscriber.Email }}"
            return f"{{{{ .Subscriber.Attribs.{name} }}}}"

        self.merged = server_side(prepared, "listmonk", tag, protect=_protect)
        # An export may leave the address out (relative URLs); a send needs it.
        self.api = "" if relative else base_url(config, "listmonk")

    def imports(self, recipients: Iterator[Recipient]) -> Iterator[Request]:
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer)
        writer.writerow(["email", "name", "attributes"])
        count = 0
        for r in recipients:
            attributes = dict(r.fields)
            if r.language:
                attributes["language"] = r.language
            writer.writerow([r.email, r.name, json.dumps(attributes, ensure_ascii=False)])
            count += 1
        params = {
            "mode": "subscribe",
            "subscription_status": "confirmed",
            "delim": ",",
            "lists": self.list_ids,
            "overwrite": False,
        }
        yield Request(
            "import-subscribers",
            "POST",
            f"{self.api}/api/import/subscribers",
            {"params": json.dumps(params)},
            recipients=count,
            content_type="multipart/form-data",
            attachments={"file": ("subscribers.csv", buffer.getvalue().encode("utf-8"))},
        )

    def create(self, when: datetime | None = None) -> Request:
        config = self.prepared.config
        settings = config.newsletter
        from_name, from_email = sender(config)
        body = {
            "name": f"{settings.name} {self.prepared.month}",
            "subject": self.prepared.subject,
            "lists": self.list_ids,
            "from_email": to_header(from_email, from_name),
            "type": "regular",
            "content_type": "html",
            "messenger": "email",
            "body": self.merged.html,
            "altbody": self.merged.text,
            "tags": ["newsletter", self.prepared.month],
            # listmonk adds List-Unsubscribe(-Post) itself.
            "headers": [
                {k: v} for k, v in common_headers(config).items() if k != "List-Unsubscribe-Post"
            ],
        }
        if when is not None:
            body["send_at"] = when.isoformat(timespec="seconds")
        return Request("create-campaign", "POST", f"{self.api}/api/campaigns", body)

    def content(self, campaign: str) -> Request | None:
        return None  # the campaign carries its content

    def start(self, campaign: str, when: datetime | None) -> Request:
        """``running`` starts sending; ``scheduled`` waits for the campaign's ``send_at``."""
        return Request(
            "start-campaign",
            "PUT",
            f"{self.api}/api/campaigns/{campaign}/status",
            {"status": "running" if when is None else "scheduled"},
            note="starts sending; {campaign_id} is the id the create-campaign response returns",
        )

    def created(self, response: httpx.Response) -> str:
        return str(response.json()["data"]["id"])

    @property
    def title(self) -> str:
        return f"{self.prepared.config.newsletter.name} {self.prepared.month}"

    def import_status(self, response: httpx.Response) -> Request | None:
        return Request("import-status", "GET", f"{self.api}/api/import/subscribers", None)

    def import_finished(self, response: httpx.Response) -> bool:
        status = response.json().get("data", {}).get("status")
        if status in ("failed", "stopped"):
            raise SendError(f"listmonk: the subscriber import {status}; see its import log")
        return bool(status == "finished")

    def lookup(self) -> Request:
        from urllib.parse import quote

        url = f"{self.api}/api/campaigns?per_page=all&query={quote(self.title)}"
        return Request("campaigns", "GET", url, None)

    def found(self, response: httpx.Response) -> str | None:
        for campaign in response.json().get("data", {}).get("results", []):
            if campaign.get("name") == self.title:
                return str(campaign["id"])
        return None


def requests(ctx: ExportContext) -> Iterator[Request]:
    issue = ListmonkIssue(ctx.prepared, relative=not ctx.config.providers.listmonk.url)
    when = send_at(ctx.prepared.issue)
    if ctx.audience is not None:
        yield from issue.imports(ctx.recipients())
    yield issue.create(when)
    yield issue.start("{campaign_id}", when)
    if not issue.api:
        ctx.notes.append(
            "URLs are relative to your listmonk address; set [providers.listmonk] url to "
            "have it here"
        )


export = from_requests(requests)
