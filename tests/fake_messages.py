"""Fakes of the message APIs: SendGrid v3 mail/send, Mailgun messages, Postmark email/batch.

Each checks what its provider documents (auth, required and known fields, batch limits) and
answers with the provider's status and error shape; every accepted message is counted per
recipient in ``delivered``, and its merged content kept in ``copies``.
"""

from __future__ import annotations

import json
import secrets
import time
from collections import Counter
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakeapi import FakeApi, check_fields, json_error

KEY = "test-api-key-0123456789"


class MessageFake(FakeApi):
    def __init__(self) -> None:
        self.delivered: Counter[str] = Counter()
        self._copies: dict[str, tuple[str, str, dict[str, str], dict[str, str]]] = {}
        self.scheduled: list[Any] = []
        super().__init__()

    def deliver(self, email: str, text: str, html: str, headers: dict[str, str],
                subs: dict[str, str] | None = None) -> None:  # fmt: skip
        self.delivered[email.lower()] += 1
        self._copies[email.lower()] = (text, html, headers, subs or {})

    @property
    def copies(self) -> dict[str, dict[str, Any]]:
        """What each recipient got, merged (on demand: the fake answers fast)."""
        return {
            email: {"text": _sub(text, subs), "html": _sub(html, subs),
                    "headers": {k: _sub(v, subs) for k, v in headers.items()}}
            for email, (text, html, headers, subs) in self._copies.items()
        }  # fmt: skip


# -- SendGrid ---------------------------------------------------------------------------------

SG_TOP = {"personalizations", "from", "reply_to", "reply_to_list", "subject", "content",
          "attachments", "template_id", "headers", "categories", "custom_args", "send_at",
          "batch_id", "asm", "ip_pool_name", "mail_settings", "tracking_settings"}  # fmt: skip
SG_PERSONALIZATION = {"to", "cc", "bcc", "from", "subject", "headers", "substitutions",
                      "dynamic_template_data", "custom_args", "send_at"}  # fmt: skip


def sg_errors(*problems: str) -> JSONResponse:
    return json_error(
        400, {"errors": [{"message": p, "field": p.split(" ")[0], "help": None} for p in problems]}
    )


class FakeSendgrid(MessageFake):
    name = "sendgrid"

    def routes(self) -> list[Route]:
        return [self.route("/v3/mail/send", "mail/send", self.mail_send)]

    def authorized(self, request: Request) -> Response | None:
        if request.headers.get("Authorization") != f"Bearer {KEY}":
            return json_error(401, {"errors": [{"field": None, "help": None, "message":
                              "The provided authorization grant is invalid, expired, or "
                              "revoked"}]})  # fmt: skip
        return None

    async def mail_send(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return sg_errors("body is not JSON")
        problems = check_fields(body, {"personalizations", "from", "subject", "content"},
                                SG_TOP, "body")  # fmt: skip
        if problems:
            return sg_errors(*problems)
        personalizations = body["personalizations"]
        if not 1 <= len(personalizations) <= 1000:
            return sg_errors("personalizations must have between 1 and 1000 items")
        seen: set[str] = set()
        for n, p in enumerate(personalizations):
            problems += check_fields(p, {"to"}, SG_PERSONALIZATION, f"personalizations.{n}")
            for to in p.get("to", []):
                if to["email"].lower() in seen:
                    problems.append(f"personalizations.{n}.to {to['email']} appears twice")
                seen.add(to["email"].lower())
        if len(body.get("categories", [])) > 10:
            problems.append("categories may have at most 10 items")
        if any(not isinstance(v, str) for v in body.get("custom_args", {}).values()):
            problems.append("custom_args values must be strings")
        types = [c.get("type") for c in body["content"]]
        if types[:1] != ["text/plain"] or "text/html" not in types:
            problems.append("content must start with text/plain, then text/html")
        if "send_at" in body:
            if not isinstance(body["send_at"], int) or body["send_at"] > time.time() + 72 * 3600:
                problems.append("send_at must be a unix time at most 72 hours ahead")
            self.scheduled.append(body["send_at"])
        if problems:
            return sg_errors(*problems)
        text, html = (c["value"] for c in body["content"][:2])
        for p in personalizations:
            subs = p.get("substitutions", {})
            for to in p["to"]:
                headers = {**body.get("headers", {}), **p.get("headers", {})}
                self.deliver(to["email"], text, html, headers, subs)
        return Response(status_code=202, headers={"X-Message-Id": secrets.token_hex(11)})


def _sub(content: str, substitutions: dict[str, str]) -> str:
    for tag, value in substitutions.items():
        content = content.replace(tag, value)
    return content


def as_json(value: Any) -> str:
    return json.dumps(value)


# -- Mailgun ----------------------------------------------------------------------------------

MG_FIELDS = {"from", "to", "cc", "bcc", "subject", "text", "html", "amp-html", "template",
             "recipient-variables"}  # fmt: skip
MG_PREFIXES = ("o:", "h:", "v:", "t:")


class FakeMailgun(MessageFake):
    name = "mailgun"
    domain = "oslocancercluster.no"

    def routes(self) -> list[Route]:
        return [self.route(f"/v3/{self.domain}/messages", "messages", self.messages)]

    def authorized(self, request: Request) -> Response | None:
        import base64

        expected = "Basic " + base64.b64encode(f"api:{KEY}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return Response("Forbidden", status_code=401)
        return None

    async def messages(self, request: Request) -> Response:
        form = await request.form(max_fields=5000)
        fields = {k: form.getlist(k) for k in form}
        unknown = [k for k in fields if k not in MG_FIELDS and not k.startswith(MG_PREFIXES)]
        missing = [k for k in ("from", "to", "subject") if k not in fields]
        if unknown or missing or not ({"text", "html"} & set(fields)):
            what = f"missing {missing}" if missing else f"unknown {unknown}"
            return json_error(400, {"message": f"'{what}' parameter is invalid"})
        to = [str(t) for t in fields["to"]]
        if len(to) > 1000:
            return json_error(400, {"message": "Too many recipients: at most 1000"})
        variables = json.loads(str(fields.get("recipient-variables", ["{}"])[0]))
        addresses = [t.rsplit("<", 1)[-1].rstrip(">") for t in to]
        if len(to) > 1 and set(variables) != set(addresses):
            return json_error(400, {"message": "recipient-variables must name every recipient"})
        if "o:deliverytime" in fields:
            from email.utils import parsedate_to_datetime

            try:
                self.scheduled.append(parsedate_to_datetime(str(fields["o:deliverytime"][0])))
            except (TypeError, ValueError):
                return json_error(400, {"message": "o:deliverytime is not an RFC 2822 date"})
        text, html = str(fields["text"][0]), str(fields["html"][0])
        headers = {k[2:]: str(v[0]) for k, v in fields.items() if k.startswith("h:")}
        for address in addresses:
            subs = {f"%recipient.{k}%": v for k, v in variables.get(address, {}).items()}
            self.deliver(address, text, html, headers, subs)
        mid = f"<{secrets.token_hex(8)}@{self.domain}>"
        return JSONResponse({"id": mid, "message": "Queued. Thank you."})


# -- Postmark ---------------------------------------------------------------------------------

PM_FIELDS = {"From", "To", "Cc", "Bcc", "Subject", "Tag", "HtmlBody", "TextBody", "ReplyTo",
             "Headers", "TrackOpens", "TrackLinks", "Metadata", "Attachments",
             "MessageStream"}  # fmt: skip


class FakePostmark(MessageFake):
    name = "postmark"

    def __init__(self) -> None:
        self.inactive: set[str] = set()  # addresses Postmark refuses (ErrorCode 406)
        super().__init__()

    def routes(self) -> list[Route]:
        return [self.route("/email/batch", "email/batch", self.batch)]

    def authorized(self, request: Request) -> Response | None:
        token = request.headers.get("X-Postmark-Server-Token")
        if token != KEY:
            return json_error(401, {"ErrorCode": 10, "Message": "Bad or missing API token"})
        return None

    async def batch(self, request: Request) -> Response:
        try:
            messages = await request.json()
        except ValueError:
            return json_error(422, {"ErrorCode": 402, "Message": "Invalid JSON"})
        if not isinstance(messages, list):
            return json_error(422, {"ErrorCode": 403, "Message": "Incompatible JSON"})
        if len(messages) > 500:
            return json_error(422, {"ErrorCode": 410, "Message": "Too many batch messages"})
        results = []
        for message in messages:
            problems = check_fields(message, {"From", "To", "Subject"}, PM_FIELDS, "message")
            to = str(message.get("To", "")).rsplit("<", 1)[-1].rstrip(">")
            if problems or not ({"HtmlBody", "TextBody"} & set(message)):
                results.append({"ErrorCode": 300, "Message": "; ".join(problems) or "no body"})
            elif to.lower() in self.inactive:
                results.append({"ErrorCode": 406, "To": to, "Message": "Inactive recipient"})
            else:
                headers = {h["Name"]: h["Value"] for h in message.get("Headers", [])}
                self.deliver(to, message.get("TextBody", ""), message.get("HtmlBody", ""), headers)
                results.append({"ErrorCode": 0, "Message": "OK", "To": to,
                                "MessageID": secrets.token_hex(8)})  # fmt: skip
        return JSONResponse(results)
