"""What the fast feed readers (rss2.py, atom.py) share: feedparser's rules for one field.

Each helper gives a field exactly as feedparser would, or raises ``Declined`` when the
input is one feedparser reads its own way, so that the reader hands the whole document to
feedparser instead. tests/test_collect_fast_path.py holds both readers to that.
"""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin

from newsletter.collect.fetch import Fetched

MRSS = "http://search.yahoo.com/mrss/"
Entry = dict[str, Any]
NO_ATTRIBUTES: frozenset[str] = frozenset()
MEDIA_ATTRIBUTES = frozenset(
    {"url", "medium", "type", "width", "height", "fileSize", "duration", "bitrate",
     "framerate", "samplingrate", "channels", "expression", "isDefault"}
)  # fmt: skip
THUMBNAIL_ATTRIBUTES = frozenset({"url", "width", "height"})
# What a media:content may hold, with the attributes each part may carry
MEDIA_PARTS: dict[str, frozenset[str]] = {
    f"{{{MRSS}}}description": frozenset({"type"}),
    f"{{{MRSS}}}credit": frozenset({"role", "scheme"}),
    f"{{{MRSS}}}thumbnail": THUMBNAIL_ATTRIBUTES,
}
MEDIA_CONTENT = f"{{{MRSS}}}content"
MEDIA_THUMBNAIL = f"{{{MRSS}}}thumbnail"

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
# An absolute http(s) URL that urljoin would give back unchanged, whatever the base
_PLAIN_URL_RE = re.compile(
    r"https?://[A-Za-z0-9.-]+(?::[0-9]+)?(?:/[-A-Za-z0-9._~%!$&'()*+,=:@/]*)?"
    r"(?:\?[-A-Za-z0-9._~%!$&'()*+,=:@/?;]+)?\Z"
)
_C1_BYTES = bytes(range(0x80, 0xA0))
_C1_UTF8_RE = re.compile(b"\xc2[\x80-\x9f]")
_URI_SLASHES_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+-.]*://)(/*)(.*?)")
_REF_LIKE_RE = re.compile(r"&([A-Za-z0-9_]+);")


class Declined(Exception):
    """The document has something this reader does not fully understand."""


def plain_utf8(fetched: Fetched) -> bool:
    """The document is UTF-8 (declared, by the server's charset, or both), has no DOCTYPE
    and comes without a Content-Language header: the documents the fast readers take."""
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


def text_of(element: ET.Element) -> str:
    """Text as feedparser gives it: stripped, UTF-8 read as Latin-1 repaired (once), and
    the windows-1252 characters for code points 0x80-0x9F (``&#146;`` is ’)."""
    return fix(element.text)


def fix(text: str | None) -> str:
    """See ``text_of``."""
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
        # (deleting the bytes and comparing is 4x faster than a regex character class)
        has_c1 = len(latin.translate(None, _C1_BYTES)) != len(latin)
        return value.translate(_CP1252) if has_c1 else value


def _windows_1252(value: str) -> str:
    # (str.translate and a regex over str are slow on long bodies: search the UTF-8 bytes,
    # where a character in 0x80-0x9F is b"\xc2" and one byte of 0x80-0x9F)
    return value.translate(_CP1252) if _C1_UTF8_RE.search(value.encode("utf-8")) else value


def strip(text: str | None) -> str:
    return (text or "").strip()


def resolve(base: str, uri: str) -> str:
    """``uri`` joined to ``base`` as feedparser joins them (extra slashes after the scheme
    dropped; a URL urljoin refuses becomes empty)."""
    if not uri or _PLAIN_URL_RE.match(uri):
        return uri  # joining a plain absolute URL to anything gives it back as it is
    uri = _URI_SLASHES_RE.sub(r"\1\3", uri)
    try:
        return urljoin(base, uri)
    except ValueError:
        return ""


def unescape_link(value: str) -> str:
    """feedparser undoes escaping that some feeds apply twice to a link's text:
    "?a=1&amp;b=2", "&b;=2"."""
    if "&" not in value:
        return value
    return _REF_LIKE_RE.sub(r"&\g<1>", value.replace("&amp;", "&"))


def description(entry: Entry, value: str, depth: int, summary_depth: int | None) -> int | None:
    """A summary (or a photo caption, one level deeper) as feedparser takes it."""
    if "summary" in entry and "content" not in entry:
        raise Declined  # feedparser would make it content, and lose its place afterwards
    if summary_depth is None or depth <= summary_depth:
        entry["summary"] = value
        return depth
    return summary_depth


def media(entry: Entry, element: ET.Element, summary_depth: int | None) -> int | None:
    """A ``media:content`` (with its caption, credit and thumbnail) or ``media:thumbnail``
    of an entry, as feedparser reads it; gives the depth the summary came from.

    The entry also keeps the first caption's and credit's raw text (``media_description``,
    ``media_credit``), which feedparser drops: feed.py takes them as feed.media_captions
    would from the tree, without walking it again."""
    if element.tag == MEDIA_THUMBNAIL:
        check_leaf(element, THUMBNAIL_ATTRIBUTES)
        entry["media_thumbnail"].append(_thumbnail(element))
        return summary_depth
    check_attributes(element, MEDIA_ATTRIBUTES)
    if (element.text or "").strip():
        raise Declined
    entry["media_content"].append(lower_type(element.attrib))
    for part in element:
        attributes = MEDIA_PARTS.get(part.tag) if isinstance(part.tag, str) else None
        if attributes is None:
            raise Declined
        check_leaf(part, attributes)
        if part.tag == f"{{{MRSS}}}description":
            if part.get("type", "plain") not in ("plain", "html"):
                raise Declined
            summary_depth = description(entry, text_of(part), 2, summary_depth)
            entry.setdefault("media_description", strip(part.text))
        elif part.tag == f"{{{MRSS}}}credit":
            entry.setdefault("media_credit", strip(part.text))
        elif part.tag == MEDIA_THUMBNAIL:
            entry["media_thumbnail"].append(_thumbnail(part))
    return summary_depth


def _thumbnail(element: ET.Element) -> dict[str, str]:
    # (feedparser reads a thumbnail's address from its text when it has no url attribute)
    if "url" not in element.attrib or (element.text or "").strip():
        raise Declined
    return dict(element.attrib)


def check_attributes(element: ET.Element, allowed: frozenset[str]) -> None:
    if not allowed.issuperset(element.attrib):
        raise Declined


def check_leaf(element: ET.Element, allowed: frozenset[str]) -> None:
    """The element holds only text, and only attributes in ``allowed``."""
    if len(element) or not allowed.issuperset(element.attrib):
        raise Declined


def lower_type(attrib: dict[str, str]) -> dict[str, str]:
    media = dict(attrib)
    if "type" in media:
        media["type"] = media["type"].lower()
    return media


def rfc822(value: str) -> time.struct_time:
    """An RFC 822 date (RSS's pubDate) in the forms feedparser reads alike."""
    match = _RFC822_RE.fullmatch(value)
    if not match:
        raise Declined
    day, month, year, hour, minute, second, zone = match.groups()
    offset = 0 if zone in ("GMT", "UTC", "UT", "Z") else _offset(zone[0], zone[1:3], zone[3:])
    # (the weekday is ignored, as feedparser ignores it)
    return _utc(int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second), offset)


def w3c(value: str) -> time.struct_time:
    """A W3C date and time (Atom's, dc:date), with seconds and a zone."""
    match = _W3C_RE.fullmatch(value)
    if not match:
        raise Declined
    year, month, day, hour, minute, second, zone = match.groups()
    offset = 0 if zone == "Z" else _offset(zone[0], zone[1:3], zone[4:])
    return _utc(int(year), int(month), int(day), int(hour), int(minute), int(second), offset)


def any_date(value: str) -> time.struct_time:
    """A date in either form: feedparser tries every form it knows on every date element."""
    return w3c(value) if value[:1].isdigit() and "-" in value[:5] else rfc822(value)


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
