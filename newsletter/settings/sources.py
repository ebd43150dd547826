"""[[sources]] and [collect]: what is collected, and how politely."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from newsletter.models import SingleLine, check_http_url
from newsletter.registry import SOURCE_KINDS
from newsletter.settings.base import Strict

SELECTOR_KEYS = ("item", "title", "link", "date", "summary", "image")


class CollectSettings(Strict):
    """How ``collect`` fetches: limits that keep a slow or hostile server from stalling a run."""

    timeout: float = Field(default=20.0, gt=0, le=600, description="Read timeout, in seconds.")
    connect_timeout: float = Field(default=10.0, gt=0, le=120)
    total_timeout: float = Field(
        default=120.0, gt=0, le=3600, description="Longest one request may take, in seconds."
    )
    max_mb: float = Field(default=20.0, gt=0, le=500, description="Largest response, in MB.")
    retries: int = Field(default=2, ge=0, le=10, description="Retries after HTTP 429 or 5xx.")
    backoff: float = Field(
        default=1.0, ge=0, le=60, description="First wait before a retry (doubles each time)."
    )
    max_retry_wait: float = Field(
        default=30.0, ge=0, le=600, description="A longer Retry-After fails the source instead."
    )
    per_host: int = Field(default=2, ge=1, le=16, description="Parallel requests per host.")
    concurrency: int = Field(default=8, ge=1, le=64, description="Sources fetched at once.")
    max_items: int = Field(default=500, ge=1, description="Newest items kept per source.")
    workers: int | None = Field(
        default=None,
        ge=0,
        le=64,
        description="Processes that parse web feeds (at most one per CPU core); 0 or 1 parse "
        "in-process; unset: one per core when there are several web feeds.",
    )
    user_agent: SingleLine | None = None


class Source(Strict):
    name: SingleLine = Field(min_length=1)
    kind: str = Field(description="How the source is read: " + SOURCE_KINDS.choices() + ".")
    url: str = Field(min_length=1, description="An http(s) URL or a path relative to the project.")
    weight: float = Field(default=1.0, ge=0)
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}$")
    section: SingleLine | None = None
    selectors: dict[str, str] | None = Field(
        default=None, description="page: CSS selectors for " + ", ".join(SELECTOR_KEYS) + "."
    )
    timeout: float | None = Field(
        default=None, gt=0, le=600, description="Read timeout in seconds (default: [collect])."
    )
    max_items: int | None = Field(default=None, ge=1, description="Default: [collect] max_items.")
    max_pages: int = Field(default=10, ge=1, le=100, description="wordpress: pages to read.")
    follow_links: bool = Field(
        default=False, description="page: fetch each linked article for its body and image."
    )

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in SOURCE_KINDS:
            raise ValueError(f"unknown kind {value!r}; use {SOURCE_KINDS.choices()}")
        return value

    @field_validator("selectors")
    @classmethod
    def _known_selectors(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        unknown = sorted(set(value or {}) - set(SELECTOR_KEYS))
        if unknown:
            raise ValueError(f"unknown selector {unknown[0]!r}; use {', '.join(SELECTOR_KEYS)}")
        return value

    @property
    def is_remote(self) -> bool:
        return self.url.startswith(("http://", "https://"))

    def location(self, root: Path) -> str | Path:
        """The URL, or the local path resolved against the project root."""
        if self.is_remote:
            check_http_url(self.url)
            return self.url
        path = Path(self.url)
        return path if path.is_absolute() else root / path
