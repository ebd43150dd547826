"""Rules on the email's compiled HTML: size, styles, headings, images, links, preheader."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import parse_qsl, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from newsletter.checks.clients import check_client_support
from newsletter.checks.images import check_image_sources
from newsletter.checks.linkpurpose import check_link_purpose
from newsletter.checks.report import CheckReport, Level
from newsletter.checks.text import check_placeholders, visible_source

GMAIL_CLIP_BYTES = 102 * 1024
HTML_BUDGET_BYTES = 90 * 1024
STYLE_BLOCK_BYTES = 16 * 1024
ALT_MAX = 125
TAP_TARGET_PX = 44

# Words a visible unsubscribe link may use, in the languages the templates speak.
UNSUBSCRIBE_WORDS = ("unsubscribe", "meld deg av", "avmeld", "opt out")
_FILENAME_RE = re.compile(
    r"(\.(jpe?g|png|gif|webp|svg|bmp|tiff?|heic|avif)$)|^(img|dsc|dscn|image|photo|pxl)[-_ ]?\d+",
    re.I,
)
_PX_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*px\s*$", re.I)


@dataclass(frozen=True)
class Expectations:
    """What the HTML should contain, from the config and issue (all optional)."""

    unsubscribe_url: str | None = None
    untracked_urls: tuple[str, ...] = ()  # unsubscribe, preferences, web version
    preheader: str | None = None


def check_html(report: CheckReport, html: str, expect: Expectations | None = None) -> None:
    """Every rule that reads the compiled HTML (with merge tokens filled for preview)."""
    expect = expect or Expectations()
    size = len(html.encode("utf-8"))
    report.html_bytes = size
    if size > GMAIL_CLIP_BYTES:
        report.add(Level.error, "size", f"HTML is {size / 1024:.1f} KB; Gmail clips over 102 KB")
    elif size > HTML_BUDGET_BYTES:
        report.add(Level.warning, "size", f"HTML is {size / 1024:.1f} KB; keep it under 90 KB")
    tree = LexborHTMLParser(html)
    _check_document(report, tree)
    _check_styles(report, tree)
    _check_headings(report, tree)
    _check_images(report, tree)
    check_image_sources(report, tree)
    _check_links(report, tree, expect)
    check_link_purpose(report, tree)
    _check_preheader(report, tree, expect.preheader)
    _check_tap_targets(report, tree)
    check_client_support(report, tree)
    check_placeholders(report, visible_source(html), "email.html")


def _check_document(report: CheckReport, tree: LexborHTMLParser) -> None:
    root = tree.css_first("html")
    attrs = root.attributes if root is not None else {}
    if not attrs.get("lang"):
        report.add(Level.error, "lang", "<html> has no lang attribute (screen readers need it)")
    if not attrs.get("dir"):
        report.add(Level.warning, "lang", "<html> has no dir attribute (ltr or rtl)")
    schemes = [m.attributes.get("content") or "" for m in tree.css('meta[name="color-scheme"]')]
    if not any("dark" in s for s in schemes):
        report.add(
            Level.warning, "dark-mode",
            'no <meta name="color-scheme" content="light dark">: clients will invert colours',
        )  # fmt: skip
    for table in tree.css("table"):
        role = table.attributes.get("role")
        if role != "presentation" and table.css_first("th") is None:
            report.add(
                Level.warning, "table-role",
                'a layout table without role="presentation": screen readers announce it as data',
                _describe(table),
            )  # fmt: skip


def _check_styles(report: CheckReport, tree: LexborHTMLParser) -> None:
    dark = False
    for style in tree.css("style"):
        css = style.text() or ""
        style_size = len(css.encode("utf-8"))
        if style_size > STYLE_BLOCK_BYTES:
            report.add(
                Level.error, "style-size",
                f"a <style> block is {style_size / 1024:.1f} KB; Gmail drops it over 16 KB",
            )  # fmt: skip
        nested = nested_at_rule(css)
        if nested:
            report.add(
                Level.error, "style-nesting",
                f"a <style> block nests {nested} inside another at-rule; Gmail drops the block",
            )  # fmt: skip
        dark = dark or "prefers-color-scheme" in css
    if not dark:
        report.add(
            Level.warning, "dark-mode",
            "no @media (prefers-color-scheme: dark) styles for Apple Mail and Outlook.com",
        )  # fmt: skip


def nested_at_rule(css: str) -> str | None:
    """The first at-rule that sits inside another block, e.g. @media inside @supports."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    css = re.sub(r"\"[^\"]*\"|'[^']*'", '""', css)
    depth = 0
    for match in re.finditer(r"[{}]|@[\w-]+", css):
        token = match.group()
        if token == "{":
            depth += 1
        elif token == "}":
            depth = max(0, depth - 1)
        elif depth > 0:
            return token
    return None


def _check_headings(report: CheckReport, tree: LexborHTMLParser) -> None:
    headings = tree.css("h1, h2, h3, h4, h5, h6")
    levels = [int((node.tag or "h0")[1]) for node in headings]
    ones = levels.count(1)
    if ones != 1:
        report.add(Level.error, "headings", f"the email has {ones} <h1> headings; it needs one")
    previous = 0
    for level, node in zip(levels, headings, strict=True):
        if previous and level > previous + 1:
            report.add(
                Level.error, "headings",
                f"<h{level}> follows <h{previous}>: a heading level is skipped",
                _text(node),
            )  # fmt: skip
        previous = level


def _check_images(report: CheckReport, tree: LexborHTMLParser) -> None:
    for img in tree.css("img"):
        src = img.attributes.get("src") or ""
        where = src or "<img> without src"
        alt = img.attributes.get("alt")
        if alt is None:
            report.add(Level.error, "alt", "image without alt text", where)
        elif not alt.strip():
            link = _ancestor(img, "a")
            if link is not None and not _text(link):
                report.add(
                    Level.error, "alt",
                    "a linked image with empty alt text: the link has no name",
                    where,
                )  # fmt: skip
        else:
            if len(alt) > ALT_MAX:
                report.add(
                    Level.warning, "alt",
                    f"alt text is {len(alt)} characters; keep it under {ALT_MAX}",
                    where,
                )  # fmt: skip
            basename = PurePosixPath(urlsplit(src).path).name
            if _FILENAME_RE.search(alt.strip()) or (basename and alt.strip() == basename):
                report.add(Level.error, "alt", f"alt text is a file name: {alt!r}", where)
        width = img.attributes.get("width") or ""
        if not width.strip().rstrip("px").isdigit():
            report.add(
                Level.error, "width",
                "image without a numeric width attribute (Outlook shows it full size)",
                where,
            )  # fmt: skip


def check_url(href: str) -> tuple[Level, str] | None:
    """Why a link target is wrong, or None when it is fine."""
    href = href.strip()
    if not href or href == "#":
        return Level.error, "empty link"
    parts = urlsplit(href)
    scheme = parts.scheme.lower()
    if scheme in ("mailto", "tel"):
        return None
    if scheme not in ("http", "https"):
        if not scheme:
            return Level.error, "relative link: email links must be absolute https URLs"
        return Level.error, f"{scheme}: link"
    if not parts.netloc or any(c.isspace() for c in href) or "." not in parts.netloc:
        return Level.error, "malformed link"
    if scheme == "http":
        return Level.warning, "link is not https"
    return None


def _check_links(report: CheckReport, tree: LexborHTMLParser, expect: Expectations) -> None:
    anchors = tree.css("a")
    seen: set[tuple[str, str]] = set()
    for a in anchors:
        href = a.attributes.get("href")
        if href is None:
            continue
        problem = check_url(href)
        if problem and (href, problem[1]) not in seen:
            seen.add((href, problem[1]))
            report.add(problem[0], "link", problem[1], href or _text(a))
        tracked = any(k.startswith("utm_") for k, _ in parse_qsl(urlsplit(href).query))
        if tracked and any(_same_page(href, url) for url in expect.untracked_urls):
            report.add(
                Level.error, "utm",
                "analytics parameters on an unsubscribe, preferences or web link",
                href,
            )  # fmt: skip
    visible = any(any(w in _text(a).lower() for w in UNSUBSCRIBE_WORDS) for a in anchors)
    if not visible:
        report.add(Level.error, "unsubscribe", "no visible unsubscribe link")
    elif expect.unsubscribe_url and not any(
        (a.attributes.get("href") or "").startswith(expect.unsubscribe_url) for a in anchors
    ):
        report.add(
            Level.error, "unsubscribe",
            "the unsubscribe link does not point at the unsubscribe URL",
            expect.unsubscribe_url,
        )  # fmt: skip


def _same_page(href: str, url: str) -> bool:
    a, b = urlsplit(href), urlsplit(url)
    return (a.netloc, a.path.rstrip("/")) == (b.netloc, b.path.rstrip("/"))


def _check_preheader(report: CheckReport, tree: LexborHTMLParser, preheader: str | None) -> None:
    if preheader is None:
        return
    if not preheader:
        report.add(
            Level.warning, "preheader",
            "no preheader: inboxes will show the first text of the email instead",
        )  # fmt: skip
        return
    for div in tree.css("div"):
        style = (div.attributes.get("style") or "").replace(" ", "").lower()
        if "display:none" in style and " ".join(preheader.split()) in _text(div):
            for part in ("max-height:0", "overflow:hidden", "mso-hide:all"):
                if part not in style:
                    report.add(
                        Level.warning, "preheader",
                        f"the hidden preheader lacks {part}; some clients will show it",
                    )  # fmt: skip
            return
    report.add(Level.error, "preheader", "the preheader is not in the HTML as hidden text")


def _check_tap_targets(report: CheckReport, tree: LexborHTMLParser) -> None:
    """Links styled as buttons (display:inline-block) must be at least 44 px tall."""
    for a in tree.css("a"):
        style = _style(a)
        if style.get("display") != "inline-block":
            continue
        line_height = _px(style.get("line-height"))
        if line_height is None:
            continue
        top, bottom = _padding(style)
        height = line_height + top + bottom
        if height < TAP_TARGET_PX:
            report.add(
                Level.warning, "tap-target",
                f"a link button is {height:.0f} px tall; make it at least {TAP_TARGET_PX} px",
                _text(a) or a.attributes.get("href") or "",
            )  # fmt: skip


def _text(node: LexborNode) -> str:
    return " ".join((node.text(deep=True) or "").split())


def _ancestor(node: LexborNode, tag: str) -> LexborNode | None:
    parent = node.parent
    while parent is not None:
        if parent.tag == tag:
            return parent
        parent = parent.parent
    return None


def _describe(node: LexborNode) -> str:
    text = _text(node)
    return f"<{node.tag}> “{text[:60]}”" if text else f"<{node.tag}>"


def _style(node: LexborNode) -> dict[str, str]:
    out = {}
    for declaration in (node.attributes.get("style") or "").split(";"):
        if ":" in declaration:
            key, value = declaration.split(":", 1)
            out[key.strip().lower()] = value.strip().lower()
    return out


def _px(value: str | None) -> float | None:
    match = _PX_RE.match(value or "")
    return float(match.group(1)) if match else None


def _padding(style: dict[str, str]) -> tuple[float, float]:
    parts = [_px(p) or 0.0 for p in style.get("padding", "0").split()]
    top, bottom = {1: (0, 0), 2: (0, 0), 3: (0, 2), 4: (0, 2)}.get(len(parts), (0, 0))
    base_top, base_bottom = (parts[top], parts[bottom]) if parts else (0.0, 0.0)
    return (
        _px(style.get("padding-top")) or base_top,
        _px(style.get("padding-bottom")) or base_bottom,
    )
