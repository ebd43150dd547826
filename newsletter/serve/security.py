"""What every answer of the service carries, and what every request must pass first."""

from __future__ import annotations

import secrets
import time
from collections import deque
from collections.abc import Callable
from threading import Lock

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Pages load only their own stylesheet; no scripts at all, no framing, no referrer (the
# URLs carry tokens).
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' https: data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "cross-origin-opener-policy": "same-origin",
    "cache-control": "no-store",
}
HSTS = "max-age=31536000; includeSubDomains"
MAX_BODY = 16 * 1024  # a sign-up form is a few hundred bytes
MAX_WEBHOOK_BODY = 5 * 1024 * 1024  # a provider's batch of events


def body_limit(path: str) -> int:
    return MAX_WEBHOOK_BODY if path.startswith("/webhooks/") else MAX_BODY


class SecurityHeaders:
    """Adds the security headers (HSTS on https) and refuses oversized request bodies."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope.get("path", ""))
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await _plain(send, 413, b"Request too large")
            return
        secure = scope.get("scheme") == "https"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {k.lower() for k, _ in headers}
                for name, value in HEADERS.items():
                    if name.encode() not in present:
                        headers.append((name.encode(), value.encode()))
                if secure:
                    headers.append((b"strict-transport-security", HSTS.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, _limited(receive, limit), with_headers)


def _limited(receive: Receive, limit: int) -> Receive:
    """Stops reading a body that grows past ``limit`` without announcing its length."""
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise ValueError("request body too large")
        return message

    return wrapped


async def _plain(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RateLimiter:
    """At most ``limit`` events per key in a sliding ``window`` (seconds), in this process."""

    def __init__(
        self, limit: int, window: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._events: dict[str, deque[float]] = {}
        self._lock = Lock()

    def allow(self, key: str) -> bool:
        now = self.clock()
        with self._lock:
            events = self._events.setdefault(key, deque())
            while events and now - events[0] >= self.window:
                events.popleft()
            if len(events) >= self.limit:
                return False
            events.append(now)
            if len(self._events) > 100_000:  # forget idle keys rather than grow without end
                self._events = {k: v for k, v in self._events.items() if v}
            return True


CSRF_COOKIE = "nl_csrf"


def new_nonce() -> str:
    return secrets.token_urlsafe(18)
