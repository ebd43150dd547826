"""[serve] and [database]: the subscriber service, where the store lives, and the list's links."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, Field

from newsletter.errors import NewsletterError
from newsletter.models import HttpUrl, SingleLine
from newsletter.settings.base import Strict


class ServeSettings(Strict):
    """[serve]: the subscriber web service (`newsletter serve`)."""

    public_url: HttpUrl | None = Field(
        default=None,
        description="Where subscribers reach the service (https, behind the reverse proxy); "
        "when set, emails and the archive link to its sign-up, preferences and unsubscribe "
        "pages.",
    )
    host: SingleLine = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    trusted_proxies: list[SingleLine] = Field(
        default_factory=lambda: ["127.0.0.1", "::1"],
        description="Addresses whose X-Forwarded-For/-Proto headers are believed.",
    )
    allowed_origins: list[HttpUrl] = Field(
        default_factory=list,
        description="Sites whose embedded sign-up form may post here (e.g. the WordPress site).",
    )
    topics: dict[SingleLine, SingleLine] = Field(
        default_factory=dict, description="Topic id -> label, offered on the sign-up form."
    )
    clicks: bool = Field(
        default=True,
        description="Count clicks per story link through the service's /r/ redirect "
        "(anonymous: nothing about who clicked is stored). Only with public_url.",
    )
    signups_per_ip: int = Field(
        default=10, ge=1, description="Sign-up requests per client address per 10 minutes."
    )
    consent_text: SingleLine = Field(
        default="Yes, send me the monthly newsletter by email. I can unsubscribe at any time "
        "with one click.",
        description="The consent statement shown by the form; its version is kept with "
        "every sign-up.",
    )


@dataclass(frozen=True)
class ListLinks:
    """Where emails and the archive send people to join, leave or change their choices."""

    subscribe: str
    unsubscribe: str  # a signed token is appended per recipient
    preferences: str | None  # None: the unsubscribe page (which offers preferences)
    served: bool  # True: the subscriber service answers them, with per-recipient tokens


def _check_database_url(value: str | None) -> str | None:
    from newsletter.store.url import PASSWORD_HINT, check_scheme, has_password

    if value is None:
        return None
    if has_password(value):
        raise ValueError(f"never store the database password in newsletter.toml; {PASSWORD_HINT}")
    try:
        check_scheme(value, "url")
    except NewsletterError as exc:
        raise ValueError(f"{exc.message.removeprefix('url: ')}; {exc.hint}") from None
    return value


class DatabaseSettings(Strict):
    """[database]: where the store lives. NEWSLETTER_DATABASE_URL wins over it."""

    url: Annotated[str | None, AfterValidator(_check_database_url)] = Field(
        default=None,
        description="sqlite:///PATH (default .newsletter/store.db) or "
        "postgresql://USER@HOST:PORT/DATABASE; the password comes from PGPASSWORD or ~/.pgpass.",
    )
