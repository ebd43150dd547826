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

import xml.etree.ElementTree as ET

from newsletter.collect.feedfields import (
    MEDIA_ATTRIBUTES,
    MEDIA_CONTENT,
    MEDIA_THUMBNAIL,
    MRSS,
    Declined,
    Entry,
    description,
    fix,
    media,
    plain_utf8,
    resolve,
    rfc822,
    strip,
    unescape_link,
    w3c,
)
from newsletter.collect.fetch import Fetched
from newsletter.collect.language import language_code

CONTENT = "http://purl.org/rss/1.0/modules/content/"
DC = "http://purl.org/dc/elements/1.1/"
ATOM = "http://www.w3.org/2005/Atom"
SY = "http://purl.org/rss/1.0/modules/syndication/"
WFW = "http://wellformedweb.org/CommentAPI/"
SLASH = "http://purl.org/rss/1.0/modules/slash/"

_NONE: frozenset[str] = frozenset()
_MEDIA = MEDIA_ATTRIBUTES
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
    languages = [fix(el.text) for el in channel if el.tag == "language"]
    return entries, language_code(languages[-1]) if languages else None


def _document_fits(root: ET.Element, fetched: Fetched) -> bool:
    if root.tag != "rss" or root.attrib != {"version": "2.0"} or len(root) != 1:
        return False
    return plain_utf8(fetched)


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
            entry["title"] = fix(child.text)
        elif tag == "link":
            entry["link"] = unescape_link(fix(resolve(base, strip(child.text))))
        elif tag == "guid":
            permalink = child.get("isPermaLink", "true")
            if permalink not in ("true", "false"):
                raise Declined
            value = strip(child.text)
            value = fix(resolve(base, value) if permalink == "true" else value)
            entry["id"] = value
            if permalink == "true":
                entry.setdefault("link", value)
        elif tag == "description":
            summary_depth = description(entry, fix(child.text), 1, summary_depth)
        elif tag == f"{{{CONTENT}}}encoded":
            value = fix(child.text)
            entry.setdefault("content", []).append({"value": value})
            entry.setdefault("summary", value)
        elif tag == "pubDate":
            entry["published_parsed"] = rfc822(fix(child.text))
        elif tag == f"{{{DC}}}date":
            entry["updated_parsed"] = w3c(fix(child.text))
        elif tag == "enclosure":
            enclosure = {"href": child.get("url")} if child.get("url") else {}
            enclosure["type"] = child.get("type", "").lower()
            entry["enclosures"].append(enclosure)
        elif tag in (MEDIA_CONTENT, MEDIA_THUMBNAIL):
            summary_depth = media(entry, child, summary_depth)
    return entry
