"""The fast reader for plain Atom 1.0 (WordPress, Blogger, Hugo, Jekyll), read from the tree.

Like rss2.py, it walks the ElementTree that feed.py parses anyway (defusedxml's parser,
through safexml.py) and takes a document only when it reads every part of it exactly as
feedparser does, giving feedparser's entries field for field; everything else returns
None and feedparser reads the feed. What it takes:

- the document: ``<feed>`` in the Atom namespace, in UTF-8, no DOCTYPE, no
  Content-Language header; every element one it knows, in a place it knows, with only the
  attributes it knows (``xml:base`` and ``xml:lang`` anywhere);
- text constructs (title, summary, content) of type text, html or xhtml; xhtml is
  written out as feedparser writes it (tags lower-cased, empty elements closed, one
  wrapping ``div`` removed); a text or html construct that holds elements, and content
  that is out of line (``src``) or of another type, go to feedparser;
- links: the last ``rel="alternate"`` HTML link is the entry's link, else its ``id``;
  ``rel="enclosure"`` links are its enclosures; every address is resolved against the
  ``xml:base`` in scope, which follows feedparser's own bookkeeping (where that leaks a
  base past its element, so does this reader);
- dates: ``published`` and ``updated`` in the W3C or RFC 822 forms rss2.py reads;
- the feed's ``xml:lang`` is its language; media:content captions as in RSS.

Sanitising and escaping are not done here: normalize.py cleans every field of every
entry (nh3 for HTML, plain text for titles and summaries), whichever reader gave it.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

from newsletter.collect.feedfields import (
    MEDIA_CONTENT,
    MEDIA_THUMBNAIL,
    Declined,
    Entry,
    any_date,
    check_attributes,
    check_leaf,
    description,
    fix,
    media,
    plain_utf8,
    resolve,
    strip,
)
from newsletter.collect.fetch import Fetched
from newsletter.collect.language import language_code

ATOM = "http://www.w3.org/2005/Atom"
XHTML = "http://www.w3.org/1999/xhtml"
THR = "http://purl.org/syndication/thread/1.0"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_XML = frozenset({XML_BASE, XML_LANG})
_A = f"{{{ATOM}}}"
_X = f"{{{XHTML}}}"
_TEXT = _XML | {"type"}
_LINK = (
    _XML
    | {"href", "rel", "type", "title", "length", "hreflang"}
    | {
        f"{{{THR}}}count",
        f"{{{THR}}}updated",
    }
)
_PERSON = frozenset({f"{_A}name", f"{_A}email", f"{_A}uri"})
# Feed elements that describe only the feed: checked, and their xml:base followed
_FEED_LEAVES: dict[str, frozenset[str]] = {
    f"{_A}id": _XML,
    f"{_A}updated": _XML,
    f"{_A}icon": _XML,
    f"{_A}logo": _XML,
    f"{_A}generator": _XML | {"uri", "version"},
    f"{_A}category": _XML | {"term", "scheme", "label"},
}
_ENTRY_LEAVES: dict[str, frozenset[str]] = {
    f"{_A}category": _XML | {"term", "scheme", "label"},
    f"{{{THR}}}total": _XML,
}
_TEXT_TYPES = {"text": False, "text/plain": False, "html": False, "text/html": False,
               "xhtml": True, "application/xhtml+xml": True}  # fmt: skip
_HTML_TYPES = frozenset({"html", "text/html", "xhtml", "application/xhtml+xml"})
# XHTML elements written out as they are (feedparser has handlers for others: body, svg)
_XHTML_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "dfn",
        "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6",
        "hr", "i", "img", "ins", "kbd", "li", "ol", "p", "pre", "q", "s", "samp", "small",
        "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
        "u", "ul", "var",
    }
)  # fmt: skip  # fmt: skip
_ONCE = frozenset(f"{_A}{t}" for t in ("title", "id", "published", "updated", "summary", "content"))
# feedparser takes a document that declares RSS 1.0's or 0.90's namespace for that version
_RSS_NAMESPACE_RE = re.compile(
    rb"""["'](?:http://purl\.org/rss/1\.0/|http://my\.netscape\.com/rdf/simple/0\.9/)["']"""
)


def read_atom(root: ET.Element | None, fetched: Fetched) -> tuple[list[Entry], str | None] | None:
    """The feed's entries (shaped like feedparser's) and language, or None for feedparser."""
    if root is None or root.tag != f"{_A}feed" or not plain_utf8(fetched):
        return None
    if _RSS_NAMESPACE_RE.search(fetched.body[:8192]):
        return None
    base = fetched.headers.get("content-location", "")
    if base and not base.startswith(("http://", "https://")):
        return None
    reader = _Reader(base)
    try:
        entries = reader.feed(root)
    except Declined:
        return None
    lang = root.get(XML_LANG)
    return entries, language_code(lang.replace("_", "-")) if lang else None


class _Reader:
    """One document's walk; ``base`` and ``stack`` follow feedparser's xml:base bookkeeping."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.stack: list[str] = []

    def enter(self, element: ET.Element) -> None:
        given = element.get(XML_BASE)
        if given is not None:
            joined = resolve(self.base, given or self.base)
            if not joined.strip().startswith(("http://", "https://")):
                raise Declined  # (feedparser keeps the old base for some schemes, not all)
            self.base = joined
        self.stack.append(self.base)

    def leave(self) -> None:
        self.stack.pop()
        # (feedparser restores the base only when the parent's is not empty)
        if self.stack and self.stack[-1]:
            self.base = self.stack[-1]

    def leaf(self, element: ET.Element, attributes: frozenset[str]) -> None:
        """An element that holds only text: checked, and its xml:base followed."""
        check_leaf(element, attributes)
        if XML_BASE in element.attrib:
            self.enter(element)
            self.leave()

    def feed(self, root: ET.Element) -> list[Entry]:
        check_attributes(root, _XML)
        self.enter(root)
        entries = []
        for child in root:
            tag = child.tag
            if tag == f"{_A}entry":
                entries.append(self.entry(child))
            elif tag in (f"{_A}title", f"{_A}subtitle", f"{_A}rights"):
                self.text(child)
            elif tag == f"{_A}link":
                self.link(child, None)
            elif tag in (f"{_A}author", f"{_A}contributor"):
                self.person(child)
            elif isinstance(tag, str) and tag in _FEED_LEAVES:
                self.leaf(child, _FEED_LEAVES[tag])
            else:
                raise Declined
        self.leave()
        return entries

    def entry(self, element: ET.Element) -> Entry:
        check_attributes(element, _XML)
        self.enter(element)
        entry: Entry = {"media_content": [], "media_thumbnail": [], "enclosures": []}
        seen: set[str] = set()
        summary_depth: int | None = None
        for child in element:
            tag = child.tag
            if tag in _ONCE:
                if tag in seen:
                    raise Declined
                seen.add(tag)
            if tag == f"{_A}title":
                entry["title"] = self.text(child)
            elif tag == f"{_A}link":
                self.link(child, entry)
            elif tag == f"{_A}id":
                check_leaf(child, _XML)
                self.enter(child)
                # (feedparser takes an Atom id for a permalink: resolved, and the link
                # until an alternate link says otherwise)
                value = fix(resolve(self.base, strip(child.text)))
                self.leave()
                entry["id"] = value
                entry.setdefault("link", value)
            elif tag == f"{_A}published":
                self.leaf(child, _XML)
                entry["published_parsed"] = any_date(fix(child.text))
            elif tag == f"{_A}updated":
                self.leaf(child, _XML)
                entry["updated_parsed"] = any_date(fix(child.text))
            elif tag == f"{_A}summary":
                summary_depth = description(entry, self.text(child), 1, summary_depth)
            elif tag == f"{_A}content":
                value = self.text(child)
                entry.setdefault("content", []).append({"value": value})
                entry.setdefault("summary", value)
            elif tag in (f"{_A}author", f"{_A}contributor"):
                self.person(child)
            elif tag in (MEDIA_CONTENT, MEDIA_THUMBNAIL):
                if _XML.intersection(child.attrib):
                    raise Declined
                summary_depth = media(entry, child, summary_depth)
            elif isinstance(tag, str) and tag in _ENTRY_LEAVES:
                self.leaf(child, _ENTRY_LEAVES[tag])
            else:
                raise Declined
        self.leave()
        return entry

    def person(self, element: ET.Element) -> None:
        check_attributes(element, _XML)
        if (element.text or "").strip():
            raise Declined
        self.enter(element)
        for part in element:
            if part.tag not in _PERSON:
                raise Declined
            self.leaf(part, _XML)
        self.leave()

    def link(self, element: ET.Element, entry: Entry | None) -> None:
        check_leaf(element, _LINK)
        href = element.get("href")
        if not href or (element.text or "").strip():
            raise Declined  # (feedparser would read the link's address from its text)
        self.enter(element)
        href = resolve(self.base, href)
        self.leave()
        if entry is None:
            return
        rel = element.get("rel", "alternate").lower()
        kind = element.get("type", "application/atom+xml" if rel == "self" else "text/html")
        kind = kind.lower()
        if rel == "alternate" and kind in _HTML_TYPES:
            entry["link"] = href
        elif rel == "enclosure":
            entry["enclosures"].append({"href": href, "type": kind})

    def text(self, element: ET.Element) -> str:
        """A text construct's value, as feedparser gives it for its type."""
        check_attributes(element, _TEXT)
        xhtml = _TEXT_TYPES.get(element.get("type", "text").lower())
        if xhtml is None:
            raise Declined  # base64 or out-of-line content, or a type feedparser guesses at
        self.enter(element)
        if not xhtml:
            if len(element):
                raise Declined  # feedparser would take it for xhtml
            value = element.text
        else:
            value = _unwrap(self.xhtml(element))
        self.leave()
        return fix(value)

    def xhtml(self, element: ET.Element) -> list[str]:
        """The pieces feedparser writes an xhtml construct's children as."""
        pieces = [escape(element.text)] if element.text else []
        for child in element:
            self.xhtml_element(child, pieces)
        return pieces

    def xhtml_element(self, element: ET.Element, pieces: list[str]) -> None:
        tag = element.tag
        in_xhtml = isinstance(tag, str) and tag.startswith(_X)
        name = tag[len(_X) :] if in_xhtml else ""
        if name not in _XHTML_TAGS:
            raise Declined
        attributes = []
        for key, value in element.attrib.items():
            if "{" in key or key != key.lower() or key in ("base", "lang"):
                raise Declined  # namespaced (xml:base, xml:lang) or renamed by feedparser
            if key in ("rel", "type"):
                value = value.lower()
            attributes.append(f' {key}="{escape(value, {chr(34): "&quot;"})}"')
        pieces.append(f"<{name}{''.join(attributes)}>")
        if element.text:
            pieces.append(escape(element.text))
        for child in element:
            self.xhtml_element(child, pieces)
        pieces.append(f"</{name}>")
        if element.tail:
            pieces.append(escape(element.tail))


def _unwrap(pieces: list[str]) -> str:
    """feedparser's rule: one ``div`` around everything else is dropped."""
    while len(pieces) > 1 and not pieces[-1].strip():
        del pieces[-1]
    while len(pieces) > 1 and not pieces[0].strip():
        del pieces[0]
    first = pieces[0] if pieces else ""
    if (first == "<div>" or first.startswith("<div ")) and pieces[-1] == "</div>":
        depth = 0
        for piece in pieces[:-1]:
            if piece.startswith("</"):
                depth -= 1
                if depth == 0:
                    break
            elif piece.startswith("<"):
                depth += 1
        else:
            pieces = pieces[1:-1]
    return "".join(pieces)
