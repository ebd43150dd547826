"""Signed tokens for the subscriber service: each carries a purpose, and most an expiry.

A token made for one purpose (confirming a sign-up, opening the preference centre, a form's
CSRF check) never verifies for another: the purpose is the signing salt. Unsubscribe links
use the send-time tokens of ``newsletter.signing``, which do not expire, because a
one-click unsubscribe must keep working in every issue ever sent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from newsletter.signing import verify_unsubscribe_token


class Purpose(StrEnum):
    confirm = "confirm"
    preferences = "preferences"
    csrf = "csrf"


# Seconds a token of each purpose stays valid.
LIFETIME = {
    Purpose.confirm: 7 * 24 * 3600,
    Purpose.preferences: 365 * 24 * 3600,
    Purpose.csrf: 2 * 3600,
}


class TokenProblem(StrEnum):
    invalid = "invalid"  # forged, tampered, truncated or made for another purpose
    expired = "expired"


@dataclass(frozen=True)
class Verified:
    data: dict[str, Any] | None
    problem: TokenProblem | None = None

    @property
    def ok(self) -> bool:
        return self.data is not None


class Tokens:
    """Signs and verifies the service's tokens with the project secret and a clock."""

    def __init__(self, secret: bytes, *, clock: Callable[[], float] = time.time) -> None:
        self.secret = secret
        self.clock = clock

    def _serializer(self, purpose: Purpose) -> URLSafeTimedSerializer:
        clock = self.clock

        class Signer(TimestampSigner):
            def get_timestamp(self) -> int:
                return int(clock())

        return URLSafeTimedSerializer(
            self.secret, salt=f"newsletter.{purpose.value}", signer=Signer
        )

    def sign(self, purpose: Purpose, data: dict[str, Any]) -> str:
        return str(self._serializer(purpose).dumps(data))

    def verify(self, purpose: Purpose, token: str) -> Verified:
        if not token or len(token) > 2048:
            return Verified(None, TokenProblem.invalid)
        try:
            data = self._serializer(purpose).loads(token, max_age=LIFETIME[purpose])
        except SignatureExpired:
            return Verified(None, TokenProblem.expired)
        except BadData:
            return Verified(None, TokenProblem.invalid)
        if not isinstance(data, dict):
            return Verified(None, TokenProblem.invalid)
        return Verified(data)

    def unsubscribe_address(self, token: str) -> str | None:
        """The address of a send-time unsubscribe token, or None when it is not genuine."""
        if not token or len(token) > 2048:
            return None
        return verify_unsubscribe_token(self.secret, token)
