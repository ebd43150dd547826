"""Typed configuration: ``newsletter.toml`` loaded into Pydantic models.

Every problem is reported with its key, all at once, before anything runs.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from newsletter.errors import ConfigError, NewsletterError, format_validation_error
from newsletter.imagesettings import ImageSettings
from newsletter.models import HttpUrl, Kind, SingleLine, check_http_url
from newsletter.registry import SOURCE_KINDS

CONFIG_FILE = "newsletter.toml"
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


Colour = Annotated[str, AfterValidator(_check_colour)]
Email = Annotated[str, AfterValidator(_check_email)]
FontStack = Annotated[str, AfterValidator(_check_font_stack)]
UtmValue = Annotated[str, AfterValidator(_check_utm_value)]


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

    @property
    def edition_languages(self) -> list[str]:
        """The languages the newsletter is published in, the default edition first."""
        return [self.language]


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


def _no_password(value: str | None) -> None:
    if value is not None:
        raise ValueError(
            "never store the SMTP password in newsletter.toml; set NEWSLETTER_SMTP_PASSWORD "
            "in the environment instead"
        )
    return None


class SmtpSettings(Strict):
    """[smtp]: direct sending. NEWSLETTER_SMTP_* variables and --smtp-host/--smtp-port win."""

    host: SingleLine = "localhost"
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: SingleLine | None = None
    password: Annotated[str | None, AfterValidator(_no_password)] = None
    timeout: float = Field(default=30.0, gt=0, le=600, description="Seconds per SMTP reply.")
    envelope_from: Email | None = Field(default=None, description="Bounce address.")


class SendSettings(Strict):
    """[send]: personalisation and delivery, shared by `send` and `export`."""

    name_fallback: SingleLine = Field(default="reader", description="For %%name%% when empty.")
    unsubscribe_mailto: Email | None = Field(
        default=None, description="Also offer mailto: in List-Unsubscribe."
    )
    rate: float | None = Field(default=None, gt=0, description="Messages per second.")
    max_attempts: int = Field(default=4, ge=1, le=10, description="Tries after a 4xx reply.")
    retry_delay: float = Field(default=2.0, ge=0, le=300, description="Doubles each retry.")


class ProviderSettings(Strict):
    """[providers]: account ids the provider exports need (never API keys)."""

    mailchimp_list_id: SingleLine | None = None
    brevo_list_ids: list[int] = Field(default_factory=list)
    listmonk_list_ids: list[int] = Field(default_factory=list)
    sendgrid_asm_group_id: int | None = None
    mailgun_domain: SingleLine | None = Field(default=None, description="Default: from_email's.")
    mailgun_api: HttpUrl = "https://api.mailgun.net"
    postmark_message_stream: SingleLine = "broadcast"
    ses_region: SingleLine | None = None
    ses_configuration_set: SingleLine | None = None


class BounceSettings(Strict):
    """[bounces]: when bounces stop mail to an address (hard bounces and complaints: at once)."""

    soft_limit: int = Field(default=3, ge=1, le=100, description="Soft bounces that suppress.")
    soft_window_days: int = Field(default=30, ge=1, le=365)
    mailbox: SingleLine | None = Field(
        default=None,
        description="Where bounce mail arrives: imaps://user@host/INBOX, a Maildir folder or "
        "an mbox file (the IMAP password from NEWSLETTER_BOUNCE_PASSWORD).",
    )


class WebhookSettings(Strict):
    """[webhooks]: provider event intake on `newsletter serve` (secrets come from the
    environment: NEWSLETTER_MAILGUN_WEBHOOK_KEY, NEWSLETTER_POSTMARK_WEBHOOK_AUTH,
    NEWSLETTER_BREVO_WEBHOOK_AUTH)."""

    sns_topic_arns: list[SingleLine] = Field(
        default_factory=list, description="The SNS topics whose SES events are taken."
    )
    sns_cert_hosts: list[SingleLine] = Field(
        default_factory=lambda: [r"sns\.[a-z0-9-]+\.amazonaws\.com"],
        description="Hosts (regular expressions) the SNS signing certificate may come from.",
    )
    sendgrid_public_key: SingleLine | None = Field(
        default=None, description="The Event Webhook's verification key (base64 DER)."
    )
    max_age_seconds: int = Field(
        default=3600, ge=60, le=86400, description="Older signed events are refused as replays."
    )


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
