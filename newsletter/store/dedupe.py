"""Is this story already known? Four tests, cheapest first.

1. the same guid (a URL-shaped guid is global; an opaque one only within its source),
2. the same canonical URL (tracking parameters, fragment and ``www.`` already removed),
3. the same normalised title and summary (a content hash),
4. nearly the same title and summary: a MinHash sketch of word 3-shingles (one hash per
   shingle, spread over BINS bins, the minimum of each bin kept), found through LSH bands
   and compared only with stories from other sources published within a month whose
   titles carry the same numbers ("2024 awards" and "2026 awards" are two stories).

The index lives in memory for one collect run (the store loads it once and keeps it in
step with what it writes), so matching 10,000 items costs milliseconds, not queries.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from newsletter.models import NewsItem

BINS = 24  # minimum hashes kept per story (one per bin)
BAND = 3  # bins per LSH band: 8 bands find a pair at similarity 0.6 with p ≈ 0.86
NEAR_DUPLICATE = 0.6  # estimated Jaccard similarity of the shingle sets (same press release)
EMPTY = -1  # a bin no shingle fell into (short texts)
WINDOW = timedelta(days=31)  # stories further apart in time are different stories
MIN_HASH_TEXT = 40  # shorter title+summary text is too generic to prove anything

_WORD_RE = re.compile(r"\w+")
_NUMBER_RE = re.compile(r"\d+")


def normal_words(text: str) -> list[str]:
    return _WORD_RE.findall(unicodedata.normalize("NFKC", text).casefold())


def guid_key(item: NewsItem) -> str | None:
    guid = (item.guid or "").strip()
    if not guid:
        return None
    if guid.startswith(("http://", "https://")):
        return f"g:{guid}"
    return f"g:{item.source}\x1f{guid}"


def url_key(url: str) -> str:
    """``https://www.example.org/a`` and ``https://example.org/a`` are the same story."""
    _, _, rest = url.partition("://")
    return f"u:{rest.removeprefix('www.')}"


@dataclass(frozen=True)
class Fingerprint:
    """Everything deduplication compares, computed once per item."""

    keys: list[str]  # u: canonical URL, g: guid, h: content hash
    sketch: tuple[int, ...]
    numbers: str  # the numbers in the title, in order


def fingerprint(item: NewsItem) -> Fingerprint:
    title_words, summary_words = normal_words(item.title), normal_words(item.summary)
    keys = [url_key(item.url)]
    guid = guid_key(item)
    if guid:
        keys.append(guid)
    text = " ".join(title_words) + "|" + " ".join(summary_words)
    if len(text) >= MIN_HASH_TEXT:
        keys.append("h:" + hashlib.blake2b(text.encode(), digest_size=12).hexdigest())
    numbers = " ".join(_NUMBER_RE.findall(f"{item.kicker or ''} {item.title}"))
    return Fingerprint(keys, sketch(title_words + summary_words), numbers)


def sketch(words: list[str]) -> tuple[int, ...]:
    """One-permutation MinHash of word 3-shingles: the minimum hash per bin.

    A shingle's hash combines its three words' CRC-32s (stable across runs, unlike
    Python's ``hash``), so each word is hashed once, not once per shingle.
    """
    codes = [zlib.crc32(word.encode()) for word in words]
    if len(codes) < 3:
        values = set(codes)
    else:
        values = {
            (a * 0x9E3779B1 ^ b * 0x85EBCA77 ^ c) & 0xFFFFFFFF
            for a, b, c in zip(codes, codes[1:], codes[2:], strict=False)
        }
    mins = [EMPTY] * BINS
    for value in values:
        slot, rest = value % BINS, value // BINS
        if mins[slot] == EMPTY or rest < mins[slot]:
            mins[slot] = rest
    return tuple(mins)


def similarity(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Estimated Jaccard similarity: equal bins among the bins either story filled."""
    filled = same = 0
    for x, y in zip(a, b, strict=False):
        if x == EMPTY and y == EMPTY:
            continue
        filled += 1
        same += x == y
    return same / filled if filled else 0.0


def bands(signature: tuple[int, ...], numbers: str) -> list[int]:
    """LSH keys: each full band of bins, with the title's numbers (which must match anyway)."""
    keys = []
    for start in range(0, len(signature) - BAND + 1, BAND):
        rows = signature[start : start + BAND]
        if EMPTY not in rows:
            keys.append(hash((start, rows, numbers)))
    return keys


@dataclass
class Known:
    """What the index remembers of a stored story to judge a near-duplicate."""

    published: float
    source: str
    sketch: tuple[int, ...]
    numbers: str


@dataclass(frozen=True)
class Match:
    item_id: str
    stage: str  # "guid", "id", "url", "hash" or "near"


class DedupeIndex:
    def __init__(self) -> None:
        self.keys: dict[str, str] = {}
        self.known: dict[str, Known] = {}
        self._lsh: dict[int, set[str]] = defaultdict(set)

    def add(self, item_id: str, item: NewsItem, print_: Fingerprint) -> None:
        for key in print_.keys:
            self.keys.setdefault(key, item_id)
        self.remember(
            item_id, item.published.timestamp(), item.source, print_.sketch, print_.numbers
        )

    def remember(
        self,
        item_id: str,
        published: float,
        source: str,
        signature: tuple[int, ...],
        numbers: str,
    ) -> None:
        self.known[item_id] = Known(published, source, signature, numbers)
        for key in bands(signature, numbers):
            self._lsh[key].add(item_id)

    def match(self, item: NewsItem, print_: Fingerprint) -> Match | None:
        keys, signature, numbers = print_.keys, print_.sketch, print_.numbers
        guid = next((k for k in keys if k.startswith("g:")), None)
        if guid and guid in self.keys:
            return Match(self.keys[guid], "guid")
        if item.id in self.known:
            return Match(item.id, "id")
        url = url_key(item.url)
        if url in self.keys:
            return Match(self.keys[url], "url")
        published = item.published.timestamp()
        window = WINDOW.total_seconds()
        content = next((k for k in keys if k.startswith("h:")), None)
        if content and content in self.keys:
            found = self.keys[content]
            known = self.known.get(found)
            if known is None or abs(known.published - published) <= window:
                return Match(found, "hash")
        best, best_score = None, NEAR_DUPLICATE
        candidates = set().union(*(self._lsh.get(k, ()) for k in bands(signature, numbers)))
        for candidate in candidates:
            known = self.known[candidate]
            if known.source == item.source or abs(known.published - published) > window:
                continue  # a source does not repeat its own story under another address
            if known.numbers != numbers:
                continue
            score = similarity(signature, known.sketch)
            if score >= best_score:
                best, best_score = candidate, score
        return Match(best, "near") if best else None


FILLABLE = ("kicker", "image", "deadline", "event_date", "summary", "body_html", "guid", "updated")


def merge(existing: NewsItem, incoming: NewsItem) -> NewsItem:
    """One record for a story seen again.

    The story's own (first) source keeps authority over its content; another source only
    adds itself to ``sources`` and fills fields the record lacks (an image, a deadline).
    """
    sources = sorted({*existing.sources, existing.source, *incoming.sources, incoming.source})
    if incoming.source == existing.source:
        primary, other = incoming.model_copy(update={"id": existing.id}), existing
    else:
        primary, other = existing, incoming
    fill = {
        name: getattr(other, name)
        for name in FILLABLE
        if not getattr(primary, name) and getattr(other, name)
    }
    return primary.model_copy(update={**fill, "sources": sources})


def dedupe_batch(items: list[NewsItem]) -> tuple[list[NewsItem], int]:
    """Merge the repeats within one source's batch (a feed listing a story twice).

    Only exact repeats (the same id, address or guid): a source does not publish its own
    story twice under different words, and the store does the full matching anyway.
    """
    owner: dict[str, str] = {}
    kept: dict[str, NewsItem] = {}
    repeats = 0
    for item in items:
        keys = [f"i:{item.id}", url_key(item.url), guid_key(item) or ""]
        found = next((owner[k] for k in keys if k in owner), None)
        if found is not None:
            kept[found] = merge(kept[found], item.model_copy(update={"id": found}))
            repeats += 1
            continue
        kept[item.id] = item
        owner.update((k, item.id) for k in keys if k)
    return list(kept.values()), repeats
