"""The fast reader for plain RSS 2.0: what WordPress and most CMSs send, read from the tree.

feedparser's pure-Python handlers are several times slower than walking the ElementTree
that feed.py parses anyway (for photo captions), and the collect benchmark's target depends
on it. But the two must never disagree, so this reader takes a document only when it
understands every part of it, and then gives what feedparser would give, field for field:

- the document: ``<rss version="2.0">`` in UTF-8 (declared, by the server's charset, or
  both), no DOCTYPE, no Content-Language header, one ``channel``;
- every element is one it knows, in a place it knows (``ALLOWED``), with only the
  attributes it knows; nothing is in an unknown namespace, no ``xml:base``, no
  ``xml:lang``; a text element holds only text; an item has at most one of each element
  that gives a field (title, link, description, guid, dates, ``content:encoded``);
- dates are RFC 822 (``pubDate``) or W3C (``dc:date``) in the forms both read alike;
- feedparser's ordering rules are followed: a ``guid`` is the link only when no ``link``
  came first, ``content:encoded`` is the summary when there is no ``description``, the
  shallower description wins; a description that feedparser would turn into content
  (after a photo caption, with no ``content:encoded``) sends the feed to feedparser;
- its text repairs too: windows-1252 numeric references (``&#146;`` is ’), UTF-8 read as
  Latin-1, links resolved against the Content-Location header and freed of ``&amp;``.

Anything else returns None and feedparser reads the feed. tests/test_collect_fast_path.py
checks both give the same items over a corpus of feed shapes, or this reader says no.
"""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin

from newsletter.collect.fetch import Fetched
from newsletter.collect.language import language_code

MRSS = "http://search.yahoo.com/mrss/"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
DC = "http://purl.org/dc/elements/1.1/"
ATOM = "http://www.w3.org/2005/Atom"
SY = "http://purl.org/rss/1.0/modules/syndication/"
WFW = "http://wellformedweb.org/CommentAPI/"
SLASH = "http://purl.org/rss/1.0/modules/slash/"

Entry = dict[str, Any]
_NONE: frozenset[str] = frozenset()
_MEDIA = frozenset(
    {"url", "medium", "type", "width", "height", "fileSize", "duration", "bitrate",
     "framerate", "samplingrate", "channels", "expression", "isDefault"}
)  # fmt: skip
# Where each element may appear, with the attributes it may carry. Channel elements only
# describe the channel; item elements either give a field or are ignored by both readers.
ALLOWED: dict[str, dict[str, frozenset[str]]] = {
    "rss": {"channel": _NONE},
    "channel": {
        **dict.fromkeys(
            (
                "title",
                "link",
                "description",
                "language",
                "copyright",
                "managingEditor",
                "webMaster",
                "pubDate",
                "lastBuildDate",
                "generator",
                "docs",
                "ttl",
                "image",
                "item",
                f"{{{SY}}}updatePeriod",
                f"{{{SY}}}updateFrequency",
                f"{{{SY}}}updateBase",
            ),
            _NONE,
        ),
        "category": frozenset({"domain"}),
        f"{{{ATOM}}}link": frozenset({"href", "rel", "type"}),
    },
    "image": dict.fromkeys(("url", "title", "link", "width", "height", "description"), _NONE),
    "item": {
        **dict.fromkeys(
            (
                "title",
                "link",
                "description",
                "pubDate",
                "comments",
                "author",
                f"{{{DC}}}date",
                f"{{{DC}}}creator",
                f"{{{CONTENT}}}encoded",
                f"{{{WFW}}}commentRss",
                f"{{{SLASH}}}comments",
            ),
            _NONE,
        ),
        "guid": frozenset({"isPermaLink"}),
        "category": frozenset({"domain"}),
        "enclosure": frozenset({"url", "length", "type"}),
        f"{{{MRSS}}}content": _MEDIA,
        f"{{{MRSS}}}thumbnail": frozenset({"url", "width", "height"}),
    },
    f"{{{MRSS}}}content": {
        f"{{{MRSS}}}description": frozenset({"type"}),
        f"{{{MRSS}}}credit": frozenset({"role", "scheme"}),
        f"{{{MRSS}}}thumbnail": frozenset({"url", "width", "height"}),
    },
}
# Elements that hold other elements; every other one holds only text (or nothing).
_CONTAINERS = frozenset({"channel", "image", "item", f"{{{MRSS}}}content"})
# (feedparser reads a thumbnail's address from its text when it has no url attribute)
_NO_TEXT = frozenset({f"{{{MRSS}}}content", f"{{{MRSS}}}thumbnail"})
_ONCE = frozenset(
    {"title", "link", "description", "guid", "pubDate", f"{{{DC}}}date", f"{{{CONTENT}}}encoded"}
)
_CHARSET_RE = re.compile(r"""charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)
_DECLARED_RE = re.compile(rb"^\s*<\?xml[^>]*encoding=[\"']([\w.:-]+)[\"']", re.IGNORECASE)
_DOCTYPE_RE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_MONTHS = {
    m: n
    for n, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
_RFC822_RE = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?(\d{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|"
    r"Nov|Dec) (\d{4}) (\d{2}):(\d{2}):(\d{2}) (GMT|UTC|UT|Z|[+-]\d{4})"
)
_W3C_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?(Z|[+-]\d{2}:\d{2})"
)
# windows-1252's characters for the code points 0x80-0x9F (feedparser maps them)
_CP1252 = {
    c: bytes([c]).decode("cp1252")
    for c in range(0x80, 0xA0)
    if c not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)  # (not in windows-1252)
}
_C1_LATIN1_RE = re.compile(b"[\x80-\x9f]")
_C1_UTF8_RE = re.compile(b"\xc2[\x80-\x9f]")
# An absolute http(s) URL that urljoin would give back unchanged, whatever the base
_PLAIN_URL_RE = re.compile(
    r"https?://[A-Za-z0-9.-]+(?::[0-9]+)?(?:/[-A-Za-z0-9._~%!$&'()*+,=:@/]*)?"
    r"(?:\?[-A-Za-z0-9._~%!$&'()*+,=:@/?;]+)?\Z"
)
_URI_SLASHES_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+-.]*://)(/*)(.*?)")
_REF_LIKE_RE = re.compile(r"&([A-Za-z0-9_]+);")


class Declined(Exception):
    """The document has something this reader does not fully understand."""


def read_rss2(root: ET.Element | None, fetched: Fetched) -> tuple[list[Entry], str | None] | None:
    """The feed's entries (shaped like feedparser's) and language, or None for feedparser."""
    if root is None or not _document_fits(root, fetched):
        return None
    try:
        _check(root, "rss")
        channel = root[0]
        base = fetched.headers.get("content-location", "")
        entries = [_entry(item, base) for item in channel if item.tag == "item"]
    except Declined:
        return None
    languages = [_fix(el.text) for el in channel if el.tag == "language"]
    return entries, language_code(languages[-1]) if languages else None


def _document_fits(root: ET.Element, fetched: Fetched) -> bool:
    if root.tag != "rss" or root.attrib != {"version": "2.0"} or len(root) != 1:
        return False
    body, headers = fetched.body, fetched.headers
    declared = _DECLARED_RE.match(body[:200])
    if declared and declared.group(1).lower() not in (b"utf-8", b"utf8"):
        return False
    if _DOCTYPE_RE.search(body[:4096]) or "content-language" in headers:
        return False
    # (the media type itself does not matter: feedparser reads any, and a server may send
    # two, "application/xml, application/rss+xml; charset=utf-8")
    charsets = _CHARSET_RE.findall(headers.get("content-type", ""))
    return all(charset.lower() in ("utf-8", "utf8") for charset in charsets)


def _check(element: ET.Element, context: str) -> None:
    """Every descendant of ``element`` is allowed where it is, with its attributes."""
    allowed = ALLOWED[context]
    for child in element:
        attributes = allowed.get(child.tag) if isinstance(child.tag, str) else None
        if attributes is None or not attributes.issuperset(child.attrib):
            raise Declined
        if child.tag in _CONTAINERS:
            if child.tag != "item":  # an item is checked as it is read
                _check(child, child.tag)
        elif len(child):
            raise Declined
        if child.tag in _NO_TEXT and (child.text or "").strip():
            raise Declined


def _entry(item: ET.Element, base: str) -> Entry:
    """One item, following feedparser's rules for which element gives which field."""
    _check(item, "item")
    entry: Entry = {"media_content": [], "media_thumbnail": [], "enclosures": []}
    seen: set[str] = set()
    summary_depth: int | None = None
    for child in item:
        tag = child.tag
        if tag in _ONCE:
            if tag in seen:
                raise Declined
            seen.add(tag)
        if tag == "title":
            entry["title"] = _fix(child.text)
        elif tag == "link":
            entry["link"] = _link(_fix(_resolve(base, _strip(child.text))))
        elif tag == "guid":
            permalink = child.get("isPermaLink", "true")
            if permalink not in ("true", "false"):
                raise Declined
            value = _strip(child.text)
            value = _fix(_resolve(base, value) if permalink == "true" else value)
            entry["id"] = value
            if permalink == "true":
                entry.setdefault("link", value)
        elif tag == "description":
            summary_depth = _description(entry, _fix(child.text), 1, summary_depth)
        elif tag == f"{{{CONTENT}}}encoded":
            value = _fix(child.text)
            entry.setdefault("content", []).append({"value": value})
            entry.setdefault("summary", value)
        elif tag == "pubDate":
            entry["published_parsed"] = _rfc822(_fix(child.text))
        elif tag == f"{{{DC}}}date":
            entry["updated_parsed"] = _w3c(_fix(child.text))
        elif tag == "enclosure":
            enclosure = {"href": child.get("url")} if child.get("url") else {}
            enclosure["type"] = child.get("type", "").lower()
            entry["enclosures"].append(enclosure)
        elif tag == f"{{{MRSS}}}content":
            entry["media_content"].append(_lower_type(child.attrib))
            for part in child:
                if part.tag == f"{{{MRSS}}}description":
                    if part.get("type", "plain") not in ("plain", "html"):
                        raise Declined
                    summary_depth = _description(entry, _fix(part.text), 2, summary_depth)
                elif part.tag == f"{{{MRSS}}}thumbnail":
                    entry["media_thumbnail"].append(dict(part.attrib))
        elif tag == f"{{{MRSS}}}thumbnail":
            entry["media_thumbnail"].append(dict(child.attrib))
    if any("url" not in thumb for thumb in entry["media_thumbnail"]):
        raise Declined
    return entry


def _description(entry: Entry, value: str, depth: int, summary_depth: int | None) -> int | None:
    """A description (or a photo caption, one level deeper) as feedparser takes it."""
    if "summary" in entry and "content" not in entry:
        raise Declined  # feedparser would make it content, and lose its place afterwards
    if summary_depth is None or depth <= summary_depth:
        entry["summary"] = value
        return depth
    return summary_depth


def _lower_type(attrib: dict[str, str]) -> dict[str, str]:
    media = dict(attrib)
    if "type" in media:
        media["type"] = media["type"].lower()
    return media


def _strip(text: str | None) -> str:
    return (text or "").strip()


def _fix(text: str | None) -> str:
    """Text as feedparser gives it: stripped, UTF-8 read as Latin-1 repaired (once), and
    the windows-1252 characters for code points 0x80-0x9F (``&#146;`` is ’)."""
    value = (text or "").strip()
    if value.isascii():
        return value
    try:
        latin = value.encode("iso-8859-1")  # (instant when every character fits)
    except UnicodeEncodeError:
        return _windows_1252(value)
    try:
        return _windows_1252(latin.decode("utf-8"))
    except UnicodeDecodeError:
        return value.translate(_CP1252) if _C1_LATIN1_RE.search(latin) else value


def _windows_1252(value: str) -> str:
    # (str.translate and a regex over str are slow on long bodies: search the UTF-8 bytes,
    # where a character in 0x80-0x9F is b"\xc2" and one byte of 0x80-0x9F)
    return value.translate(_CP1252) if _C1_UTF8_RE.search(value.encode("utf-8")) else value


def _resolve(base: str, uri: str) -> str:
    if not uri or _PLAIN_URL_RE.match(uri):
        return uri  # joining a plain absolute URL to anything gives it back as it is
    uri = _URI_SLASHES_RE.sub(r"\1\3", uri)
    try:
        return urljoin(base, uri)
    except ValueError:
        return ""


def _link(value: str) -> str:
    # feedparser undoes escaping that some feeds apply twice: "?a=1&amp;b=2", "&b;=2"
    if "&" not in value:
        return value
    return _REF_LIKE_RE.sub(r"&\g<1>", value.replace("&amp;", "&"))


def _rfc822(value: str) -> time.struct_time:
    match = _RFC822_RE.fullmatch(value)
    if not match:
        raise Declined
    day, month, year, hour, minute, second, zone = match.groups()
    offset = 0 if zone in ("GMT", "UTC", "UT", "Z") else _offset(zone[0], zone[1:3], zone[3:])
    # (the weekday is ignored, as feedparser ignores it)
    return _utc(int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second), offset)


def _w3c(value: str) -> time.struct_time:
    match = _W3C_RE.fullmatch(value)
    if not match:
        raise Declined
    year, month, day, hour, minute, second, zone = match.groups()
    offset = 0 if zone == "Z" else _offset(zone[0], zone[1:3], zone[4:])
    return _utc(int(year), int(month), int(day), int(hour), int(minute), int(second), offset)


def _offset(sign: str, hours: str, minutes: str) -> int:
    if int(hours) > 23 or int(minutes) > 59:
        raise Declined
    return (1 if sign == "+" else -1) * (int(hours) * 60 + int(minutes))


def _utc(
    year: int, month: int, day: int, hour: int, minute: int, second: int, offset: int
) -> time.struct_time:
    """The moment as a UTC time tuple, as feedparser gives it; an impossible date (hour 24,
    30 February) is left to feedparser, which reads some of them its own way."""
    try:
        local = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        raise Declined from None
    if not 1900 <= year <= 9998:
        raise Declined
    return (local - timedelta(minutes=offset)).utctimetuple()
