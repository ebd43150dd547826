"""Which stories are one story in two languages.

Two stored stories are versions of one story when one names the other (``translation_of``:
WordPress translation links, or a hand-written item's key), or when their addresses differ
only in a language segment (``/en/news/x`` and ``/no/news/x``).
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

from newsletter.models import NewsItem

LANGUAGE_SEGMENTS = frozenset({"en", "no", "nb", "nn", "nor", "eng", "en-gb", "en-us", "nb-no"})


def neutral_url(url: str) -> str | None:
    """``url`` without its language segment, or None when its path has none."""
    parts = urlsplit(url)
    segments = parts.path.split("/")
    kept = [s for s in segments if s.lower() not in LANGUAGE_SEGMENTS]
    if len(kept) == len(segments):
        return None
    return urlunsplit(parts._replace(path="/".join(kept), query="", fragment=""))


def story_keys(item: NewsItem) -> set[str]:
    """What names this story in any language: its address, the one it translates, and its
    address without a language segment."""
    keys = {item.url}
    if item.guid and item.guid.startswith(("http://", "https://")):
        keys.add(item.guid)  # WordPress: https://site/?p=ID, how a translation names a post
    if item.translation_of:
        keys.add(item.translation_of)
    neutral = neutral_url(item.url)
    if neutral:
        keys.add(f"neutral:{neutral}")
    return keys


def keys_of(items: Iterable[NewsItem]) -> set[str]:
    found: set[str] = set()
    for item in items:
        found |= story_keys(item)
    return found


def same_story(item: NewsItem, keys: set[str]) -> bool:
    """Is ``item`` a version of a story that ``keys`` (``keys_of``) names?"""
    return bool(story_keys(item) & keys)
