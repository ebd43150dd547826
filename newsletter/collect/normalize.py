"""Normalisation shared by every source kind: from a ``RawItem`` to a valid ``NewsItem``.

Each source kind only finds the raw fields (title, link, dates, HTML, image, caption);
everything else happens here, the same way for all of them: canonical URLs, sanitised HTML
with absolute links, a plain-text summary cut at a sentence, the kicker split from the
title, the image's alt text and photo credit, the language, and the kind with its
deadline or event date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from html import unescape
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from pydantic import ValidationError

from newsletter.collect.classify import classify
from newsletter.collect.language import detect_language
from newsletter.errors import pydantic_message
from newsletter.models import Image, Kind, NewsItem, item_id
from newsletter.sanitize import clean_html, html_to_text, one_line, summarize

TRACKING_PARAMS = re.compile(r"^(utm_[a-z_]+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_hs[a-z]+)$")
SUMMARY_LIMIT = 300
ALT_LIMIT = 125
TITLE_LIMIT = 300
_LANGUAGE_SAMPLE = 1000

# "Publication in Science:Treatment-induced …" is the institute's glued kicker: a few words
# ending in a real word (capitalised, or of four letters or more), a colon with no space on
# either side, then a capital. A colon inside a token ("AWS re:Invent 2020: …", "xml:base",
# "COVID-19:…"), a time, a URL and "Call: UiO …" stay in the title.
_KICKER_MAX_WORDS = 12
# An absolute http(s) URL with a lower-case host, no port, query, fragment or space.
_CANONICAL_RE = re.compile(r"https?://[a-z0-9-]+(?:\.[a-z0-9-]+)*/[\w.~%!$&'()*+,;=:@/-]*\Z")
# The same with a query of plain name=value pairs, which parse_qsl and urlencode give back
# as they are: tracking parameters are dropped without parsing the URL.
_PLAIN_QUERY_RE = re.compile(
    r"(https?://[a-z0-9-]+(?:\.[a-z0-9-]+)*/[\w.~%!$&'()*+,;=:@/-]*)"
    r"\?([A-Za-z0-9_.~-]+=[A-Za-z0-9_.~-]*(?:&[A-Za-z0-9_.~-]+=[A-Za-z0-9_.~-]*)*)\Z"
)
# Labels that start a photo credit: "Photo: …", "(Foto: …)".
_CREDIT_WORDS = frozenset(
    {"photo", "photos", "photograph", "foto", "image", "illustration", "ill.", "credit", "kilde"}
)
_FILENAME_RE = re.compile(r"^[\w\-. ]+\.(?:jpe?g|png|gif|webp|svg|avif)$", re.IGNORECASE)
_ATTR_VALUE_RE = re.compile(r'="([^"]*)"')
_BLOCKS_RE = re.compile(r"<(script|style|template)\b[^>]*>.*?</\1\s*>", re.I | re.S)
_ANY_TAG_RE = re.compile(r"<[^>]*>")


class SkippedItem(Exception):
    """An entry that cannot become a story; the reason is reported, the source goes on."""


@dataclass
class RawItem:
    """The raw fields of one item, as a source kind found them (text or HTML)."""

    title: str
    link: str
    published: datetime | None
    updated: datetime | None = None
    summary_html: str = ""
    body_html: str = ""
    kicker: str | None = None
    image_url: str | None = None
    image_alt: str | None = None
    image_caption: str | None = None
    image_credit: str | None = None
    guid: str | None = None
    language: str | None = None
    kind: Kind | None = None
    deadline: date | None = None
    event_date: date | None = None
    translation_of: str | None = None  # the same story's address in another language


@dataclass
class Parsed:
    """What a source kind hands to normalisation: raw items, the base URL and notes for the user."""

    raw: list[RawItem] = field(default_factory=list)
    base: str | None = None
    notices: list[str] = field(default_factory=list)  # worth knowing; the source is fine
    problems: list[str] = field(default_factory=list)  # the user must fix these (a bad file)


def canonical_url(url: str, base: str | None = None) -> str | None:
    """Resolve, then strip tracking parameters and fragment; None if not http(s).

    The host is lower-cased and a default port dropped; ``www.`` stays (not every site
    answers without it) and is ignored only when comparing stories (dedupe.url_key).
    """
    url = url.strip()
    if _CANONICAL_RE.match(url):
        return url  # already canonical (the common case), without parsing it
    if plain := _PLAIN_QUERY_RE.match(url):
        kept = [
            p for p in plain[2].split("&") if not TRACKING_PARAMS.match(p.split("=")[0].lower())
        ]
        return f"{plain[1]}?{'&'.join(kept)}" if kept else plain[1]
    if base and not url.startswith(("https://", "http://")):
        url = urljoin(base, url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    if any(c in url for c in "\r\n\t\x00 "):
        return None
    host = parts.hostname.lower().rstrip(".")
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address keeps its brackets (urlsplit drops them)
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    query = parts.query
    if query:
        query = urlencode(
            [(k, v) for k, v in parse_qsl(query, keep_blank_values=True)
             if not TRACKING_PARAMS.match(k.lower())]
        )  # fmt: skip
    return urlunsplit((scheme, host, parts.path or "/", query, ""))


def plain_text(raw: str) -> str:
    """``html_to_text``, skipped when there is no markup or entity to remove (the usual case)."""
    return html_to_text(raw) if "<" in raw or "&" in raw else one_line(raw)


def clean_title(raw: str) -> str:
    """Titles arrive as text or HTML; either way keep only the words, on one line."""
    return plain_text(raw)[:TITLE_LIMIT]


def split_kicker(title: str) -> tuple[str | None, str]:
    """``"Publication in Science:Treatment-induced …"`` → ``("Publication in Science", …)``."""
    kicker, colon, rest = title.partition(":")
    if not colon or len(rest) < 3 or not rest[0].isupper() or not 2 <= len(kicker) <= 120:
        return None, title
    words = kicker.split()
    if not words or kicker[-1].isspace() or len(words) > _KICKER_MAX_WORDS:
        return None, title
    last = words[-1]
    if not (last[-1].isalpha() and (last[0].isupper() or len(last) >= 4)):
        return None, title
    return kicker.strip(), rest.strip()


def make_summary(summary_html: str, body_html: str = "") -> str:
    text = plain_text(summary_html) or html_to_text(body_html)
    return summarize(text, SUMMARY_LIMIT)


def clean_body(fragment: str, base: str | None) -> str:
    """Sanitised HTML whose links and image sources are absolute (emails have no base URL)."""
    return absolute_links(clean_html(fragment), base)


def absolute_links(cleaned: str, base: str | None) -> str:
    """``href``/``src`` values of *sanitised* HTML made absolute against ``base``.

    nh3's output always quotes attribute values with ``"``, so a regex finds them safely.
    (The pattern starts with a literal: alternatives first make Python's re ten times slower.)
    """
    if not base or '="' not in cleaned:
        return cleaned
    parts = urlsplit(base)
    origin = f"{parts.scheme}://{parts.netloc}"

    def absolute(match: re.Match[str]) -> str:
        start, value = match.start(), match.group(1)
        if not (cleaned.endswith("href", 0, start) or cleaned.endswith("src", 0, start)):
            return match.group(0)
        if value.startswith(("http://", "https://", "mailto:")):
            return match.group(0)
        if value.startswith("/") and not value.startswith("//"):
            joined = origin + value  # the common case, without urljoin's cost
        else:
            joined = urljoin(base, value.replace("&amp;", "&")).replace("&", "&amp;")
        if not joined.startswith(("http://", "https://")):
            return match.group(0)
        return f'="{joined.replace(chr(34), "%22")}"'

    return _ATTR_VALUE_RE.sub(absolute, cleaned)


def detection_text(html: str, limit: int = 1200) -> str:
    """Rough plain text of the start of an HTML body, for language and kind detection only.

    Never shown to anyone (summaries use sanitize.html_to_text); cheaper on long bodies.
    """
    text = _BLOCKS_RE.sub(" ", html[: limit + limit // 2])
    text = _ANY_TAG_RE.sub(" ", text)
    if "&" in text:
        text = unescape(text)
    return " ".join(text.split())[:limit]


def split_credit(caption: str) -> tuple[str, str | None]:
    """``"Kjetil Taskén … Photo: Oslo University Hospital"`` → (caption, "Photo: …").

    The credit starts at the last "Photo:"-like label (found from the colons, which are few).
    """
    start = None
    colon = caption.find(":")
    while colon != -1:
        head = caption[:colon].rstrip()
        token = head.rsplit(None, 1)[-1] if head else ""
        if token.lstrip("([").lower() in _CREDIT_WORDS:
            start = len(head) - len(token)
        colon = caption.find(":", colon + 1)
    if start is None:
        return caption.strip(), None
    credit = caption[start:].strip().lstrip("([").rstrip(")]").strip().rstrip(".").strip()
    rest = caption[:start].strip().rstrip("([").strip()
    return rest, credit or None


def make_image(raw: RawItem, base: str | None, title: str) -> Image | None:
    url = canonical_url(raw.image_url, base) if raw.image_url else None
    if not url:
        return None
    caption = plain_text(raw.image_caption or "")
    caption, credit = split_credit(caption)
    alt_attr, alt_credit = split_credit(one_line(raw.image_alt or ""))
    credit = credit or alt_credit or (one_line(raw.image_credit) if raw.image_credit else None)
    alt = caption or alt_attr
    if not alt or _FILENAME_RE.match(alt):
        alt = title  # the photo illustrates the story; a filename tells a listener nothing
    # summarize() may add an ellipsis after the cut: one character of room for it.
    alt = summarize(alt, ALT_LIMIT - 1)
    return Image(url=url, alt=alt, credit=credit[:200] if credit else None)


def build_item(raw: RawItem, *, source: str, base: str | None, language: str | None) -> NewsItem:
    """One validated, normalised item; raises SkippedItem with the reason when impossible."""
    title = clean_title(raw.title)
    label = f"item {title[:60]!r}" if title else "an item without a title"
    url = canonical_url(raw.link, base) if raw.link else None
    if not url:
        raise SkippedItem(f"{label}: its link {raw.link[:80]!r} is not an http(s) URL")
    if raw.kicker:
        kicker: str | None = clean_title(raw.kicker) or None
    else:
        kicker, title = split_kicker(title)
    if not title:
        raise SkippedItem(f"{label} ({url}): no title")
    if raw.published is None:
        raise SkippedItem(f"{label} ({url}): no publication date")
    summary = make_summary(raw.summary_html, raw.body_html)
    text = f"{summary} {detection_text(raw.body_html)}" if raw.body_html else summary
    # The title and summary usually tell; the body is read only when they do not.
    detected = detect_language(f"{title}. {summary}") or detect_language(
        f"{title}. {text[:_LANGUAGE_SAMPLE]}"
    )
    if raw.kind is not None:
        kind, deadline, event_date = raw.kind, raw.deadline, raw.event_date
    else:
        found = classify(title, kicker, text, raw.published.date())
        # A date the source gives for an event (a hand-written item's event_date) says what
        # the item is, whatever its words suggest.
        kind = Kind.event if raw.event_date and found.kind is Kind.news else found.kind
        deadline = raw.deadline or found.deadline
        event_date = raw.event_date or found.event_date
    guid = raw.guid.strip() if raw.guid else None
    if guid and not guid.isprintable():
        guid = one_line(guid)
    guid = guid[:500] if guid else None
    try:
        item = NewsItem(
            id=item_id(url),
            source=source,
            title=title,
            kicker=kicker,
            url=url,
            published=raw.published,
            updated=raw.updated,
            summary=summary,
            body_html=raw.body_html,  # the model sanitises it (nh3), once
            image=make_image(raw, base, title),
            language=detected or language or raw.language or "en",
            kind=kind,
            deadline=deadline,
            event_date=event_date,
            guid=guid or None,
            sources=[source],
            translation_of=(
                canonical_url(raw.translation_of, base) or None if raw.translation_of else None
            ),
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {pydantic_message(err)}"
            for err in exc.errors()
        )
        raise SkippedItem(f"{label} ({url}): {problems}") from None
    if item.body_html:  # an article's links are relative to the article itself
        item.body_html = absolute_links(item.body_html, url)
    return item
