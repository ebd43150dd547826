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

from newsletter.deliver.export.context import (
    ExportContext,
    Request,
    common_headers,
    sender,
    server_side,
)
from newsletter.deliver.export.files import from_requests
from newsletter.deliver.message import to_header


def _protect(content: str, html: bool) -> str:
    # Go templates read {{ }}; keep the issue's own braces literal.
    return content.replace("{{", "&#123;&#123;" if html else '{{ "{{" }}')


def requests(ctx: ExportContext) -> Iterator[Request]:
    config = ctx.config
    prepared = ctx.prepared
    list_ids = ctx.setting(config.providers.listmonk_list_ids, "listmonk_list_ids", "[1]")
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

    merged = server_side(prepared, "listmonk", tag, protect=_protect)
    listmonk = config.providers.listmonk.url
    root = str(listmonk).rstrip("/") if listmonk else ""  # relative: a note says to what
    if ctx.audience is not None:
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer)
        writer.writerow(["email", "name", "attributes"])
        count = 0
        for r in ctx.recipients():
            attributes = dict(r.fields)
            if r.language:
                attributes["language"] = r.language
            writer.writerow([r.email, r.name, json.dumps(attributes, ensure_ascii=False)])
            count += 1
        params = {
            "mode": "subscribe",
            "subscription_status": "confirmed",
            "delim": ",",
            "lists": list_ids,
            "overwrite": False,
        }
        yield Request(
            "import-subscribers",
            "POST",
            f"{root}/api/import/subscribers",
            {"params": json.dumps(params)},
            recipients=count,
            content_type="multipart/form-data",
            attachments={"file": ("subscribers.csv", buffer.getvalue().encode("utf-8"))},
        )
    settings = config.newsletter
    from_name, from_email = sender(config)
    yield Request(
        "create-campaign",
        "POST",
        f"{root}/api/campaigns",
        {
            "name": f"{settings.name} {ctx.month}",
            "subject": prepared.subject,
            "lists": list_ids,
            "from_email": to_header(from_email, from_name),
            "type": "regular",
            "content_type": "html",
            "messenger": "email",
            "body": merged.html,
            "altbody": merged.text,
            "tags": ["newsletter", ctx.month],
            # listmonk adds List-Unsubscribe(-Post) itself.
            "headers": [
                {k: v} for k, v in common_headers(config).items() if k != "List-Unsubscribe-Post"
            ],
        },
    )
    yield Request(
        "start-campaign",
        "PUT",
        f"{root}/api/campaigns/{{campaign_id}}/status",
        {"status": "running"},
        note="starts sending; {campaign_id} is the id the create-campaign response returns",
    )
    if not root:
        ctx.notes.append(
            "URLs are relative to your listmonk address; set [providers.listmonk] url to "
            "have it here"
        )


export = from_requests(requests)
