"""Fakes of the campaign APIs: Brevo v3, Mailchimp Marketing 3.0, listmonk.

Each keeps its lists (contacts imported), its campaigns (``campaigns``) and counts, per
address, the copies a started campaign sends (``delivered``): a second campaign, or one
started twice, shows there. Requests are checked against the documented fields and limits.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import secrets
from collections import Counter
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fake_messages import KEY
from tests.fakeapi import FakeApi, check_fields, json_error

USER = "api-user"


class CampaignFake(FakeApi):
    def __init__(self) -> None:
        self.contacts: dict[str, dict[str, Any]] = {}  # address -> attributes
        self.imports: dict[str, dict[str, dict[str, Any]]] = {}  # still running
        self.campaigns: dict[str, dict[str, Any]] = {}
        self.delivered: Counter[str] = Counter()
        self.scheduled: list[Any] = []
        super().__init__()

    def later(self, contacts: dict[str, dict[str, Any]]) -> str:
        """An import that finishes when it is first asked about (as a background job)."""
        self.imports[str(len(self.imports) + 1)] = contacts
        return str(len(self.imports))

    def finish(self, process: str) -> None:
        contacts = self.imports.pop(process, None)
        if contacts is not None:
            self.add_contacts(contacts)

    def add_contacts(self, contacts: dict[str, dict[str, Any]]) -> None:
        for email, attributes in contacts.items():
            self.contacts.setdefault(email.lower(), attributes)  # never overwrites

    def new_campaign(self, body: dict[str, Any], id: str) -> str:
        self.campaigns[id] = {**body, "id": id, "status": "draft"}
        return id

    def send(self, id: str, when: Any = None) -> Response | None:
        """Start campaign ``id``: every contact gets one copy (a second start is refused)."""
        campaign = self.campaigns.get(id)
        if campaign is None:
            return json_error(404, {"message": f"campaign {id} not found"})
        if campaign["status"] != "draft":
            return json_error(400, {"message": f"campaign {id} was already {campaign['status']}"})
        campaign["status"] = "scheduled" if when is not None else "sent"
        if when is not None:
            self.scheduled.append(when)
        for email in self.contacts:
            self.delivered[email] += 1
        return None


# -- Brevo ------------------------------------------------------------------------------------

BREVO_IMPORT = {"fileUrl", "fileBody", "jsonBody", "listIds", "notifyUrl", "newList",
                "emailBlacklist", "disableNotification", "smsBlacklist",
                "updateExistingContacts", "emptyContactsAttributes"}  # fmt: skip
BREVO_CAMPAIGN = {"tag", "sender", "name", "htmlContent", "htmlUrl", "templateId",
                  "scheduledAt", "subject", "previewText", "replyTo", "toField", "recipients",
                  "attachmentUrl", "inlineImageActivation", "mirrorActive", "footer", "header",
                  "utmCampaign", "params", "sendAtBestTime", "abTesting"}  # fmt: skip


def brevo_error(message: str, code: str = "missing_parameter") -> JSONResponse:
    return json_error(400, {"code": code, "message": message})


class FakeBrevo(CampaignFake):
    name = "brevo"
    finished = 0

    def routes(self) -> list[Route]:
        return [
            self.route("/v3/contacts/import", "contacts/import", self.import_contacts),
            self.route("/v3/emailCampaigns", "emailCampaigns", self.create),
            self.route("/v3/emailCampaigns", "list", self.list, "GET"),
            self.route("/v3/emailCampaigns/{id}/sendNow", "sendNow", self.send_now),
            self.route("/v3/emailCampaigns/{id}", "update", self.update, "PUT"),
            self.route("/v3/processes/{id}", "process", self.process, "GET"),
        ]

    def authorized(self, request: Request) -> Response | None:
        if request.headers.get("api-key") != KEY:
            return json_error(401, {"code": "unauthorized", "message": "Key not found"})
        return None

    async def import_contacts(self, request: Request) -> Response:
        body = await request.json()
        problems = check_fields(body, {"listIds"}, BREVO_IMPORT, "body")
        if problems or not {"fileUrl", "fileBody", "jsonBody"} & set(body):
            return brevo_error("; ".join(problems) or "fileUrl, fileBody or jsonBody is required")
        process = self.later({c["email"]: c.get("attributes", {}) for c in body["jsonBody"]})
        return JSONResponse({"processId": int(process)}, status_code=202)

    async def process(self, request: Request) -> Response:
        process = request.path_params["id"]
        if process not in self.imports and int(process) > self.finished:
            return json_error(404, {"code": "document_not_found", "message": "Process not found"})
        self.finish(process)
        self.finished = max(self.finished, int(process))
        return JSONResponse({"id": int(process), "status": "completed", "name": "import"})

    async def create(self, request: Request) -> Response:
        body = await request.json()
        problems = check_fields(body, {"name", "sender"}, BREVO_CAMPAIGN, "body")
        if problems or not {"htmlContent", "htmlUrl", "templateId"} & set(body):
            return brevo_error("; ".join(problems) or "htmlContent is required")
        id = self.new_campaign(body, str(len(self.campaigns) + 1))
        if "scheduledAt" in body:
            self.send(id, datetime.fromisoformat(body["scheduledAt"]))
        return JSONResponse({"id": int(id)}, status_code=201)

    async def list(self, request: Request) -> Response:
        campaigns = [{"id": int(c["id"]), "name": c["name"], "status": c["status"]}
                     for c in self.campaigns.values()]  # fmt: skip
        return JSONResponse({"campaigns": campaigns, "count": len(campaigns)})

    async def send_now(self, request: Request) -> Response:
        return self.send(request.path_params["id"]) or Response(status_code=204)

    async def update(self, request: Request) -> Response:
        body = await request.json()
        problems = check_fields(body, set(), BREVO_CAMPAIGN, "body")
        if problems:
            return brevo_error("; ".join(problems))
        when = datetime.fromisoformat(body["scheduledAt"]) if "scheduledAt" in body else None
        return self.send(request.path_params["id"], when) or Response(status_code=204)


# -- Mailchimp --------------------------------------------------------------------------------

MC_MEMBER = {"email_address", "email_type", "status", "merge_fields", "interests", "language",
             "vip", "location", "ip_signup", "timestamp_signup", "ip_opt",
             "timestamp_opt"}  # fmt: skip
MC_CAMPAIGN = {"type", "recipients", "settings", "variate_settings", "tracking", "rss_opts",
               "social_card", "content_type"}  # fmt: skip
MC_SETTINGS = {"subject_line", "preview_text", "title", "from_name", "reply_to",
               "use_conversation", "to_name", "folder_id", "authenticate", "auto_footer",
               "inline_css", "auto_tweet", "fb_comments", "template_id"}  # fmt: skip
MC_CONTENT = {"html", "plain_text", "url", "template", "archive", "variate_contents"}


def mc_error(status: int, title: str, detail: str) -> JSONResponse:
    return json_error(status, {"type": "https://mailchimp.com/developer/marketing/docs/errors/",
                               "title": title, "status": status, "detail": detail})  # fmt: skip


class FakeMailchimp(CampaignFake):
    name = "mailchimp"

    def routes(self) -> list[Route]:
        return [
            self.route("/3.0/lists/{list_id}", "lists", self.members),
            self.route("/3.0/campaigns", "campaigns", self.create),
            self.route("/3.0/campaigns", "list", self.list, "GET"),
            self.route("/3.0/campaigns/{id}/content", "content", self.content, "PUT"),
            self.route("/3.0/campaigns/{id}/actions/send", "send", self.send_now),
            self.route("/3.0/campaigns/{id}/actions/schedule", "schedule", self.schedule),
        ]

    def authorized(self, request: Request) -> Response | None:
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            _, _, key = base64.b64decode(header[6:]).decode().partition(":")
            if key == KEY:
                return None
        return mc_error(401, "API Key Invalid", "Your API key may be invalid, or you've "
                        "attempted to access the wrong datacenter.")  # fmt: skip

    async def members(self, request: Request) -> Response:
        body = await request.json()
        problems = check_fields(body, {"members"}, {"members", "update_existing",
                                "sync_tags"}, "body")  # fmt: skip
        if len(body.get("members", [])) > 500:
            problems.append("members: at most 500 per request")
        for n, m in enumerate(body.get("members", [])):
            problems += check_fields(m, {"email_address", "status"}, MC_MEMBER, f"members.{n}")
        if problems:
            return mc_error(400, "Invalid Resource", "; ".join(problems))
        self.add_contacts({m["email_address"]: m.get("merge_fields", {}) for m in body["members"]})
        return JSONResponse({"new_members": [], "updated_members": [], "errors": [],
                             "total_created": len(body["members"]), "total_updated": 0,
                             "error_count": 0})  # fmt: skip

    async def create(self, request: Request) -> Response:
        body = await request.json()
        problems = check_fields(body, {"type"}, MC_CAMPAIGN, "body")
        problems += check_fields(body.get("settings", {}), set(), MC_SETTINGS, "settings")
        if problems:
            return mc_error(400, "Invalid Resource", "; ".join(problems))
        id = self.new_campaign(body, secrets.token_hex(5))
        return JSONResponse({"id": id, "status": "save", **body})

    async def list(self, request: Request) -> Response:
        return JSONResponse({"campaigns": [{"id": c["id"], "settings": c.get("settings", {})}
                                           for c in self.campaigns.values()]})  # fmt: skip

    async def content(self, request: Request) -> Response:
        body = await request.json()
        problems = check_fields(body, set(), MC_CONTENT, "body")
        campaign = self.campaigns.get(request.path_params["id"])
        if campaign is None:
            return mc_error(404, "Resource Not Found", "The requested resource could not be found.")
        if problems:
            return mc_error(400, "Invalid Resource", "; ".join(problems))
        campaign["content"] = body
        return JSONResponse({"html": body.get("html"), "plain_text": body.get("plain_text")})

    def _ready(self, id: str) -> Response | None:
        campaign = self.campaigns.get(id)
        if campaign is None or "content" not in campaign:
            return mc_error(400, "Bad Request", "Your Campaign is not ready to send.")
        return None

    async def send_now(self, request: Request) -> Response:
        id = request.path_params["id"]
        return self._ready(id) or self.send(id) or Response(status_code=204)

    async def schedule(self, request: Request) -> Response:
        id = request.path_params["id"]
        body = await request.json()
        when = datetime.fromisoformat(str(body.get("schedule_time", "")).replace("Z", "+00:00"))
        if when.minute % 15 or when.second:
            return mc_error(400, "Bad Request", "schedule_time must be on a quarter hour")
        return self._ready(id) or self.send(id, when) or Response(status_code=204)


# -- listmonk ---------------------------------------------------------------------------------

LM_CAMPAIGN = {"name", "subject", "lists", "from_email", "type", "content_type", "body",
               "altbody", "send_at", "messenger", "template_id", "tags", "headers", "archive",
               "archive_template_id", "archive_meta"}  # fmt: skip


class FakeListmonk(CampaignFake):
    name = "listmonk"

    def routes(self) -> list[Route]:
        return [
            self.route("/api/import/subscribers", "import", self.import_subscribers),
            self.route("/api/import/subscribers", "import-status", self.import_status, "GET"),
            self.route("/api/campaigns", "campaigns", self.create),
            self.route("/api/campaigns", "list", self.list, "GET"),
            self.route("/api/campaigns/{id}/status", "status", self.status, "PUT"),
        ]

    def authorized(self, request: Request) -> Response | None:
        if request.headers.get("Authorization") != f"token {USER}:{KEY}":
            return json_error(403, {"message": "invalid API credentials"})
        return None

    async def import_subscribers(self, request: Request) -> Response:
        form = await request.form()
        params = json.loads(str(form.get("params", "{}")))
        upload = form.get("file")
        if upload is None or isinstance(upload, str) or not params.get("lists"):
            return json_error(400, {"message": "params (with lists) and file are required"})
        if self.imports:
            return json_error(400, {"message": "An import is already running."})
        rows = csv.DictReader(io.StringIO((await upload.read()).decode()))
        self.later({r["email"]: json.loads(r.get("attributes") or "{}") for r in rows})
        return JSONResponse({"data": {"mode": params.get("mode"), "status": "importing"}})

    async def import_status(self, request: Request) -> Response:
        for process in list(self.imports):
            self.finish(process)
        return JSONResponse({"data": {"status": "finished" if self.contacts else "none"}})

    async def create(self, request: Request) -> Response:
        body = await request.json()
        problems = check_fields(body, {"name", "subject", "lists"}, LM_CAMPAIGN, "body")
        if problems:
            return json_error(400, {"message": "; ".join(problems)})
        id = self.new_campaign(body, str(len(self.campaigns) + 1))
        return JSONResponse({"data": {"id": int(id), "name": body["name"], "status": "draft"}})

    async def list(self, request: Request) -> Response:
        query = request.query_params.get("query", "")
        results = [{"id": int(c["id"]), "name": c["name"], "status": c["status"]}
                   for c in self.campaigns.values() if query in c["name"]]  # fmt: skip
        return JSONResponse({"data": {"results": results, "total": len(results)}})

    async def status(self, request: Request) -> Response:
        id = request.path_params["id"]
        status = (await request.json()).get("status")
        campaign = self.campaigns.get(id, {})
        if status == "scheduled" and not campaign.get("send_at"):
            return json_error(400, {"message": "campaign needs a send_at date to be scheduled"})
        if status not in ("running", "scheduled"):
            return json_error(400, {"message": f"invalid status {status!r}"})
        when = datetime.fromisoformat(campaign["send_at"]) if status == "scheduled" else None
        return self.send(id, when) or JSONResponse({"data": {"id": int(id), "status": status}})
