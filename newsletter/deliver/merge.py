"""Per-recipient merge tokens.

An issue is rendered once with neutral tokens such as ``%%unsubscribe_url%%``; exports and
sends then fill them per recipient (or translate them to a provider's own merge syntax),
so MJML is never compiled per recipient.

Tokens come only from the templates and from the editor's own fields of the issue file:
``subject``, ``preheader`` and ``intro``. Everything in a story (title, kicker, summary,
source, button text, alt text, credit, links) and the section titles is printed as written
and never filled in: ``inert_stories`` makes it so at render time, because collected text
is written by whoever runs the source (a feed whose image is ``https://x.example/%%email%%``
would otherwise collect every subscriber's address).

Each recipient's unsubscribe link carries an HMAC-signed token (``newsletter.signing``).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

from newsletter.config import Config
from newsletter.errors import ConfigError
from newsletter.signing import b64, mac
from newsletter.signing import load_secret as load_secret  # for export and send
from newsletter.signing import unsubscribe_token as unsubscribe_token
from newsletter.signing import verify_unsubscribe_token as verify_unsubscribe_token

if TYPE_CHECKING:
    from newsletter.deliver.recipient import Recipient
    from newsletter.models import Issue, Story

# Fields every recipient has; an audience's extra CSV columns add custom ones.
FIELDS = ("unsubscribe_url", "preferences_url", "name", "email", "language")
_TOKEN_RE = re.compile(r"%%([a-z][a-z0-9_]*)%%")
TOKEN_RE = _TOKEN_RE
FIELD_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
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


# --- where tokens may come from --------------------------------------------------------------

# Text a template engine, this tool or a provider may read as a placeholder: what ``check``
# reports when it is left over, and what Markdown must leave exactly as written.
LOOKALIKES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\{\{.{0,60}?\}\}|\{%.{0,60}?%\}", re.S), "template placeholder"),
    (re.compile(r"\*\|[A-Za-z0-9_:]+\|\*"), "Mailchimp merge tag"),
    (re.compile(r"%recipient\.[\w-]+%"), "Mailgun recipient variable"),
    (re.compile(r"%%[A-Za-z_][\w-]*%%"), "merge token"),
)
LOOKALIKE_RE = re.compile("|".join(f"(?:{p.pattern})" for p, _ in LOOKALIKES), re.S)
# A Mailchimp tag whose asterisks are gone (Markdown read "*|FNAME|*" as emphasis, giving
# "<em>|FNAME|</em>"): no provider fills it in, so readers see "|FNAME|".
MANGLED_TAG_RE = re.compile(r"(?<![*\w|])\|[A-Z][A-Z0-9_:]*\|(?![*\w|])")
WORD_JOINER = "\u2060"  # invisible: the text reads the same, but no token can form across it
# %% (ours), %name% (SendGrid's, Mailgun's %recipient.name%) and *| (Mailchimp's)
_TEXT_OPENERS = re.compile(r"%(?=[%A-Za-z_])|\*(?=\|)")
_URL_UNSAFE = re.compile(r"%(?![0-9A-Fa-f]{2})|[|{}]")


class Inert(str):
    """Collected text in which a merge tag could form, made so that none can.

    A word joiner follows each ``%`` that precedes ``%`` or a letter, and each ``*`` before
    ``|``. As HTML (``__html__``, which Jinja's
    autoescape uses) it is written as a character reference: mjml-python would print the
    character itself in an attribute (an image's alt text) as ``\\u{2060}``.
    """

    __slots__ = ()

    def __html__(self) -> str:
        from markupsafe import escape

        return str(escape(str(self))).replace(WORD_JOINER, "&#8288;")


def inert_text(text: str) -> str:
    """``text`` as printed, never as a merge template: no ``%%``, ``%name`` or ``*|`` is left."""
    if not _TEXT_OPENERS.search(text):
        return text
    return Inert(_TEXT_OPENERS.sub(lambda m: m.group() + WORD_JOINER, text))


def inert_url(url: str) -> str:
    """``url`` with each stray ``%`` (and ``|``, ``{``, ``}``) percent-encoded.

    The link is the same (a ``%`` that starts no escape means itself), but a valid
    percent-encoding never holds ``%%``, so no token can form in an attribute.
    """
    if "%" not in url and not any(c in url for c in "|{}"):
        return url
    return _URL_UNSAFE.sub(lambda m: "%" + format(ord(m.group()), "02X"), url)


def inert_stories(issue: Issue) -> Issue:
    """A copy of ``issue`` whose stories and section titles can never be merged."""
    return issue.model_copy(
        update={
            "sections": [
                section.model_copy(
                    update={
                        "title": inert_text(section.title),
                        "stories": [_inert_story(s) for s in section.stories],
                    }
                )
                for section in issue.sections
            ]
        }
    )


def _inert_story(story: Story) -> Story:
    texts = {
        name: inert_text(value)
        for name in ("title", "kicker", "summary", "source", "cta")
        if isinstance(value := getattr(story, name), str)
    }
    image = story.image
    if image is not None:
        image = image.model_copy(
            update={
                "url": inert_url(image.url),
                "alt": inert_text(image.alt),
                "credit": inert_text(image.credit) if image.credit else image.credit,
            }
        )
    return story.model_copy(update={**texts, "url": inert_url(story.url), "image": image})


def story_lookalikes(story: Story) -> Iterable[tuple[str, str, str]]:
    """(field, found, what) for text in a story that looks like a merge tag or placeholder."""
    fields = [(n, getattr(story, n)) for n in ("title", "kicker", "summary", "source", "cta")]
    fields.append(("url", story.url))
    if story.image is not None:
        fields += [("image.url", story.image.url), ("image.alt", story.image.alt)]
        fields.append(("image.credit", story.image.credit))
    for name, value in fields:
        for pattern, what in LOOKALIKES:
            for match in pattern.finditer(value or ""):
                yield name, match.group(), what


def preview_values(config: Config) -> dict[str, str]:
    """Values for a non-personal copy: the build output and the web version."""
    links = config.list_links()
    return {
        "unsubscribe_url": links.unsubscribe,
        "preferences_url": links.preferences or links.unsubscribe,
        "name": config.send.name_fallback,
    }


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
        digest = b64(mac(self.secret, "message-id", self.issue, email.lower())[:15])
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
