"""Per-recipient merge tokens.

An issue is rendered once with neutral tokens such as ``%%unsubscribe_url%%``; exports and
sends then fill them per recipient (or translate them to a provider's own merge syntax),
so MJML is never compiled per recipient.

Each recipient's unsubscribe link carries an HMAC-signed token. The key comes from the
``NEWSLETTER_SECRET`` environment variable and never from a file, so it cannot end up in git.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

from newsletter.config import Config
from newsletter.errors import ConfigError

if TYPE_CHECKING:
    from newsletter.deliver.audience import Recipient

# Fields every recipient has; an audience's extra CSV columns add custom ones.
FIELDS = ("unsubscribe_url", "preferences_url", "name", "email", "language")
_TOKEN_RE = re.compile(r"%%([a-z][a-z0-9_]*)%%")
TOKEN_RE = _TOKEN_RE
FIELD_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
SECRET_ENV = "NEWSLETTER_SECRET"
MIN_SECRET_LENGTH = 16
HTML_SUFFIX = "__html"  # providers get an HTML-escaped copy of a value under this key suffix


def token(name: str) -> str:
    if name not in FIELDS:
        raise KeyError(name)
    return f"%%{name}%%"


def fill(template: str, values: Mapping[str, str], *, escape: bool = False) -> str:
    """Replace every known token; unknown ones are left for ``check`` to report.

    ``escape=True`` HTML-escapes the values, for the HTML part.
    """

    def value(match: re.Match[str]) -> str:
        found = values.get(match.group(1))
        if found is None:
            return match.group(0)
        return html.escape(found) if escape else found

    return _TOKEN_RE.sub(value, template)


def fields_in(*templates: str) -> list[str]:
    """The merge fields used in ``templates``, in order of first use."""
    seen: dict[str, None] = {}
    for template in templates:
        for name in _TOKEN_RE.findall(template):
            seen.setdefault(name, None)
    return list(seen)


def translate(template: str, tag: Callable[[str], str]) -> str:
    """Rewrite every token as a provider's merge tag, e.g. ``%%name%%`` -> ``{{name}}``."""
    return _TOKEN_RE.sub(lambda m: tag(m.group(1)), template)


def check_fields(templates: Iterable[str], columns: Iterable[str], *, where: str) -> None:
    """Every token in the issue must be a built-in field or a column of the audience."""
    known = set(FIELDS) | set(columns)
    unknown = [name for name in fields_in(*templates) if name not in known]
    if unknown:
        names = ", ".join(f"%%{n}%%" for n in unknown)
        raise ConfigError(
            f"{where}: the issue uses merge field(s) {names} that no recipient has",
            hint="add a column of that name to the audience CSV, or remove the token "
            f"(built-in fields: {', '.join(FIELDS)})",
        )


def preview_values(config: Config) -> dict[str, str]:
    """Values for a non-personal copy: the build output and the web version."""
    links = config.list_links()
    return {
        "unsubscribe_url": links.unsubscribe,
        "preferences_url": links.preferences or links.unsubscribe,
        "name": config.send.name_fallback,
    }


# --- signed tokens ---------------------------------------------------------------------------


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


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, purpose: str, *parts: str) -> bytes:
    message = "\x1f".join((purpose, *parts)).encode("utf-8")
    return hmac.new(secret, message, hashlib.sha256).digest()


def unsubscribe_token(secret: bytes, email: str) -> str:
    """``v1.<address>.<signature>``: the address (case-folded) and an HMAC over it."""
    address = email.lower()
    return f"v1.{_b64(address.encode('utf-8'))}.{_b64(_mac(secret, 'unsubscribe', address)[:18])}"


def verify_unsubscribe_token(secret: bytes, value: str) -> str | None:
    """The address a token was made for, or None when it is forged or malformed."""
    try:
        version, address_b64, signature = value.split(".")
        address = _unb64(address_b64).decode("utf-8")
        given = _unb64(signature)
    except (ValueError, UnicodeDecodeError):
        return None
    if version != "v1":
        return None
    expected = _mac(secret, "unsubscribe", address)[:18]
    return address if hmac.compare_digest(given, expected) else None


# --- per-recipient values --------------------------------------------------------------------


@dataclass(slots=True)
class Personal:
    """Everything that differs between two recipients' copies of one issue."""

    email: str
    display_name: str  # as given in the audience (may be empty); for the To header
    values: dict[str, str]  # merge values: name (with fallback), unsubscribe_url, ...
    message_id: str
    list_unsubscribe: str  # the List-Unsubscribe header value

    def provider_values(
        self, text_fields: Iterable[str], html_fields: Iterable[str]
    ) -> dict[str, str]:
        """Values for server-side merging: plain for the text part, escaped for the HTML part."""
        data = {name: self.values.get(name, "") for name in text_fields}
        for name in html_fields:
            data[name + HTML_SUFFIX] = html.escape(self.values.get(name, ""))
        return data


class Personalizer:
    """Makes a recipient's ``Personal``: signed unsubscribe link, Message-ID, merge values."""

    def __init__(self, config: Config, issue: str, secret: bytes) -> None:
        settings = config.newsletter
        self.secret = secret
        self.issue = issue
        self.fallback_name = config.send.name_fallback
        self.domain = settings.from_email.rsplit("@", 1)[1]
        self.links = config.list_links()
        base = self.links.unsubscribe
        self._url_prefix = base + ("&" if "?" in base else "?") + "token="
        self.mailto = config.send.unsubscribe_mailto

    def unsubscribe_url(self, email: str) -> str:
        return self._url_prefix + unsubscribe_token(self.secret, email)

    def preferences_url(self, email: str, unsubscribe_url: str) -> str:
        """The service's preference centre with a signed link, else the static page."""
        links = self.links
        if links.served and links.preferences:
            from newsletter.tokens import Purpose, Tokens

            token = Tokens(self.secret).sign(Purpose.preferences, {"e": email.lower()})
            return f"{links.preferences}?{urlencode({'token': token})}"
        return links.preferences or unsubscribe_url

    def message_id(self, email: str) -> str:
        """The same for every attempt at one (issue, recipient): receivers can drop a repeat."""
        digest = _b64(_mac(self.secret, "message-id", self.issue, email.lower())[:15])
        return f"<{self.issue}.{digest}@{self.domain}>"

    def personal(self, recipient: Recipient) -> Personal:
        email = recipient.email
        tok = unsubscribe_token(self.secret, email)
        url = self._url_prefix + tok
        values = dict(recipient.fields)
        values.update(
            email=email,
            name=recipient.name or self.fallback_name,
            language=recipient.language,
            unsubscribe_url=url,
            preferences_url=self.preferences_url(email, url),
        )
        header = f"<{url}>"
        if self.mailto:
            header += f", <mailto:{self.mailto}?subject={quote('unsubscribe ' + tok)}>"
        return Personal(
            email=email,
            display_name=recipient.name,
            values=values,
            message_id=self.message_id(email),
            list_unsubscribe=header,
        )
