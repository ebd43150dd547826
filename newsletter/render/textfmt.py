"""Text helpers for the templates: Jinja filters, link tagging, dates and labels per language."""

from __future__ import annotations

import html
import re
import textwrap
from collections.abc import Mapping
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import jinja2
from markupsafe import Markup

from newsletter.i18n import Labels, messages


def labels_for(lang: str, project_locale: Path | None = None) -> Labels:
    """Interface words in ``lang`` from the message catalogs (English where one has none)."""
    return messages(lang, project_locale).labels


def format_date(value: date | datetime | None, labels: Labels, style: str = "") -> str:
    return labels.date(value, style)


def month_title(month: str, lang: str, project_locale: Path | None = None) -> str:
    """ "October 2020" for "2020-10", in the issue's language ("Oktober 2020")."""
    return messages(lang, project_locale).month(month, title=True)


def month_name(month: str, lang: str, project_locale: Path | None = None) -> str:
    """ "October 2020", "mars 2024": the month as running text says it (a subject)."""
    return messages(lang, project_locale).month(month)


@jinja2.pass_context
def date_filter(context: Any, value: date | datetime | None, style: str = "") -> str:
    labels = context.get("t")
    return format_date(value, labels if isinstance(labels, Labels) else labels_for("en"), style)


@lru_cache(maxsize=1)
def _markdown() -> Any:
    from markdown_it import MarkdownIt

    # Raw HTML in Markdown is disabled: intros are staff prose, not markup.
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": True})


def _shield(text: str) -> tuple[str, dict[str, str]]:
    """``text`` with each merge tag (``%%name%%``, ``*|FNAME|*``...) swapped for a plain word.

    Markdown must not read a tag's ``*`` or ``_`` as emphasis, nor percent-encode a tag
    used as a link; a word of letters and digits passes through text and links unchanged.
    """
    from newsletter.deliver.merge import LOOKALIKE_RE

    if not LOOKALIKE_RE.search(text):
        return text, {}
    stem = "mergetag"
    while stem in text:  # never mistake the editor's own words for a placeholder
        stem += "x"
    tags: dict[str, str] = {}

    def swap(match: re.Match[str]) -> str:
        word = f"{stem}{len(tags)}z"
        tags[word] = match.group()
        return word

    return LOOKALIKE_RE.sub(swap, text), tags


def _unshield(text: str, tags: Mapping[str, str], *, escape: bool) -> str:
    if not tags:
        return text
    stem = next(iter(tags))[: -len("0z")]
    pattern = re.compile(re.escape(stem) + r"\d+z")
    return pattern.sub(lambda m: html.escape(tags[m.group()]) if escape else tags[m.group()], text)


@lru_cache(maxsize=256)
def markdown_filter(text: str) -> Markup:
    """Markdown as HTML; merge tags in it come out exactly as written."""
    shielded, tags = _shield(text or "")
    return Markup(_unshield(_markdown().render(shielded), tags, escape=True))


@lru_cache(maxsize=256)
def markdown_text(text: str) -> str:
    """Markdown as plain text: one paragraph per block, links as "text (URL)"."""
    shielded, tags = _shield(text or "")
    return _unshield(_markdown_text(shielded), tags, escape=False)


def _markdown_text(text: str) -> str:
    blocks: list[str] = []
    prefix = ""
    counters: list[int] = []
    for token in _markdown().parse(text):
        if token.type == "bullet_list_open":
            counters.append(0)
        elif token.type == "ordered_list_open":
            counters.append(1)
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            counters.pop()
        elif token.type == "list_item_open":
            prefix = f"{counters[-1]}. " if counters and counters[-1] else "- "
            if counters and counters[-1]:
                counters[-1] += 1
        elif token.type == "inline":
            blocks.append(prefix + _inline_text(token.children or []))
            prefix = ""
        elif token.type in ("fence", "code_block"):
            blocks.append(token.content.rstrip())
    return "\n\n".join(b for b in blocks if b.strip())


def _inline_text(children: list[Any]) -> str:
    out: list[str] = []
    hrefs: list[str] = []
    start: list[int] = []
    for child in children:
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type == "softbreak":
            out.append(" ")
        elif child.type == "hardbreak":  # a line break the writer asked for ("  " or "\\")
            out.append("\n")
        elif child.type == "image":
            out.append(child.attrs.get("alt") or child.content or "")
        elif child.type == "link_open":
            hrefs.append(str(child.attrs.get("href", "")))
            start.append(len(out))
        elif child.type == "link_close" and hrefs:
            href, begin = hrefs.pop(), start.pop()
            if "".join(out[begin:]).strip() != href:
                out.append(f" ({href})")
    return "".join(out)


# Cached: a live preview re-renders the same paragraphs on every edit.
@lru_cache(maxsize=4096)
def wrap_filter(text: str, width: int = 78, indent: str = "") -> str:
    """Wrap prose paragraph by paragraph, keeping blank lines between them and the line
    breaks inside one (Markdown's hard breaks, from ``markdown_text``); never split URLs."""
    paragraphs = re.split(r"\n\s*\n", (text or "").strip())
    return "\n\n".join(
        "\n".join(
            textwrap.fill(
                " ".join(line.split()),
                width=width,
                initial_indent=indent,
                subsequent_indent=indent,
                break_long_words=False,
                break_on_hyphens=False,
            )
            for line in p.splitlines()
            if line.strip()
        )
        for p in paragraphs
        if p.strip()
    )


def add_utm(url: str, params: Mapping[str, str]) -> str:
    """``url`` with analytics parameters appended; ones the link already has are kept."""
    if not params:
        return url
    return _add_utm(url, tuple(params.items()))


@lru_cache(maxsize=4096)
def _add_utm(url: str, params: tuple[tuple[str, str], ...]) -> str:
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        return url
    present = {pair.split("=", 1)[0] for pair in parts.query.split("&") if pair}
    extra = [(k, v) for k, v in params if k not in present]
    if not extra:
        return url
    query = "&".join(q for q in (parts.query, urlencode(extra)) if q)
    return urlunsplit(parts._replace(query=query))


@jinja2.pass_context
def utm_filter(context: Any, url: str) -> str:
    """For outbound story links only; never for unsubscribe, preferences or web links."""
    return add_utm(url, context.get("utm_params") or {})


_CSS_SAFE = re.compile(r"^[\w\s#%().,'\"-]*$")


def css_filter(value: object) -> Markup:
    """A theme value placed in a <style> block, where HTML escaping would corrupt it."""
    text = str(value)
    if not _CSS_SAFE.match(text):
        raise ValueError(f"not a safe CSS value: {text!r}")
    return Markup(text)


def shorten_filter(text: str, limit: int = 220) -> str:
    """Cut at the last sentence end before ``limit`` characters (else a word, with "…")."""
    from newsletter.sanitize import summarize

    return summarize(text or "", limit)


FILTERS: dict[str, Any] = {
    "shorten": shorten_filter,
    "markdown": markdown_filter,
    "markdown_text": markdown_text,
    "wrap": wrap_filter,
    "date": date_filter,
    "utm": utm_filter,
    "css": css_filter,
}
