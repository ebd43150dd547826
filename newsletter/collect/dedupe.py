"""Is this story already known? Four tests, cheapest first.

1. the same guid (a URL-shaped guid is global; an opaque one only within its source),
2. the same canonical URL (tracking parameters, fragment and ``www.`` already removed),
3. the same normalised title and summary (a content hash),
4. nearly the same title and summary: a bottom-k MinHash sketch of word 3-shingles,
   compared only with stories from other sources published within a month.

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

SKETCH_SIZE = 32  # hashes kept per story
LSH_KEYS = 6  # of which the smallest are looked up to find candidates
NEAR_DUPLICATE = 0.6  # estimated Jaccard similarity of the shingle sets (same press release)
WINDOW = timedelta(days=31)  # stories further apart in time are different stories
MIN_HASH_TEXT = 40  # shorter title+summary text is too generic to prove anything

_WORD_RE = re.compile(r"\w+")


def normal_words(text: str) -> list[str]:
    return _WORD_RE.findall(unicodedata.normalize("NFKC", text).casefold())


def guid_key(item: NewsItem) -> str | None:
    guid = (item.guid or "").strip()
    if not guid:
        return None
    if guid.startswith(("http://", "https://")):
        from newsletter.collect.normalize import canonical_url

        return f"g:{canonical_url(guid) or guid}"
    return f"g:{item.source}\x1f{guid}"


def content_key(item: NewsItem) -> str | None:
    text = " ".join(normal_words(item.title)) + "|" + " ".join(normal_words(item.summary))
    if len(text) < MIN_HASH_TEXT:
        return None
    return "h:" + hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def url_key(url: str) -> str:
    """``https://www.example.org/a`` and ``https://example.org/a`` are the same story."""
    _, _, rest = url.partition("://")
    return f"u:{rest.removeprefix('www.')}"


def item_keys(item: NewsItem) -> list[str]:
    keys = [url_key(item.url)]
    for key in (guid_key(item), content_key(item)):
        if key:
            keys.append(key)
    return keys


def sketch(item: NewsItem) -> tuple[int, ...]:
    """The SKETCH_SIZE smallest hashes of the story's word 3-shingles."""
    words = normal_words(f"{item.title} {item.summary}")
    if len(words) < 3:
        shingles = set(words)
    else:
        shingles = {" ".join(words[i : i + 3]) for i in range(len(words) - 2)}
    return tuple(sorted({zlib.crc32(s.encode()) for s in shingles})[:SKETCH_SIZE])


def similarity(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Estimated Jaccard similarity of two bottom-k sketches."""
    if not a or not b:
        return 0.0
    union = sorted(set(a) | set(b))[: min(SKETCH_SIZE, len(set(a) | set(b)))]
    both = set(a) & set(b)
    return sum(1 for h in union if h in both) / len(union)


@dataclass
class Known:
    """What the index remembers of a stored story to judge a near-duplicate."""

    published: float
    source: str
    sketch: tuple[int, ...]


@dataclass(frozen=True)
class Match:
    item_id: str
    stage: str  # "guid", "id", "url", "hash" or "near"


class DedupeIndex:
    def __init__(self) -> None:
        self.keys: dict[str, str] = {}
        self.known: dict[str, Known] = {}
        self._lsh: dict[int, set[str]] = defaultdict(set)

    def add(
        self, item_id: str, item: NewsItem, keys: list[str], signature: tuple[int, ...]
    ) -> None:
        for key in keys:
            self.keys.setdefault(key, item_id)
        self.remember(item_id, item.published.timestamp(), item.source, signature)

    def remember(
        self, item_id: str, published: float, source: str, signature: tuple[int, ...]
    ) -> None:
        self.known[item_id] = Known(published, source, signature)
        for h in signature[:LSH_KEYS]:
            self._lsh[h].add(item_id)

    def match(self, item: NewsItem, keys: list[str], signature: tuple[int, ...]) -> Match | None:
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
        candidates = set().union(*(self._lsh.get(h, ()) for h in signature[:LSH_KEYS]))
        for candidate in candidates:
            known = self.known[candidate]
            if known.source == item.source or abs(known.published - published) > window:
                continue  # a source does not repeat its own story under another address
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
    """Merge the repeats within one source's batch (a feed listing a story twice)."""
    index = DedupeIndex()
    kept: dict[str, NewsItem] = {}
    repeats = 0
    for item in items:
        keys, signature = item_keys(item), sketch(item)
        found = index.match(item, keys, signature)
        if found is not None and found.stage != "near":
            kept[found.item_id] = merge(kept[found.item_id], item.model_copy(
                update={"id": found.item_id}))  # fmt: skip
            repeats += 1
            continue
        kept[item.id] = item
        index.add(item.id, item, keys, signature)
    return list(kept.values()), repeats
