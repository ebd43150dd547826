"""The service's routes for what happens after a send: provider webhooks and click counts."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from newsletter.serve.security import MAX_WEBHOOK_BODY
from newsletter.serve.webhooks import PROVIDERS, Incoming, Refused

if TYPE_CHECKING:
    from newsletter.serve.service import Service

log = logging.getLogger("newsletter.serve")


async def webhook(request: Request) -> Response:
    service: Service = request.app.state.service
    provider = PROVIDERS.get(request.path_params["provider"])
    ctx = service.webhooks
    if provider is None or not provider.configured(ctx):
        return PlainTextResponse("not found", status_code=404)
    body = await request.body()
    if len(body) > MAX_WEBHOOK_BODY:
        return PlainTextResponse("too large", status_code=413)
    incoming = Incoming({k.lower(): v for k, v in request.headers.items()}, body, service.clock())
    try:
        provider.verify(incoming, ctx)  # nothing is read before the signature holds
        found = provider.events(incoming, ctx)
    except Refused as exc:
        log.warning("webhook %s refused: %s", provider.name, exc.reason)
        return PlainTextResponse(exc.reason, status_code=exc.status)
    taken = service.feedback.take(found, now=incoming.now)
    return JSONResponse({"new": taken.new, "duplicates": taken.duplicates})


async def click(request: Request) -> Response:
    """Count one click on a story link and go there; nothing about the reader is kept."""
    service: Service = request.app.state.service
    target = service.events.click(request.path_params["link"][:24])
    if target is None:
        return PlainTextResponse("unknown link", status_code=404)
    return RedirectResponse(target, status_code=302, headers={"referrer-policy": "no-referrer"})


def now_of(service: Service) -> datetime:
    return service.clock()
