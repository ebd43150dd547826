"""Typed configuration: ``newsletter.toml`` loaded into Pydantic models.

Every problem is reported with its key, all at once, before anything runs.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from newsletter.errors import ConfigError, format_validation_error
from newsletter.models import HttpUrl, Kind, SingleLine, check_http_url

CONFIG_FILE = "newsletter.toml"
SourceKind = Literal["feed", "page", "wordpress", "folder"]
_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")


def _check_colour(value: str) -> str:
    if not _HEX.match(value):
        raise ValueError(f"must be a hex colour like #1a2b3c, got {value!r}")
    return value.lower()


def _check_email(value: str) -> str:
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None


Colour = Annotated[str, AfterValidator(_check_colour)]
Email = Annotated[str, AfterValidator(_check_email)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewsletterSettings(Strict):
    name: SingleLine = Field(min_length=1)
    from_email: Email
    from_name: SingleLine | None = None
    reply_to: Email | None = None
    language: str = Field(default="en", pattern=r"^[a-z]{2,3}$")
    postal_address: SingleLine = Field(min_length=1)
    about: str = ""
    web_url: HttpUrl = Field(description="Where the web archive is published.")
    unsubscribe_url: HttpUrl = Field(description="One-click unsubscribe endpoint (https).")
    preferences_url: HttpUrl | None = None
    list_id: SingleLine | None = None

    @property
    def sender(self) -> str:
        return self.from_name or self.name


class Brand(Strict):
    primary_color: Colour = "#005f73"
    text_color: Colour = "#1f2933"
    background_color: Colour = "#f4f6f8"
    surface_color: Colour = "#ffffff"
    muted_color: Colour = "#52606d"
    font_family: SingleLine = "Helvetica, Arial, sans-serif"
    logo_url: HttpUrl | None = None
    logo_alt: SingleLine = ""
    logo_width: int = Field(default=180, gt=0, le=600)
    width: int = Field(default=600, ge=320, le=800)


class Source(Strict):
    name: SingleLine = Field(min_length=1)
    kind: SourceKind
    url: str = Field(min_length=1, description="An http(s) URL or a path relative to the project.")
    weight: float = Field(default=1.0, ge=0)
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}$")
    section: SingleLine | None = None
    selectors: dict[str, str] | None = None

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


class ScoreWeights(Strict):
    """How much each signal counts when the draft ranks stories (each signal is 0..1)."""

    recency: float = Field(default=1.0, ge=0)
    source: float = Field(default=1.0, ge=0)
    image: float = Field(default=0.5, ge=0)
    length: float = Field(default=0.5, ge=0)
    kind: float = Field(default=1.0, ge=0)


class SectionRule(Strict):
    """A section of the issue and which stories go in it.

    A story goes to the first rule it matches: all of the rule's kinds, sources and keywords
    lists that are given must match (a keyword matches if any of them occurs).
    """

    title: SingleLine = Field(min_length=1)
    kinds: list[Kind] = Field(default_factory=list)
    sources: list[SingleLine] = Field(default_factory=list)
    keywords: list[SingleLine] = Field(default_factory=list)
    order: Literal["score", "deadline", "published"] = Field(
        default="score",
        description="score: best first; deadline: soonest deadline or event date first.",
    )
    max_stories: int | None = Field(default=None, ge=1)


def _default_kind_weights() -> dict[Kind, float]:
    return {Kind.news: 0.0, Kind.call: 0.6, Kind.event: 0.5, Kind.award: 0.3}


class DraftSettings(Strict):
    max_stories: int = Field(default=8, ge=1, le=50)
    section: SingleLine = Field(default="News", description="For stories no rule places.")
    language: str | None = Field(
        default=None,
        pattern=r"^[a-z]{2,3}$",
        description="Edition language (default: newsletter.language).",
    )
    window: Literal["month", "since-last-issue"] = Field(
        default="since-last-issue",
        description="month: stories of the month only; since-last-issue: also those published "
        "after the previous issue's send date.",
    )
    lookback_days: int = Field(
        default=45, ge=0, le=366,
        description="Calls and events published this many days before the window still count "
        "while their deadline or date is open.",
    )  # fmt: skip
    send_day: int = Field(
        default=1, ge=1, le=28, description="Default send date: this day of the next month."
    )
    max_per_source: int | None = Field(default=None, ge=1)
    max_per_section: int | None = Field(default=None, ge=1)
    max_alternates: int = Field(default=10, ge=0, le=200)
    lead_min_width: int = Field(
        default=400, ge=0, description="A lead image narrower than this (when known) is not used."
    )
    weights: ScoreWeights = Field(default_factory=ScoreWeights)
    kind_weights: dict[Kind, float] = Field(default_factory=_default_kind_weights)
    keywords: dict[str, float] = Field(
        default_factory=dict, description="Boost (or, negative, penalty) per keyword or phrase."
    )
    sections: list[SectionRule] = Field(default_factory=list)


class Config(Strict):
    newsletter: NewsletterSettings
    brand: Brand = Field(default_factory=Brand)
    sources: list[Source] = Field(default_factory=list)
    draft: DraftSettings = Field(default_factory=DraftSettings)

    def source(self, name: str) -> Source:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none"
        raise ConfigError(f"no source named {name!r} in {CONFIG_FILE}", hint=f"known: {known}")


def load_config(path: Path) -> Config:
    """Read and validate ``newsletter.toml``; raise ConfigError listing every problem."""
    if not path.is_file():
        raise ConfigError(
            f"{path}: not found",
            hint="run inside a newsletter project, pass --project DIR, or create one with "
            "`newsletter init DIR`",
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(str(path), exc)) from exc
    names = [s.name for s in config.sources]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"{path}: sources: duplicate source name(s): {', '.join(dupes)}")
    return config
