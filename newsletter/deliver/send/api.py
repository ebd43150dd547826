"""One provider API over httpx: pacing, retries with backoff, and what each failure proves.

Every request ends in one of four ways, and the callers act on what each proves:

- a 2xx answer: the provider took it;
- ``Retry``: 429, 5xx or no connection. Nothing was taken (a 5xx is the provider's own
  "try again"), so the same request may go again, after ``Retry-After`` when it says so;
- ``Refused``: another 4xx, the request is wrong (bad key, a field the provider refuses):
  repeating it would not help;
- ``Lost``: the request went out but its answer never came (a read timeout, a dropped
  connection). The provider may have taken it: the caller records it as uncertain and never
  repeats it on its own.

The clock (``monotonic``/``sleep``) is injected, so tests never wait.
"""

from __future__ import annotations

import email.utils
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx

from newsletter.deliver.send.clock import SYSTEM_CLOCK, Clock
from newsletter.errors import SendError

if TYPE_CHECKING:
    from newsletter.deliver.export.context import Request

MAX_BACKOFF = 300.0


class Retry(Exception):
    def __init__(self, detail: str, after: float | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.after = after


class Refused(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status = status
        self.detail = detail


class Lost(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` in seconds: a number of seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def error_detail(response: httpx.Response) -> str:
    """The provider's own words for a refusal, shortened."""
    try:
        body: Any = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            return "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e)
                             for e in errors[:5])[:300]  # fmt: skip
        for key in ("message", "Message", "detail", "title"):
            if body.get(key):
                return str(body[key])[:300]
    return json.dumps(body)[:300]


class ApiClient:
    """Requests to one provider, at most ``rate`` per second, retried on what proves
    nothing was taken."""

    def __init__(
        self,
        provider: str,
        *,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float = 30.0,
        rate: float | None = None,
        max_attempts: int = 4,
        retry_delay: float = 2.0,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.provider = provider
        self.rate = rate
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self.clock = clock
        self.requests = 0  # made, answered or not
        self._next = 0.0
        self.http = httpx.Client(
            headers={"Accept": "application/json", **(headers or {})},
            auth=auth,
            timeout=timeout,
            # Connection failures are retried here (they prove nothing was sent).
            transport=httpx.HTTPTransport(retries=0),
        )

    def close(self) -> None:
        self.http.close()

    def _pace(self) -> None:
        if self.rate:
            delay = self._next - self.clock.monotonic()
            if delay > 0:
                self.clock.sleep(delay)
            self._next = max(self._next, self.clock.monotonic()) + 1 / self.rate

    def once(self, request: Request) -> httpx.Response:
        """One request; raises ``Retry``, ``Refused`` or ``Lost`` (see the module)."""
        self._pace()
        kwargs: dict[str, Any] = {}
        if request.content_type == "application/json":
            kwargs["json"] = request.body
        elif request.attachments:
            kwargs["data"] = request.body
            kwargs["files"] = {k: (name, data) for k, (name, data) in request.attachments.items()}
        else:
            kwargs["data"] = request.body
        self.requests += 1
        try:
            response = self.http.request(request.method, request.url, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise Retry(f"no connection to {self.provider}: {exc}") from exc
        except httpx.TransportError as exc:  # sent, but the answer was lost
            raise Lost(f"{self.provider}'s answer was lost: {type(exc).__name__} {exc}") from exc
        status = response.status_code
        if status == 429 or status >= 500:
            detail = f"HTTP {status}: {error_detail(response)}"
            raise Retry(detail, retry_after(response.headers.get("Retry-After")))
        if status >= 400:
            raise Refused(status, error_detail(response))
        return response

    def backoff(self, attempt: int, after: float | None) -> None:
        """Wait before attempt ``attempt + 1``: ``Retry-After`` when given, else doubling."""
        if attempt < self.max_attempts:
            delay = after if after is not None else self.retry_delay * 2 ** (attempt - 1)
            self.clock.sleep(min(delay, MAX_BACKOFF))

    def call(self, request: Request, doing: str) -> httpx.Response:
        """``once``, retried up to ``max_attempts`` on ``Retry``; a refusal or retries that
        ran out raise SendError. ``Lost`` is left to the caller."""
        detail = ""
        for attempt in range(1, self.max_attempts + 1):
            try:
                return self.once(request)
            except Retry as exc:
                detail = exc.detail
                self.backoff(attempt, exc.after)
            except Refused as exc:
                raise refusal(self.provider, doing, exc) from exc
        raise SendError(
            f"{self.provider}: cannot {doing}: {detail} (tried {self.max_attempts} times)",
            hint="run the same command again later; nothing was sent twice",
        )


def refusal(provider: str, doing: str, exc: Refused, label: str | None = None) -> SendError:
    hint = "check the request's settings in newsletter.toml"
    if exc.status in (401, 403):
        from newsletter.deliver.export.endpoints import API_KEYS

        hint = f"check {API_KEYS.get(provider, 'the API key')} and the key's permissions"
    return SendError(
        f"{label or provider} refused to {doing}: HTTP {exc.status}: {exc.detail}", hint=hint
    )
