"""XML from fetched bytes, read safely and in any encoding a feed declares.

Every XML parse of a fetched document goes through here: ElementTree trees (``parse_tree``)
and feedparser's SAX parser (``create_parser``, which feed.py installs as feedparser's
preferred parser). Both are defusedxml's: a document that declares entities ("billion
laughs") or refers to external ones (a file or a URL to read) is refused before anything is
expanded. feedparser then reads the document with its lenient parser, which expands no
declared entity, as it does for any document that is not well-formed.

expat decodes UTF-8, UTF-16 with a byte order mark and single-byte encodings itself, but
not Big5, GB2312, EUC-KR, Shift_JIS, EUC-JP or UTF-16 without a mark: those documents are
decoded here first (by their byte order mark, their first bytes or their declaration) and
parsed as UTF-8.
"""

from __future__ import annotations

import codecs
import re
import xml.etree.ElementTree as ET
from typing import Any, NoReturn
from xml.sax import SAXParseException

import defusedxml.ElementTree as DefusedET
from defusedxml import DefusedXmlException
from defusedxml.expatreader import DefusedExpatParser

_BOMS = (  # the UTF-32 marks first: UTF-32-LE's starts with UTF-16-LE's
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)
# "<?" in a wide encoding without a byte order mark (XML 1.0, appendix F)
_WIDE_STARTS = {
    b"\x00\x00\x00<": "utf-32-be",
    b"<\x00\x00\x00": "utf-32-le",
    b"\x00<\x00?": "utf-16-be",
    b"<\x00?\x00": "utf-16-le",
}
_DECLARATION_RE = re.compile(r"^\s*<\?xml[^>]*?\?>")
_ENCODING_RE = re.compile(r"""encoding\s*=\s*["']([\w.:-]+)["']""")


def parse_tree(body: bytes) -> ET.Element | None:
    """The document's root element; None when it is not well-formed XML, declares entities,
    or is in an encoding nobody knows (feedparser then reads it in its own ways)."""
    try:
        return DefusedET.fromstring(body)
    except DefusedXmlException:
        return None
    except (ET.ParseError, ValueError, LookupError):
        # perhaps an encoding expat cannot decode by itself (it reads UTF-32 as UTF-16)
        if (document_encoding(body) or "utf-8").lower() in ("utf-8", "utf8"):
            return None
    text = decode(body)
    if text is None:
        return None
    try:
        return DefusedET.fromstring(_DECLARATION_RE.sub("", text, count=1).encode("utf-8"))
    except (ET.ParseError, DefusedXmlException, ValueError):
        return None


def document_encoding(body: bytes) -> str | None:
    """The codec a document is in: its byte order mark, its first bytes, its declaration;
    None when it declares nothing in an ASCII-compatible encoding (it is then UTF-8)."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return codec
    wide = _WIDE_STARTS.get(body[:4])
    if wide:
        return wide  # a declaration in a wide encoding can only name that encoding
    declaration = _DECLARATION_RE.match(body[:200].decode("latin-1"))
    found = _ENCODING_RE.search(declaration.group(0)) if declaration else None
    return found.group(1) if found else None


def decode(body: bytes) -> str | None:
    """The document as text; None if its encoding is unknown or its bytes do not fit it."""
    codec = document_encoding(body) or "utf-8"
    try:
        return codecs.decode(body, codecs.lookup(codec).name).removeprefix("\ufeff")
    except (LookupError, UnicodeDecodeError):
        return None


class FeedSaxParser(DefusedExpatParser):
    """defusedxml's SAX parser, refusing with a SAX error (which makes feedparser fall back
    to its lenient parser) instead of defusedxml's own exceptions (which feedparser would
    let through as a crash)."""

    def _refuse(self, what: str) -> NoReturn:
        raise SAXParseException(f"{what} are not read", None, self)

    def defused_entity_decl(self, *args: Any) -> NoReturn:
        self._refuse("entity declarations")

    def defused_unparsed_entity_decl(self, *args: Any) -> NoReturn:
        self._refuse("entity declarations")

    def defused_external_entity_ref_handler(self, *args: Any) -> NoReturn:
        self._refuse("external entities")


def create_parser(*args: Any, **kwargs: Any) -> FeedSaxParser:
    """What ``xml.sax.make_parser`` calls for a parser named by this module."""
    return FeedSaxParser(*args, **kwargs)


def install_for_feedparser() -> None:
    """Make feedparser's strict parser this module's (it asks for parsers by module name)."""
    import feedparser.api

    feedparser.api.PREFERRED_XML_PARSERS[:] = [__name__]
