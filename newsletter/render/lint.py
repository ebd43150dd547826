"""Our own check of generated MJML: unknown tags, unknown attributes, misplaced components.

mjml-python (MRML) passes unknown tags and attributes through silently, so a typo such as
``<mj-colum>`` in a custom template produces a broken email without any error. The tables
below are official MJML 5's component attributes (``allowedAttributes``) and allowed children.
Unclosed tags are found here too: mjml-python only says "unexpected end of stream" for them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ATTRS = {
    "mjml": "lang dir owa",
    "mj-head": "",
    "mj-body": "background-color id width",
    "mj-include": "path type css-inline",
    "mj-attributes": "",
    "mj-breakpoint": "width",
    "mj-font": "href name",
    "mj-preview": "",
    "mj-style": "inline",
    "mj-title": "",
    "mj-raw": "position",
    "mj-accordion": "border container-background-color font-family icon-align icon-height "
    "icon-position icon-unwrapped-alt icon-unwrapped-url icon-width icon-wrapped-alt "
    "icon-wrapped-url padding padding-bottom padding-left padding-right padding-top",
    "mj-accordion-element": "background-color border font-family icon-align icon-height "
    "icon-position icon-unwrapped-alt icon-unwrapped-url icon-width icon-wrapped-alt "
    "icon-wrapped-url",
    "mj-accordion-text": "background-color color font-family font-size font-weight "
    "letter-spacing line-height padding padding-bottom padding-left padding-right padding-top",
    "mj-accordion-title": "background-color color font-family font-size font-weight padding "
    "padding-bottom padding-left padding-right padding-top",
    "mj-button": "align background-color border border-bottom border-left border-radius "
    "border-right border-top color container-background-color font-family font-size "
    "font-style font-weight height href inner-padding letter-spacing line-height name padding "
    "padding-bottom padding-left padding-right padding-top rel target text-align "
    "text-decoration text-transform title vertical-align width",
    "mj-carousel": "align border-radius container-background-color icon-width left-icon "
    "padding padding-bottom padding-left padding-right padding-top right-icon tb-border "
    "tb-border-radius tb-hover-border-color tb-selected-border-color tb-width thumbnails",
    "mj-carousel-image": "alt border-radius href rel src target tb-border tb-border-radius "
    "thumbnails-src title",
    "mj-column": "background-color border border-bottom border-left border-radius "
    "border-right border-top direction inner-background-color inner-border "
    "inner-border-bottom inner-border-left inner-border-radius inner-border-right "
    "inner-border-top padding padding-bottom padding-left padding-right padding-top "
    "vertical-align width",
    "mj-divider": "align border-color border-style border-width container-background-color "
    "padding padding-bottom padding-left padding-right padding-top width",
    "mj-group": "background-color direction vertical-align width",
    "mj-hero": "background-color background-height background-position background-url "
    "background-width border-radius height inner-background-color inner-padding "
    "inner-padding-bottom inner-padding-left inner-padding-right inner-padding-top mode "
    "padding padding-bottom padding-left padding-right padding-top vertical-align",
    "mj-image": "align alt border border-bottom border-left border-radius border-right "
    "border-top container-background-color fluid-on-mobile font-size height href max-height "
    "name padding padding-bottom padding-left padding-right padding-top rel sizes src srcset "
    "target title usemap width",
    "mj-navbar": "align base-url hamburger ico-align ico-close ico-color ico-font-family "
    "ico-font-size ico-line-height ico-open ico-padding ico-padding-bottom ico-padding-left "
    "ico-padding-right ico-padding-top ico-text-decoration ico-text-transform padding "
    "padding-bottom padding-left padding-right padding-top",
    "mj-navbar-link": "color font-family font-size font-style font-weight href letter-spacing "
    "line-height name padding padding-bottom padding-left padding-right padding-top rel "
    "target text-decoration text-transform",
    "mj-section": "background-color background-position background-position-x "
    "background-position-y background-repeat background-size background-url border "
    "border-bottom border-left border-radius border-right border-top direction full-width "
    "gutter padding padding-bottom padding-left padding-right padding-top text-align "
    "text-padding",
    "mj-social": "align border border-radius color container-background-color font-family "
    "font-size font-style font-weight icon-height icon-padding icon-size inner-padding "
    "line-height mode padding padding-bottom padding-left padding-right padding-top "
    "table-layout text-decoration text-padding vertical-align",
    "mj-social-element": "align alt background-color border border-radius color font-family "
    "font-size font-style font-weight href icon-height icon-padding icon-position icon-size "
    "line-height name padding padding-bottom padding-left padding-right padding-top rel sizes "
    "src srcset target text-decoration text-padding title vertical-align",
    "mj-spacer": "border border-bottom border-left border-right border-top "
    "container-background-color height padding padding-bottom padding-left padding-right "
    "padding-top",
    "mj-table": "align border cellpadding cellspacing color container-background-color "
    "font-family font-size font-weight line-height padding padding-bottom padding-left "
    "padding-right padding-top role table-layout vertical-align width",
    "mj-text": "align background-color color container-background-color font-family "
    "font-size font-style font-weight height letter-spacing line-height padding "
    "padding-bottom padding-left padding-right padding-top text-decoration text-transform "
    "vertical-align",
    "mj-wrapper": "background-color background-position background-position-x "
    "background-position-y background-repeat background-size background-url border "
    "border-bottom border-left border-radius border-right border-top direction full-width gap "
    "gutter padding padding-bottom padding-left padding-right padding-top text-align "
    "text-padding",
}
ATTRIBUTES: dict[str, frozenset[str]] = {k: frozenset(v.split()) for k, v in _ATTRS.items()}
GLOBAL_ATTRIBUTES = frozenset({"css-class", "mj-class"})
ANY_ATTRIBUTE = frozenset().union(*ATTRIBUTES.values())
_ALLOWED = {name: attrs | GLOBAL_ATTRIBUTES for name, attrs in ATTRIBUTES.items()}

_BLOCK = ("mj-accordion mj-button mj-carousel mj-divider mj-image mj-raw mj-social mj-spacer "
          "mj-table mj-text mj-navbar")  # fmt: skip
CHILDREN: dict[str, frozenset[str]] = {
    k: frozenset(v.split())
    for k, v in {
        "mjml": "mj-body mj-head mj-raw",
        "mj-head": "mj-attributes mj-breakpoint mj-font mj-preview mj-style mj-title mj-raw",
        "mj-body": "mj-raw mj-section mj-wrapper mj-hero",
        "mj-wrapper": "mj-hero mj-raw mj-section",
        "mj-section": "mj-column mj-group mj-raw",
        "mj-group": "mj-column mj-raw",
        "mj-column": _BLOCK,
        "mj-hero": _BLOCK,
        "mj-accordion": "mj-accordion-element mj-raw",
        "mj-accordion-element": "mj-accordion-title mj-accordion-text mj-raw",
        "mj-carousel": "mj-carousel-image",
        "mj-navbar": "mj-navbar-link mj-raw",
        "mj-social": "mj-social-element mj-raw",
    }.items()
}
# Components whose content is HTML or text, not MJML: skipped to their closing tag.
CONTENT_TAGS = frozenset(
    [
        "mj-text",
        "mj-button",
        "mj-raw",
        "mj-style",
        "mj-title",
        "mj-preview",
        "mj-table",
        "mj-navbar-link",
        "mj-accordion-title",
        "mj-accordion-text",
        "mj-social-element",
        "mj-carousel-image",
    ]
)
# Valid MJML that mjml-python rejects or ignores.
UNSUPPORTED = {"mj-html-attributes": "mjml-python does not support it"}

_TAG_RE = re.compile(
    r"<!--.*?-->|<(/?)([A-Za-z][\w:.-]*)((?:\s+[^\s=>/]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]+))?)*)\s*(/?)>",
    re.S,
)
_ATTR_RE = re.compile(r"([^\s=>/]+)(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]+))?")


@dataclass(frozen=True)
class MjmlProblem:
    rule: str  # mjml-tag, mjml-attribute, mjml-nesting, mjml-structure, mjml-unsupported, alt
    message: str
    offset: int  # in the generated MJML
    line: int  # in the generated MJML
    where: str = ""  # template:line when known, else "generated MJML line N"

    def __str__(self) -> str:
        return f"{self.where or f'generated MJML line {self.line}'}: {self.message}"


# Left in the MJML by a diagnostic render (see newsletter.render) before each line of a
# template that starts an MJML tag, so a position in the output maps to a template line.
MARKER_RE = re.compile(r"<!--@tpl (.+?):(\d+)-->")


def where_in_templates(source: str, offset: int) -> str | None:
    """The template line the last marker before ``offset`` names, as "file:line"."""
    found = None
    for match in MARKER_RE.finditer(source, 0, offset + 1):
        found = match
    return f"{found.group(1)}:{found.group(2)}" if found else None


def lint_mjml(source: str) -> list[MjmlProblem]:
    """Unknown tags and attributes, misplaced components and unclosed tags in ``source``."""
    found: list[tuple[str, str, int]] = []  # rule, message, offset
    stack: list[tuple[str, int]] = []  # open tag, offset
    pos = 0
    while match := _TAG_RE.search(source, pos):
        pos = match.end()
        if match.group(2) is None:  # a comment
            continue
        closing, name, attrs, self_closing = match.groups()
        name = name.lower()
        at = match.start()
        if closing:
            names = [n for n, _ in stack]
            if name not in names:
                found.append(("mjml-structure", f"</{name}> closes a tag that is not open", at))
                continue
            while stack and stack[-1][0] != name:
                unclosed, opened = stack.pop()
                message = f"<{unclosed}> is not closed before </{name}>"
                found.append(("mjml-structure", message, opened))
            stack.pop()
            continue
        parent = stack[-1][0] if stack else None
        allowed: frozenset[str] | None
        if parent == "mj-attributes":
            allowed = _attributes_defaults(name)
            if allowed is None:
                found.append(("mjml-tag", f"unknown tag <{name}> in <mj-attributes>", at))
        elif name not in ATTRIBUTES:
            allowed = None
            message = f"unknown tag <{name}>: mjml-python would pass it through silently"
            found.append(("mjml-tag", message, at))
        else:
            allowed = _ALLOWED[name]
            if name in UNSUPPORTED:
                found.append(("mjml-unsupported", f"<{name}>: {UNSUPPORTED[name]}", at))
            if parent in CHILDREN and name not in CHILDREN[parent]:
                found.append(("mjml-nesting", f"<{name}> cannot be inside <{parent}>", at))
        given = {a.lower() for a in _ATTR_RE.findall(attrs)} if attrs else set()
        if name == "mj-image" and parent != "mj-attributes" and "alt" not in given:
            message = '<mj-image> without alt (write alt="" only for a decorative image)'
            found.append(("alt", message, at))
        if attrs and allowed is not None:
            for attr in _ATTR_RE.findall(attrs):
                if attr.lower() not in allowed:
                    message = f"unknown attribute {attr!r} on <{name}>"
                    found.append(("mjml-attribute", message, at))
        if self_closing:
            continue
        if name in CONTENT_TAGS:
            end = source.find(f"</{name}>", pos)
            if end < 0:  # unusual spelling: </mj-text >, </MJ-TEXT>
                found_end = re.compile(rf"</{re.escape(name)}\s*>", re.I).search(source, pos)
                if found_end is None:
                    found.append(("mjml-structure", f"<{name}> is never closed", at))
                pos = found_end.end() if found_end else len(source)
            else:
                pos = end + len(name) + 3
            continue
        stack.append((name, at))
    for unclosed, opened in stack:
        found.append(("mjml-structure", f"<{unclosed}> is never closed", opened))
    return [
        MjmlProblem(rule, message, offset, source.count("\n", 0, offset) + 1,
                    where_in_templates(source, offset) or "")
        for rule, message, offset in sorted(found, key=lambda f: f[2])
    ]  # fmt: skip


def _attributes_defaults(name: str) -> frozenset[str] | None:
    """Attributes a default inside <mj-attributes> may set; None for an unknown tag."""
    if name in ("mj-all", "mj-class"):
        return ANY_ATTRIBUTE | {"name"}
    return _ALLOWED.get(name)
