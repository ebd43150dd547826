"""Where each provider's API is, and which environment variable holds its key.

The one owner of provider addresses: export manifests and ``send --via`` both ask here, so
a manifest names the same host (region, data centre) that a send would call. Addresses come
from newsletter.toml (``[providers.NAME] base_url``, Mailgun's ``region``, Mailchimp's
``dc``, listmonk's ``url``); API keys only from the environment, never from a file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from newsletter.errors import ConfigError

if TYPE_CHECKING:
    from newsletter.config import Config

DEFAULTS = {
    "sendgrid": "https://api.sendgrid.com",
    "postmark": "https://api.postmarkapp.com",
    "brevo": "https://api.brevo.com/v3",
    "mailchimp": "https://{dc}.api.mailchimp.com/3.0",
}
MAILGUN = {"us": "https://api.mailgun.net", "eu": "https://api.eu.mailgun.net"}
SES = "https://email.{region}.amazonaws.com"

# The variables that hold each provider's secret (README "Sending through a provider's API").
API_KEYS = {
    "sendgrid": "NEWSLETTER_SENDGRID_API_KEY",
    "mailgun": "NEWSLETTER_MAILGUN_API_KEY",
    "postmark": "NEWSLETTER_POSTMARK_SERVER_TOKEN",
    "brevo": "NEWSLETTER_BREVO_API_KEY",
    "mailchimp": "NEWSLETTER_MAILCHIMP_API_KEY",
    "listmonk": "NEWSLETTER_LISTMONK_API_TOKEN",
}
LISTMONK_USER = "NEWSLETTER_LISTMONK_API_USER"


def api_key(provider: str, env: Mapping[str, str] | None = None) -> str:
    """The provider's API key from the environment, or an error naming the variable."""
    name = API_KEYS[provider]
    value = (os.environ if env is None else env).get(name, "").strip()
    if not value:
        raise ConfigError(
            f"{name} is not set; sending through {provider}'s API needs it",
            hint=f"export {name}=... (API keys are read only from the environment)",
        )
    return value


def mailchimp_dc(config: Config, env: Mapping[str, str] | None = None) -> str:
    """The account's data centre: ``[providers.mailchimp] dc``, else the API key's end."""
    dc = config.providers.mailchimp.dc
    if dc:
        return dc
    key = (os.environ if env is None else env).get(API_KEYS["mailchimp"], "")
    if "-" in key:
        return key.rsplit("-", 1)[1].strip()
    raise ConfigError(
        "newsletter.toml: providers.mailchimp.dc is not set, and no Mailchimp API key says it",
        hint='add [providers.mailchimp] dc = "us6" (the part after "-" in your API key), '
        f"or set {API_KEYS['mailchimp']}",
    )


def base_url(config: Config, provider: str, env: Mapping[str, str] | None = None) -> str:
    """The API's base address (no trailing slash) as newsletter.toml configures it."""
    providers = config.providers
    if provider == "ses":
        region = providers.ses_region or (os.environ if env is None else env).get("AWS_REGION")
        if not region:
            raise ConfigError(
                "newsletter.toml: providers.ses_region is not set (nor AWS_REGION)",
                hint='add it under [providers], e.g. ses_region = "eu-west-1"',
            )
        return SES.format(region=region)
    settings = getattr(providers, provider)
    if settings.base_url:
        return str(settings.base_url).rstrip("/")
    if provider == "mailgun":
        return MAILGUN[providers.mailgun.region]
    if provider == "mailchimp":
        return DEFAULTS["mailchimp"].format(dc=mailchimp_dc(config, env))
    if provider == "listmonk":
        if not providers.listmonk.url:
            raise ConfigError(
                "newsletter.toml: providers.listmonk.url is not set",
                hint='add [providers.listmonk] url = "https://lists.example.org"',
            )
        return str(providers.listmonk.url).rstrip("/")
    return DEFAULTS[provider]
