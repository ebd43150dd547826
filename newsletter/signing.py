"""Send-time signatures: each recipient's unsubscribe token, and the parts of a Message-ID.

The key comes from the ``NEWSLETTER_SECRET`` environment variable and never from a file, so
it cannot end up in git. Unsubscribe tokens do not expire: a one-click unsubscribe must keep
working in every issue ever sent. Both the send (``deliver.merge``) and the subscriber
service (``tokens``) verify them here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Mapping

from newsletter.errors import ConfigError

SECRET_ENV = "NEWSLETTER_SECRET"
MIN_SECRET_LENGTH = 16


def load_secret(env: Mapping[str, str] | None = None) -> bytes:
    """The signing key from the environment; a clear error when it is missing or too short."""
    value = (os.environ if env is None else env).get(SECRET_ENV, "")
    if len(value) < MIN_SECRET_LENGTH:
        problem = "is not set" if not value else f"is shorter than {MIN_SECRET_LENGTH} characters"
        raise ConfigError(
            f"{SECRET_ENV} {problem}: personal unsubscribe links are signed with it",
            hint=f"set it in the environment, e.g. export {SECRET_ENV}=$(python -c "
            "'import secrets; print(secrets.token_urlsafe(32))'); keep the same value for "
            "every send, and never put it in a file in git",
        )
    return value.encode("utf-8")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def mac(secret: bytes, purpose: str, *parts: str) -> bytes:
    message = "\x1f".join((purpose, *parts)).encode("utf-8")
    return hmac.new(secret, message, hashlib.sha256).digest()


def unsubscribe_token(secret: bytes, email: str) -> str:
    """``v1.<address>.<signature>``: the address (case-folded) and an HMAC over it."""
    address = email.lower()
    return f"v1.{b64(address.encode('utf-8'))}.{b64(mac(secret, 'unsubscribe', address)[:18])}"


def verify_unsubscribe_token(secret: bytes, value: str) -> str | None:
    """The address a token was made for, or None when it is forged or malformed."""
    try:
        version, address_b64, signature = value.split(".")
        address = unb64(address_b64).decode("utf-8")
        given = unb64(signature)
    except (ValueError, UnicodeDecodeError):
        return None
    if version != "v1":
        return None
    expected = mac(secret, "unsubscribe", address)[:18]
    return address if hmac.compare_digest(given, expected) else None
