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
        self.copies: dict[str, dict[str, Any]] = {}
        self.scheduled: list[Any] = []
        super().__init__()

    def deliver(self, email: str, **copy: Any) -> None:
        self.delivered[email.lower()] += 1
        self.copies[email.lower()] = copy


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
                self.deliver(to["email"], text=_sub(text, subs), html=_sub(html, subs),
                             headers=headers)  # fmt: skip
        return Response(status_code=202, headers={"X-Message-Id": secrets.token_hex(11)})


def _sub(content: str, substitutions: dict[str, str]) -> str:
    for tag, value in substitutions.items():
        content = content.replace(tag, value)
    return content


def as_json(value: Any) -> str:
    return json.dumps(value)
