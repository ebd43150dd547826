"""Typed configuration: ``newsletter.toml`` loaded into Pydantic models.

Every problem is reported with its key, all at once, before anything runs. The content and
drafting sections are here; ``newsletter.settings`` holds ``[[sources]]`` and ``[collect]``,
the delivery sections (``[smtp]``, ``[send]``, ``[providers]``, ``[bounces]``,
``[webhooks]``) and the service's (``[serve]``, ``[database]``). Import them all from here.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    Field,
    ValidationError,
    model_validator,
)

from newsletter.errors import ConfigError
from newsletter.models import HttpUrl, Kind, SingleLine
from newsletter.settings.base import Email, Strict
from newsletter.settings.delivery import (
    BounceSettings,
    ProviderSettings,
    SendSettings,
    SmtpSettings,
    WebhookSettings,
)
from newsletter.settings.editions import EditionSettings, check_edition_code
from newsletter.settings.images import ImageSettings
from newsletter.settings.service import DatabaseSettings, ListLinks, ServeSettings
from newsletter.settings.sources import SELECTOR_KEYS, CollectSettings, Source

CONFIG_FILE = "newsletter.toml"
_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")


def _check_colour(value: str) -> str:
    if not _HEX.match(value):
        raise ValueError(f"must be a hex colour like #1a2b3c, got {value!r}")
    return value.lower()


def _check_font_stack(value: str) -> str:
    # Goes into CSS as is: letters, digits, spaces, commas, hyphens and quotes only.
    if not re.fullmatch(r"[\w \-,'\"]+", value):
        raise ValueError(f"must be a CSS font list like 'Georgia, serif', got {value!r}")
    return value.strip()


def _check_utm_value(value: str) -> str:
    placeholders = set(re.findall(r"\{([^}]*)\}", value)) - {"month"}
    if placeholders:
        raise ValueError(f"unknown placeholder {{{sorted(placeholders)[0]}}}; only {{month}}")
    if not re.fullmatch(r"[\w.{}~-]+", value):
        raise ValueError(f"use letters, digits, '-', '_', '.' and '~' only, got {value!r}")
    return value


def _unique_editions(codes: list[str]) -> list[str]:
    if len({c.lower() for c in codes}) != len(codes):
        raise ValueError("each language may appear once")
    return codes


EditionCode = Annotated[str, AfterValidator(check_edition_code)]
Colour = Annotated[str, AfterValidator(_check_colour)]
FontStack = Annotated[str, AfterValidator(_check_font_stack)]
UtmValue = Annotated[str, AfterValidator(_check_utm_value)]


class NewsletterSettings(Strict):
    name: SingleLine = Field(min_length=1)
    from_email: Email
    from_name: SingleLine | None = None
    reply_to: Email | None = None
    language: str = Field(default="en", pattern=r"^[a-z]{2,3}$")
    editions: Annotated[list[EditionCode], AfterValidator(_unique_editions)] = Field(
        default_factory=list,
        description="The editions' languages (BCP 47), the default edition first; "
        "default: one edition in `language`.",
    )
    postal_address: SingleLine = Field(min_length=1)
    about: str = ""
    web_url: HttpUrl = Field(description="Where the web archive is published.")
    unsubscribe_url: HttpUrl | None = Field(
        default=None,
        description="One-click unsubscribe endpoint (https); not needed when [serve] "
        "public_url is set, since the service answers it.",
    )
    preferences_url: HttpUrl | None = None
    subscribe_url: HttpUrl | None = Field(
        default=None, description="Sign-up page linked from the web archive (default: web_url)."
    )
    list_id: SingleLine | None = None

    @property
    def sender(self) -> str:
        return self.from_name or self.name

    @model_validator(mode="after")
    def _editions(self) -> NewsletterSettings:
        fixed = "language" in self.model_fields_set
        if self.editions and fixed and self.language != self.editions[0]:
            raise ValueError(
                f"language: {self.language!r} is not the first of editions; with editions, "
                "the first one is the default edition (leave language out)"
            )
        return self

    @property
    def edition_languages(self) -> list[str]:
        """The languages the newsletter is published in, the default edition first."""
        return list(self.editions) or [self.language]


class Brand(Strict):
    """Theme tokens for the templates; ``newsletter check`` verifies their contrast."""

    primary_color: Colour = "#005f73"
    text_color: Colour = "#1f2933"
    background_color: Colour = "#f4f6f8"
    surface_color: Colour = "#ffffff"
    muted_color: Colour = "#52606d"
    link_color: Colour | None = Field(default=None, description="Default: primary_color.")
    header_text_color: Colour = "#ffffff"
    button_text_color: Colour = "#ffffff"
    font_family: FontStack = "Helvetica, Arial, sans-serif"
    heading_font_family: FontStack | None = None
    logo_url: HttpUrl | None = None
    logo_alt: SingleLine = ""
    logo_width: int = Field(default=180, gt=0, le=600)
    width: int = Field(default=600, ge=320, le=800)
    # Dark mode (Apple Mail, Outlook for Mac/iOS, Outlook.com): derived when not given.
    dark_background_color: Colour | None = None
    dark_surface_color: Colour | None = None
    dark_text_color: Colour | None = None
    dark_muted_color: Colour | None = None
    dark_link_color: Colour | None = None


class UtmSettings(Strict):
    """Analytics parameters added to outbound story links (never to unsubscribe or web links)."""

    enabled: bool = True
    source: UtmValue = "newsletter"
    medium: UtmValue = "email"
    campaign: UtmValue = Field(default="{month}", description="{month} becomes YYYY-MM.")
    content: UtmValue | None = None

    def params(self, month: str) -> dict[str, str]:
        if not self.enabled:
            return {}
        values = {
            "utm_source": self.source,
            "utm_medium": self.medium,
            "utm_campaign": self.campaign,
            "utm_content": self.content,
        }
        return {k: v.replace("{month}", month) for k, v in values.items() if v}


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
    has_deadline: bool | None = Field(
        default=None, description="true: only stories with a deadline; false: only without."
    )
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
    section_order: list[SingleLine] = Field(
        default_factory=list,
        description="Section titles in the order they appear (default: the rules' order).",
    )


class Config(Strict):
    newsletter: NewsletterSettings
    brand: Brand = Field(default_factory=Brand)
    utm: UtmSettings = Field(default_factory=UtmSettings)
    sources: list[Source] = Field(default_factory=list)
    collect: CollectSettings = Field(default_factory=CollectSettings)
    images: ImageSettings = Field(default_factory=ImageSettings)
    draft: DraftSettings = Field(default_factory=DraftSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    send: SendSettings = Field(default_factory=SendSettings)
    providers: ProviderSettings = Field(default_factory=ProviderSettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    bounces: BounceSettings = Field(default_factory=BounceSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    editions: dict[str, EditionSettings] = Field(
        default_factory=dict, description="Per edition: [editions.nb] about, postal_address..."
    )

    @model_validator(mode="after")
    def _edition_tables(self) -> Config:
        known = self.newsletter.edition_languages
        for code in self.editions:
            if code not in known:
                raise ValueError(
                    f"editions.{code}: no such edition; [newsletter] editions lists "
                    f"{', '.join(known)}"
                )
        return self

    @model_validator(mode="after")
    def _has_unsubscribe(self) -> Config:
        if self.newsletter.unsubscribe_url is None and self.serve.public_url is None:
            raise ValueError(
                "newsletter.unsubscribe_url: required unless [serve] public_url is set (the "
                "subscriber service then answers unsubscribes)"
            )
        return self

    def list_links(self) -> ListLinks:
        """The one place that decides the sign-up, unsubscribe and preferences links."""
        settings, public = self.newsletter, self.serve.public_url
        if public:
            base = public.rstrip("/")
            return ListLinks(
                subscribe=f"{base}/subscribe",
                unsubscribe=f"{base}/unsubscribe",
                preferences=f"{base}/preferences",
                served=True,
            )
        assert settings.unsubscribe_url is not None  # checked when the config was read
        return ListLinks(
            subscribe=settings.subscribe_url or settings.web_url.rstrip("/") + "/",
            unsubscribe=settings.unsubscribe_url,
            preferences=settings.preferences_url,
            served=False,
        )

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
    from newsletter import configerrors

    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(
            configerrors.describe(path, text, Config, exc),
            hint="fix the lines above; every key is checked before a command runs",
        ) from exc
    names = [s.name for s in config.sources]
    for i, name in enumerate(names):
        if name in names[:i]:
            line = configerrors.line_of(configerrors.key_lines(text), ("sources", i, "name"))
            where = f"line {line}, " if line else ""
            raise ConfigError(f"{path}: {where}sources.{i}.name: duplicate source name {name!r}")
    return config


__all__ = [
    "CONFIG_FILE",
    "SELECTOR_KEYS",
    "BounceSettings",
    "Brand",
    "CollectSettings",
    "Config",
    "DatabaseSettings",
    "DraftSettings",
    "EditionSettings",
    "Email",
    "ListLinks",
    "NewsletterSettings",
    "ProviderSettings",
    "ScoreWeights",
    "SectionRule",
    "SendSettings",
    "ServeSettings",
    "SmtpSettings",
    "Source",
    "Strict",
    "UtmSettings",
    "WebhookSettings",
    "load_config",
]
