"""HTML listing pages (news pages without a feed), read with selectolax.

With ``[sources.selectors]`` the page is read exactly as told: ``item``, ``title``,
``link``, ``date``, ``summary`` and ``image`` are CSS selectors, and ``sel@attr`` reads an
attribute. Without them the listing is found by its shape: every date on the page (a
``<time>``, an element whose class says date, or a short text that is just a date) is
grown into the largest block that holds no other date; blocks with a link are the items.
That fits the common CMS listings (Vortex, WordPress themes, Drupal views) well enough.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from newsletter.collect.dates import parse_listing_date
from newsletter.collect.fetch import Fetched
from newsletter.collect.language import language_code
from newsletter.collect.normalize import Parsed, RawItem, canonical_url, clean_body
from newsletter.config import Source
from newsletter.errors import CollectError

_DATE_NODES = (
    "time, [class*=date], [class*=Date], [class*=published], [class*=posted], [class*=time]"
)
_SHORT_NODES = "span, small, p, div, em, strong, td, li, dd"
_SUMMARY_NODES = (
    "[class*=desc], [class*=summary], [class*=excerpt], [class*=teaser], [class*=intro], "
    "[class*=lead], [class*=ingress], [class*=abstract]"
)
_TITLE_LINKS = "h1 a[href], h2 a[href], h3 a[href], h4 a[href], h5 a[href], h6 a[href]"
_ARTICLE_NODES = (
    "[itemprop=articleBody]",
    "article",
    ".entry-content",
    ".post-content",
    "#vrtx-main-content",
    "main",
    "#content",
)
_CHARSET_RE = re.compile(rb"""<meta[^>]+charset=["']?([\w-]+)""", re.IGNORECASE)
_MIN_ARTICLE_TEXT = 200
_DATE_LINE_MAX = 80
_NEVER = datetime.min.replace(tzinfo=UTC)

Fetch = Callable[[str], Fetched]


def decode_html(fetched: Fetched) -> str:
    """The page as text: the charset from the header, else from a meta tag, else UTF-8."""
    charset = None
    ctype = fetched.headers.get("content-type", "")
    if "charset=" in ctype:
        charset = ctype.split("charset=", 1)[1].split(";")[0].strip().strip("\"'")
    if not charset:
        meta = _CHARSET_RE.search(fetched.body[:4096])
        charset = meta.group(1).decode("ascii", "replace") if meta else "utf-8"
    try:
        return fetched.body.decode(charset, errors="replace")
    except LookupError:
        return fetched.body.decode("utf-8", errors="replace")


def page_base(tree: LexborHTMLParser, url: str) -> str | None:
    """Where relative links point: ``<base href>``, else the page's canonical address, else
    the address it was fetched from.

    A saved copy of a page (a local file, or one served from another address) keeps the
    ``<link rel="canonical">`` (or ``og:url``) of the page it copies; its relative links and
    pictures live there, not beside the copy. A canonical address that is not sane (not an
    absolute http(s) URL, with credentials, or a site's front page named by a page deeper
    on the same site, a common CMS mistake) is ignored.
    """
    base = tree.css_first("base[href]")
    if base is not None and base.attributes.get("href"):
        return canonical_url(base.attributes["href"] or "", url) or url
    fetched = url if url.startswith(("http://", "https://")) else None
    for selector, attr in (
        ('link[rel="canonical"]', "href"),
        ('meta[property="og:url"]', "content"),
    ):
        node = tree.css_first(selector)
        value = (node.attributes.get(attr) or "").strip() if node is not None else ""
        if value and _sane_canonical(value, fetched):
            return value
    return fetched


def _sane_canonical(value: str, fetched: str | None) -> bool:
    if not value.lower().startswith(("http://", "https://")) or not canonical_url(value):
        return False
    parts = urlsplit(value)
    if parts.username is not None or parts.password is not None:
        return False
    if fetched is not None and parts.path in ("", "/"):
        here = urlsplit(fetched)
        if here.hostname == parts.hostname and here.path not in ("", "/"):
            return False
    return True


def parse_page(fetched: Fetched, *, source: Source) -> Parsed:
    if not fetched.body.strip():
        raise CollectError(f"{source.name}: {fetched.url} returned an empty page")
    tree = LexborHTMLParser(decode_html(fetched))
    base = page_base(tree, fetched.url)
    parsed = Parsed(base=base)
    if base is None:
        parsed.notices.append(
            'the page has no web address (no <link rel="canonical">), so its relative '
            "links cannot be resolved"
        )
    html = tree.css_first("html")
    language = language_code(html.attributes.get("lang") if html is not None else None)
    selectors = source.selectors or {}
    blocks: list[tuple[LexborNode, LexborNode | None]]
    if "item" in selectors:
        blocks = [(node, None) for node in tree.css(selectors["item"])]
    else:
        blocks = find_blocks(tree)
    if not blocks:
        raise CollectError(
            f"{source.name}: found no news items on {fetched.url}",
            hint="add [sources.selectors] with item, title, link and date CSS selectors",
        )
    for block, date_node in blocks:
        raw = _raw_item(block, date_node, selectors, language)
        if raw is not None:
            parsed.raw.append(raw)
    parsed.raw.sort(key=lambda d: d.published or _NEVER, reverse=True)
    return parsed


def _select(node: LexborNode, spec: str | None) -> tuple[LexborNode | None, str | None]:
    """``"a.title@href"`` → (the first match, "href"); ``"@datetime"`` reads ``node`` itself."""
    if not spec:
        return None, None
    selector, _, attr = spec.partition("@")
    found = node.css_first(selector.strip()) if selector.strip() else node
    return found, attr.strip() or None


def _raw_item(
    block: LexborNode,
    date_node: LexborNode | None,
    selectors: dict[str, str],
    language: str | None,
) -> RawItem | None:
    title_node, title_attr = _select(block, selectors.get("title"))
    if title_node is None:
        title_node = _title_node(block)
    if title_node is None:
        return None
    kicker = None
    kicker_node = title_node.css_first("[class*=kicker]")
    if kicker_node is not None:
        kicker = kicker_node.text(deep=True)
        kicker_node.decompose()
    title = (title_node.attributes.get(title_attr) or "") if title_attr else title_node.inner_html

    link_node, link_attr = _select(block, selectors.get("link"))
    if link_node is None:
        link_node = title_node if title_node.tag == "a" else title_node.css_first("a[href]")
        link_node = link_node or block.css_first("a[href]")
    link = (link_node.attributes.get(link_attr or "href") or "") if link_node is not None else ""

    published = None
    node, attr = _select(block, selectors.get("date"))
    node = node or date_node or _date_node(block)
    if node is not None:
        raw = node.attributes.get(attr or "datetime") or node.text(deep=True)
        published = parse_listing_date(raw or "")

    summary_node, summary_attr = _select(block, selectors.get("summary"))
    if summary_node is None and "summary" not in selectors:
        summary_node = block.css_first(_SUMMARY_NODES)
    if node is not None and node.mem_id not in (block.mem_id, getattr(summary_node, "mem_id", 0)):
        # The date line is read above; left in, it would open the summary and the preheader.
        stop = {block.mem_id} | ({summary_node.mem_id} if summary_node is not None else set())
        _date_line(node, stop).decompose()
    summary = ""
    if summary_node is not None:
        summary = (
            summary_node.attributes.get(summary_attr) or ""
            if summary_attr
            else summary_node.inner_html or ""
        )
    elif "summary" not in selectors:
        summary = " ".join(p.html or "" for p in block.css("p"))

    image_node, image_attr = _select(block, selectors.get("image"))
    image_node = image_node or block.css_first("img[src]")
    image_url = image_alt = caption = None
    if image_node is not None:
        image_url = image_node.attributes.get(image_attr or "src")
        image_alt = image_node.attributes.get("alt")
        caption_node = block.css_first("[class*=caption], figcaption")
        caption = caption_node.inner_html if caption_node is not None else None
    return RawItem(
        title=title or "",
        link=link,
        published=published,
        summary_html=summary,
        kicker=kicker,
        image_url=image_url,
        image_alt=image_alt,
        image_caption=caption,
        language=language,
    )


def _title_node(block: LexborNode) -> LexborNode | None:
    for selector in (_TITLE_LINKS, "a[class*=title][href]", "[class*=title] a[href]",
                     "h1, h2, h3, h4, h5, h6"):  # fmt: skip
        found = block.css_first(selector)
        if found is not None and found.text(deep=True).strip():
            return found
    links = [a for a in block.css("a[href]") if a.text(deep=True).strip()]
    return max(links, key=lambda a: len(a.text(deep=True).strip()), default=None)


def _date_node(block: LexborNode) -> LexborNode | None:
    for node in block.css(_DATE_NODES):
        if _is_date(node):
            return node
    return None


def _holds_short(node: LexborNode) -> bool:
    """Does ``node`` hold another short-text element? (``css`` matches the node itself too.)"""
    return any(n.mem_id != node.mem_id for n in node.css(_SHORT_NODES))


def _date_line(node: LexborNode, stop: set[int]) -> LexborNode:
    """The line a date is printed on ("Published <time>12 February 2024</time> · 3 min"):
    the date grown into its short-text ancestors, short of the block, the summary, and any
    element that also holds a link, a picture or a heading."""
    line = node
    while (
        (parent := line.parent) is not None
        and parent.mem_id not in stop
        and len(parent.text(deep=True).strip()) <= _DATE_LINE_MAX
        and parent.css_first("a[href], img, h1, h2, h3, h4, h5, h6") is None
    ):
        line = parent
    return line


def _is_date(node: LexborNode) -> bool:
    value = node.attributes.get("datetime") or node.text(deep=True)
    return bool(value) and len(value) <= 60 and parse_listing_date(value) is not None


def find_blocks(tree: LexborHTMLParser) -> list[tuple[LexborNode, LexborNode | None]]:
    """The repeated item blocks of a listing, each with the node that holds its date."""
    body = tree.body
    if body is None:
        return []
    dates = [n for n in body.css(_DATE_NODES) if _is_date(n)]
    if not dates:
        dates = [
            n for n in body.css(_SHORT_NODES)
            if len(n.text(deep=True)) <= 40 and not _holds_short(n) and _is_date(n)
        ]  # fmt: skip
    # A node matched by two selectors of the group comes back twice.
    dates = list({n.mem_id: n for n in dates}.values())
    # Keep the innermost date nodes ("<div class=date><time>…" is one date, not two).
    ids = {n.mem_id for n in dates}
    outer = set()
    for node in dates:
        parent = node.parent
        while parent is not None:
            if parent.mem_id in ids:
                outer.add(parent.mem_id)
            parent = parent.parent
    dates = [n for n in dates if n.mem_id not in outer]
    # How many dates each element holds; a block is the highest ancestor holding just one.
    held: Counter[int] = Counter()
    for node in dates:
        parent = node.parent
        while parent is not None:
            held[parent.mem_id] += 1
            parent = parent.parent
    blocks: list[tuple[LexborNode, LexborNode | None]] = []
    for node in dates:
        block = node
        while (
            block.parent is not None
            and block.parent.tag not in ("body", "html")
            and held[block.parent.mem_id] == 1
        ):
            block = block.parent
        if any(a.text(deep=True).strip() for a in block.css("a[href]")):
            blocks.append((block, node))
    parents = Counter(b.parent.mem_id for b, _ in blocks if b.parent is not None)
    if any(count >= 2 for count in parents.values()):
        blocks = [
            (b, d) for b, d in blocks if b.parent is not None and parents[b.parent.mem_id] >= 2
        ]
    return blocks


def article_parts(fetched: Fetched) -> tuple[str, str | None, str | None]:
    """An article page's body HTML, its og:image and its meta description."""
    tree = LexborHTMLParser(decode_html(fetched))
    for unwanted in tree.css("script, style, nav, header, footer, aside, form, noscript"):
        unwanted.decompose()
    body = ""
    for selector in _ARTICLE_NODES:
        node = tree.css_first(selector)
        if node is not None and len(node.text(deep=True).strip()) >= _MIN_ARTICLE_TEXT:
            body = node.inner_html or ""
            break
    if not body:
        weight: Counter[int] = Counter()
        parents: dict[int, LexborNode] = {}
        for p in tree.css("p"):
            if p.parent is not None:
                weight[p.parent.mem_id] += len(p.text(deep=True))
                parents[p.parent.mem_id] = p.parent
        if weight:
            body = parents[weight.most_common(1)[0][0]].inner_html or ""
    image = tree.css_first('meta[property="og:image"]')
    description = tree.css_first('meta[name="description"], meta[property="og:description"]')
    return (
        body,
        image.attributes.get("content") if image is not None else None,
        description.attributes.get("content") if description is not None else None,
    )


def follow_articles(parsed: Parsed, fetch: Fetch, limit: int) -> None:
    """Fill each raw item's body (and missing image and summary) from its article page.

    An article that cannot be fetched keeps what the listing had, with a notice.
    """
    for raw in parsed.raw[:limit]:
        url = canonical_url(raw.link, parsed.base)
        if not url:
            continue
        try:
            body, image, description = article_parts(fetch(url))
        except CollectError as exc:
            parsed.notices.append(f"kept the listing text of {url}: {exc.message}")
            continue
        raw.body_html = clean_body(body, url) or raw.body_html
        raw.image_url = raw.image_url or (canonical_url(image, url) if image else None)
        raw.summary_html = raw.summary_html or description or ""
