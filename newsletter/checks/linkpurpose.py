"""Link purpose (WCAG 2.4.4): can a screen-reader user tell where each link goes?

Screen readers list an email's links out of context, by name. A link's name here is what a
screen reader announces in every client: its text, with the alt text of images inside it.
``aria-label`` is not counted, because Yahoo removes it; links hidden with ``aria-hidden``
are skipped, since they are not announced (their text link is).
"""

from __future__ import annotations

from collections import defaultdict
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from newsletter.checks.report import CheckReport, Level

# Link texts that say nothing on their own, in the languages the templates speak.
GENERIC_TEXTS = frozenset(
    {
        "click here", "here", "link", "more", "read more", "learn more", "find out more",
        "more info", "details", "this", "klikk her", "her", "les mer", "mer", "lenke",
        "les mer her", "se mer",
    }
)  # fmt: skip


def link_name(node: LexborNode) -> str:
    """The name a screen reader gives the link: its text and its images' alt text."""
    parts: list[str] = []
    for child in node.traverse(include_text=True):
        if child.tag == "-text":
            parts.append(child.text_content or "")
        elif child.tag == "img":
            parts.append(f" {child.attributes.get('alt') or ''} ")
    return " ".join("".join(parts).split())


def _destination(href: str) -> str:
    """The page a link leads to: analytics parameters do not make it another page."""
    parts = urlsplit(href.strip())
    query = [(k, v) for k, v in parse_qsl(parts.query) if not k.startswith("utm_")]
    return urlunsplit(parts._replace(query=urlencode(query), fragment=""))


def _hidden(node: LexborNode) -> bool:
    current: LexborNode | None = node
    while current is not None:
        if (current.attributes.get("aria-hidden") or "").lower() == "true":
            return True
        current = current.parent
    return False


def check_link_purpose(report: CheckReport, tree: LexborHTMLParser) -> None:
    pages: dict[str, set[str]] = defaultdict(set)
    links: dict[str, list[str]] = defaultdict(list)
    names: dict[str, str] = {}
    labelled: dict[str, bool] = defaultdict(bool)
    for a in tree.css("a[href]"):
        if _hidden(a):
            continue
        href = a.attributes.get("href") or ""
        name = link_name(a)
        if not name:
            report.add(
                Level.error, "link-purpose",
                "a link with no text and no image alt text: screen readers announce only "
                "“link”",
                href,
            )  # fmt: skip
            continue
        key = name.casefold().strip(" .:!→›»")
        names.setdefault(key, name)
        pages[key].add(_destination(href))
        links[key].append(href)
        labelled[key] |= bool(a.attributes.get("aria-label"))
    for key, destinations in pages.items():
        name, count = names[key], len(links[key])
        hint = " (aria-label does not count: Yahoo removes it)" if labelled[key] else ""
        if key in GENERIC_TEXTS:
            times = f"{count} links read" if count > 1 else "a link reads"
            report.add(
                Level.warning, "link-purpose",
                f"{times} only “{name}”, which does not say where it goes; add the story's "
                f"name as text{hint}",
                links[key][0],
            )  # fmt: skip
        elif len(destinations) > 1:
            report.add(
                Level.warning, "link-purpose",
                f"{count} links read “{name}” but go to {len(destinations)} different "
                f"pages; give each its own text{hint}",
                ", ".join(sorted(destinations)[:3]),
            )  # fmt: skip
