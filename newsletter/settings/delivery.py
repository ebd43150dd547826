"""[smtp], [send], [providers], [bounces] and [webhooks]: how issues go out, and what comes back."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from newsletter.models import HttpUrl, SingleLine
from newsletter.settings.base import Email, Strict


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
    connections: int = Field(
        default=4, ge=1, le=32, description="SMTP connections at once (one message each)."
    )


class SendSettings(Strict):
    """[send]: personalisation and delivery, shared by `send` and `export`."""

    name_fallback: SingleLine = Field(default="reader", description="For %%name%% when empty.")
    unsubscribe_mailto: Email | None = Field(
        default=None, description="Also offer mailto: in List-Unsubscribe."
    )
    rate: float | None = Field(default=None, gt=0, description="Messages per second.")
    max_attempts: int = Field(default=4, ge=1, le=10, description="Tries after a 4xx reply.")
    retry_delay: float = Field(default=2.0, ge=0, le=300, description="Doubles each retry.")


class ApiSettings(Strict):
    """[providers.NAME]: where a provider's API is and how fast to call it (keys come from
    the environment only: README "Sending through a provider's API")."""

    base_url: HttpUrl | None = Field(
        default=None, description="Overrides the provider's own address (a proxy, a test)."
    )
    timeout: float = Field(default=30.0, gt=0, le=600, description="Seconds per request.")
    rate: float | None = Field(default=10.0, gt=0, description="Requests per second at most.")


class MailgunApi(ApiSettings):
    region: Literal["us", "eu"] = Field(default="us", description="Where the domain lives.")


class MailchimpApi(ApiSettings):
    dc: SingleLine | None = Field(
        default=None, description="Data centre, e.g. us6 (default: from the API key's end)."
    )


class ListmonkApi(ApiSettings):
    url: HttpUrl | None = Field(default=None, description="Your listmonk, e.g. https://lists.x.org")
    rate: float | None = Field(default=None, gt=0, description="Requests per second at most.")


class ProviderSettings(Strict):
    """[providers]: account ids the provider exports need (never API keys), and one table
    per provider API ([providers.sendgrid] ...)."""

    mailchimp_list_id: SingleLine | None = None
    brevo_list_ids: list[int] = Field(default_factory=list)
    listmonk_list_ids: list[int] = Field(default_factory=list)
    sendgrid_asm_group_id: int | None = None
    mailgun_domain: SingleLine | None = Field(default=None, description="Default: from_email's.")
    postmark_message_stream: SingleLine = "broadcast"
    ses_region: SingleLine | None = None
    ses_configuration_set: SingleLine | None = None
    sendgrid: ApiSettings = Field(default_factory=ApiSettings)
    mailgun: MailgunApi = Field(default_factory=MailgunApi)
    postmark: ApiSettings = Field(default_factory=ApiSettings)
    brevo: ApiSettings = Field(default_factory=ApiSettings)
    mailchimp: MailchimpApi = Field(default_factory=MailchimpApi)
    listmonk: ListmonkApi = Field(default_factory=ListmonkApi)


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
