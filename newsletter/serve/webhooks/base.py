"""What every provider's webhook shares: the request, the refusal, and the registry."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from newsletter.config import WebhookSettings
from newsletter.store.events import Event, EventLog


class Refused(Exception):
    """The request is not genuine (or not for us): answer ``status`` and change nothing."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Incoming:
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    now: datetime


@dataclass
class Context:
    settings: WebhookSettings
    env: Mapping[str, str]
    log: EventLog
    fetch: Callable[[str], bytes]  # GET an https URL (SNS certificates, subscription links)
    cache: dict[str, Any] = field(default_factory=dict)


class Provider(Protocol):
    name: str

    def configured(self, ctx: Context) -> bool:
        """Whether the operator set this provider's credentials; if not, the URL is 404."""
        ...

    def verify(self, request: Incoming, ctx: Context) -> None:
        """Raise Refused unless the request carries the provider's valid signature."""
        ...

    def events(self, request: Incoming, ctx: Context) -> list[Event]:
        """The request's events, read only after ``verify`` passed."""
        ...


PROVIDERS: dict[str, Provider] = {}


def register(provider: Provider) -> Provider:
    PROVIDERS[provider.name] = provider
    return provider


def json_body(request: Incoming) -> Any:
    try:
        return json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise Refused(400, "the body is not JSON") from None


def obj(value: object) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one (hostile payloads vary)."""
    return value if isinstance(value, dict) else {}


def b64(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise Refused(401, "malformed signature") from None


def basic_or_bearer(request: Incoming, expected: str) -> None:
    """``expected`` is "user:password" (basic auth) or a bearer token."""
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    if scheme.lower() == "basic":
        try:
            value = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise Refused(401, "malformed credentials") from None
    elif scheme.lower() != "bearer":
        raise Refused(401, "credentials required")
    if not hmac.compare_digest(value.encode(), expected.encode()):
        raise Refused(401, "wrong credentials")


def parse_time(value: object, fallback: datetime) -> datetime:
    """An ISO 8601 or Unix time, as an aware datetime."""
    try:
        if isinstance(value, int | float):
            return datetime.fromtimestamp(float(value), UTC)
        if isinstance(value, str) and value:
            if value.replace(".", "", 1).isdigit():
                return datetime.fromtimestamp(float(value), UTC)
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        pass
    return fallback


def fresh(moment: datetime, request: Incoming, ctx: Context) -> None:
    age = abs((request.now - moment).total_seconds())
    if age > ctx.settings.max_age_seconds:
        raise Refused(401, f"the signed time is {int(age)} s away from now (a replay?)")
