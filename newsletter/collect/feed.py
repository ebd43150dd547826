"""RSS 0.9x/1.0/2.0 and Atom feeds, from bytes we fetched ourselves.

Every feed is first read with ElementTree's C parser (through safexml.py, which refuses
entity declarations and decodes what expat cannot), for what feedparser does not give: it
drops a ``media:description`` nested in ``media:content``, so photo captions and credits
come from the XML here.

A plain UTF-8 RSS 2.0 document (what WordPress and most CMSs send) is then read straight
from that same tree by rss2.py, and a plain Atom 1.0 one by atom.py; each takes only
documents it reads exactly as feedparser does: one parse instead of two, several times
faster than feedparser's pure-Python handlers. Their entries are shaped like feedparser's,
so all paths share every later step.

Everything else goes to feedparser with the bytes and the response headers: RSS
0.9x/1.0, other encodings, any element or attribute the fast reader does not know, dates
in other forms, and broken documents, which its lenient parser still gets entries out of.
It runs with its own sanitiser and relative-URI rewriting switched off: nh3 cleans every
body later (normalize.py, which also makes links absolute), and skipping both makes
feedparser several times faster.
"""

from __future__ import annotations

import calendar
import io
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

import feedparser

from newsletter.collect.atom import read_atom
from newsletter.collect.feedfields import MRSS
from newsletter.collect.fetch import Fetched
from newsletter.collect.language import language_code
from newsletter.collect.normalize import Parsed, RawItem, canonical_url
from newsletter.collect.rss2 import read_rss2
from newsletter.collect.safexml import install_for_feedparser, parse_tree
from newsletter.errors import CollectError
from newsletter.sanitize import html_to_text

_CLOSED_ITEM_RE = re.compile(rb"</(?:[\w-]+:)?(?:item|entry)\s*>", re.IGNORECASE)
_HTML_RE = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)\b", re.IGNORECASE | re.S)
_ALTERNATE_RE = re.compile(
    rb"<link\b[^>]*type=[\"']application/(?:rss|atom)\+xml[\"'][^>]*>", re.IGNORECASE
)
_HREF_RE = re.compile(rb"href=[\"']([^\"']+)[\"']", re.IGNORECASE)
_IMG_RE = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_ATTR_RE = re.compile(r"""\b(src|alt)\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)

Caption = tuple[str, str | None]  # (description, credit)

install_for_feedparser()


def parse_feed(fetched: Fetched, *, source: str, fast: bool = True) -> Parsed:
    """The feed's raw items; ``fast=False`` always uses feedparser (for tests)."""
    body = fetched.body
    if not body.strip():
        raise CollectError(
            f"{source}: {fetched.url} returned an empty document, not a feed",
            hint="check the source's url; the site may be down or the feed moved",
        )
    result = Parsed(base=fetched.url)
    root = parse_tree(body)
    fast_entries = (read_rss2(root, fetched) or read_atom(root, fetched)) if fast else None
    if fast_entries is not None:
        entries, language = fast_entries
        captions = {
            position: (entry["media_description"], entry.get("media_credit") or None)
            for position, entry in enumerate(entries)
            if entry.get("media_description")
        }  # (what media_captions would find: the fast readers met them on their way)
    else:
        # (a document in UTF-16 or UTF-32 does not show the namespace as ASCII bytes)
        maybe_captions = MRSS.encode() in body or b"\x00" in body[:4]
        captions = media_captions(root) if root is not None and maybe_captions else {}
        entries, language = _feedparser_entries(fetched, source, result)
    for position, entry in enumerate(entries):
        result.raw.append(_raw_item(entry, captions.get(position), language))
    return result


def _feedparser_entries(
    fetched: Fetched, source: str, result: Parsed
) -> tuple[list[Any], str | None]:
    body = fetched.body
    parsed = feedparser.parse(
        io.BytesIO(body),
        response_headers=fetched.headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    entries = list(parsed.entries)
    # Read in full, only not as the document or the server said (an unknown encoding, say)
    benign = isinstance(
        parsed.get("bozo_exception"),
        (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType),
    )
    if isinstance(parsed.get("bozo_exception"), feedparser.CharacterEncodingOverride):
        result.notices.append(f"the feed's encoding is declared wrongly: {_bozo(parsed)}")
    if not entries:
        if _HTML_RE.match(body[:2048]) or (not parsed.get("version") and b"<body" in body[:20000]):
            raise CollectError(
                f"{source}: {fetched.url} is an HTML page, not an RSS/Atom feed",
                hint=_feed_hint(body, fetched.url),
            )
        if parsed.bozo and not benign:
            raise CollectError(
                f"{source}: {fetched.url} is not a readable feed: {_bozo(parsed)}",
                hint="the feed is broken at the source; tell its owner, or try again later",
            )
        if not parsed.get("version"):
            raise CollectError(
                f"{source}: {fetched.url} is not an RSS/Atom feed",
                hint="check the source's url and kind in newsletter.toml",
            )
        return [], None
    if parsed.bozo and not benign:
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
    return entries, language_code(parsed.feed.get("language"))


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


def _raw_item(entry: Any, caption: Caption | None, language: str | None) -> RawItem:
    guid = entry.get("id") or None
    image_url, image_alt = _image(entry)
    body = ""
    for content in entry.get("content", []):
        value = content.get("value", "")
        if _is_caption(value, caption):
            continue  # feedparser took the photo caption for content
        body = value
        break
    if not image_url and body:
        image_url, image_alt = first_image(body)
    summary = entry.get("summary", "") or ""
    if _is_caption(summary, caption):
        summary = ""  # feedparser took the photo caption for the summary
    return RawItem(
        title=entry.get("title", "") or "",
        link=entry.get("link") or "",
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


def _is_caption(value: str, caption: Caption | None) -> bool:
    if caption is None or len(value) > 2 * len(caption[0]) + 64:
        return False  # (a body is much longer than a caption: no need to compare them)
    return html_to_text(value) == html_to_text(caption[0])


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


def media_captions(root: ET.Element) -> dict[int, Caption]:
    """``media:description`` (and ``media:credit``) of each item, by its position.

    Items are counted in document order, as feedparser counts its entries; the document
    is well-formed (ElementTree read it), so both see the same items.
    """
    description, credit = f"{{{MRSS}}}description", f"{{{MRSS}}}credit"
    captions: dict[int, Caption] = {}
    position = 0
    for element in root.iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        if not (tag.endswith("}entry") or tag == "item" or tag.endswith("}item")):
            continue
        found = element.find(f".//{description}")
        text = (found.text or "").strip() if found is not None else ""
        if text:
            credit_el = element.find(f".//{credit}")
            credit_text = (credit_el.text or "").strip() if credit_el is not None else ""
            captions[position] = (text, credit_text or None)
        position += 1
    return captions
