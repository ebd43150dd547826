"""RSS 0.9x/1.0/2.0 and Atom feeds, parsed by feedparser from bytes we fetched ourselves.

feedparser runs with its own sanitiser and relative-URI rewriting switched off: nh3 cleans
every body later (normalize.clean_body, which also makes links absolute), and skipping
both makes parsing several times faster. feedparser drops a ``media:description`` nested
in ``media:content``, so photo captions and credits are read from the XML here.
"""

from __future__ import annotations

import calendar
import io
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

import feedparser

from newsletter.collect.fetch import Fetched
from newsletter.collect.language import language_code
from newsletter.collect.normalize import Draft, Parsed, canonical_url
from newsletter.errors import CollectError
from newsletter.sanitize import html_to_text

MRSS = "http://search.yahoo.com/mrss/"
_CLOSED_ITEM_RE = re.compile(rb"</(?:[\w-]+:)?(?:item|entry)\s*>", re.IGNORECASE)
_HTML_RE = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)\b", re.IGNORECASE | re.S)
_ALTERNATE_RE = re.compile(
    rb"<link\b[^>]*type=[\"']application/(?:rss|atom)\+xml[\"'][^>]*>", re.IGNORECASE
)
_HREF_RE = re.compile(rb"href=[\"']([^\"']+)[\"']", re.IGNORECASE)
_IMG_RE = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_ATTR_RE = re.compile(r"""\b(src|alt)\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)


def parse_feed(fetched: Fetched, *, source: str) -> Parsed:
    body = fetched.body
    if not body.strip():
        raise CollectError(
            f"{source}: {fetched.url} returned an empty document, not a feed",
            hint="check the source's url; the site may be down or the feed moved",
        )
    parsed = feedparser.parse(
        io.BytesIO(body),
        response_headers=fetched.headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    entries = list(parsed.entries)
    result = Parsed(base=fetched.url)
    if not entries:
        if _HTML_RE.match(body[:2048]) or (not parsed.get("version") and b"<body" in body[:20000]):
            raise CollectError(
                f"{source}: {fetched.url} is an HTML page, not an RSS/Atom feed",
                hint=_feed_hint(body, fetched.url),
            )
        if parsed.bozo:
            raise CollectError(
                f"{source}: {fetched.url} is not a readable feed: {_bozo(parsed)}",
                hint="the feed is broken at the source; tell its owner, or try again later",
            )
        if not parsed.get("version"):
            raise CollectError(
                f"{source}: {fetched.url} is not an RSS/Atom feed",
                hint="check the source's url and kind in newsletter.toml",
            )
        return result
    if parsed.bozo and not isinstance(
        parsed.bozo_exception,
        (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType),
    ):
        # A feed cut short still yields its earlier entries, but the last one may be cut
        # mid-way: keep only the entries whose closing tag arrived.
        complete = len(_CLOSED_ITEM_RE.findall(body))
        kept = entries[:complete]
        if not any(entry.get("link") and entry.get("title") for entry in kept):
            raise CollectError(
                f"{source}: {fetched.url} is not a readable feed: {_bozo(parsed)}",
                hint="the feed is broken at the source; tell its owner, or try again later",
            )
        result.notices.append(
            f"the feed is not well-formed ({_bozo(parsed)}); kept the {len(kept)} of "
            f"{len(entries)} items that arrived complete"
        )
        entries = kept
    language = language_code(parsed.feed.get("language"))
    captions = media_captions(body)
    for position, entry in enumerate(entries):
        result.drafts.append(_draft(entry, position, captions, language))
    return result


def _bozo(parsed: Any) -> str:
    exc = parsed.get("bozo_exception")
    line = getattr(exc, "getLineNumber", None)
    where = f"line {line()}: " if callable(line) else ""
    message = getattr(exc, "getMessage", None)
    text = message() if callable(message) else str(exc)
    return f"{where}{text}"[:200]


def _feed_hint(body: bytes, base: str) -> str:
    link = _ALTERNATE_RE.search(body[:200_000])
    href = _HREF_RE.search(link.group(0)) if link else None
    if href:
        url = canonical_url(href.group(1).decode("utf-8", "replace"), base)
        if url:
            return f'the page names its feed: set url = {url!r}, or use kind = "page"'
    return 'use the feed\'s own address, or kind = "page" to read the page as a listing'


def _draft(entry: Any, position: int, captions: Captions, language: str | None) -> Draft:
    guid = entry.get("id") or None
    link = entry.get("link") or ""
    caption = captions.find(guid, link, position)
    image_url, image_alt = _image(entry)
    body = ""
    if entry.get("content"):
        body = entry.content[0].get("value", "")
    if not image_url and body:
        image_url, image_alt = first_image(body)
    summary = entry.get("summary", "") or ""
    if caption and html_to_text(summary) == html_to_text(caption[0]):
        summary = ""  # feedparser took the photo caption for the summary
    return Draft(
        title=entry.get("title", "") or "",
        link=link,
        published=_date(entry, "published_parsed", "updated_parsed", "created_parsed"),
        updated=_date(entry, "updated_parsed"),
        summary_html=summary,
        body_html=body,
        image_url=image_url,
        image_alt=image_alt,
        image_caption=caption[0] if caption else None,
        image_credit=caption[1] if caption else None,
        guid=guid,
        language=language_code(entry.get("language")) or language,
    )


def _date(entry: Any, *keys: str) -> datetime | None:
    for key in keys:
        # dict.get: FeedParserDict.get would answer a missing updated_parsed with the
        # published date (and a deprecation warning), hiding that there is none.
        value = dict.get(entry, key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
            except (OverflowError, ValueError, OSError):
                continue
    return None


def _image(entry: Any) -> tuple[str | None, str | None]:
    for media in entry.get("media_content", []):
        medium, mtype = media.get("medium", ""), media.get("type", "")
        if media.get("url") and (medium == "image" or mtype.startswith("image/")
                                 or (not medium and not mtype)):  # fmt: skip
            return media["url"], None
    for link in entry.get("enclosures", []):
        if link.get("href") and link.get("type", "").startswith("image/"):
            return link["href"], None
    for thumb in entry.get("media_thumbnail", []):
        if thumb.get("url"):
            return thumb["url"], None
    return None, None


def first_image(html: str) -> tuple[str | None, str | None]:
    """The first ``<img>`` of an HTML body: its src and alt."""
    tag = _IMG_RE.search(html)
    if not tag:
        return None, None
    attrs = {m.group(1).lower(): m.group(2) or m.group(3) or "" for m in _ATTR_RE.finditer(tag[0])}
    return attrs.get("src") or None, attrs.get("alt")


class Captions:
    """Photo captions and credits by guid, link or position in the feed."""

    def __init__(self) -> None:
        self.by_key: dict[str, tuple[str, str | None]] = {}
        self.by_position: list[tuple[str, str | None] | None] = []

    def find(self, guid: str | None, link: str, position: int) -> tuple[str, str | None] | None:
        for key in (guid, canonical_url(link) if link else None):
            if key and key in self.by_key:
                return self.by_key[key]
        if position < len(self.by_position):
            return self.by_position[position]
        return None


def media_captions(body: bytes) -> Captions:
    """``media:description`` (and ``media:credit``) of each item, wherever it is nested."""
    captions = Captions()
    if MRSS.encode() not in body:
        return captions
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return captions
    description, credit = f"{{{MRSS}}}description", f"{{{MRSS}}}credit"
    for element in root.iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        if not (tag.endswith("}entry") or tag == "item" or tag.endswith("}item")):
            continue
        found = element.find(f".//{description}")
        credit_el = element.find(f".//{credit}")
        text = (found.text or "").strip() if found is not None else ""
        credit_text = (credit_el.text or "").strip() if credit_el is not None else ""
        entry = (text, credit_text or None) if text else None
        captions.by_position.append(entry)
        if entry is None:
            continue
        for child in element:
            name = child.tag.rsplit("}", 1)[-1] if isinstance(child.tag, str) else ""
            if name in ("guid", "id") and child.text:
                captions.by_key[child.text.strip()] = entry
            elif name == "link":
                url = canonical_url((child.text or child.get("href") or "").strip())
                if url:
                    captions.by_key[url] = entry
    return captions
