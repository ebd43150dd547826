"""How the draft ranks stories: a weighted sum of simple signals, each between 0 and 1.

The weights live in ``[draft.weights]``, ``[draft.kind_weights]`` and ``[draft.keywords]`` of
``newsletter.toml``, so an editor can tune the ranking without touching code, and
``newsletter draft --explain`` shows every signal of every candidate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from newsletter.config import DraftSettings, Source
from newsletter.editor.window import Window
from newsletter.models import NewsItem

# A story with this much text (summary plus body) gets the full length signal.
FULL_LENGTH_CHARS = 1500
# Markup does not count as text; a rough cut is enough for a length signal.
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class Score:
    recency: float
    source: float
    image: float
    length: float
    kind: float
    keywords: float
    total: float
    matched: tuple[str, ...] = ()

    def parts(self) -> dict[str, float]:
        return {
            "recency": self.recency,
            "source": self.source,
            "image": self.image,
            "length": self.length,
            "kind": self.kind,
            "keywords": self.keywords,
        }


def text_of(item: NewsItem) -> str:
    """The words a keyword can match: kicker, title and summary."""
    return " ".join(p for p in (item.kicker, item.title, item.summary) if p)


def keyword_pattern(keyword: str) -> re.Pattern[str]:
    """A whole-word, case-insensitive match for a keyword or phrase."""
    return re.compile(rf"(?<!\w){re.escape(keyword.strip())}(?!\w)", re.IGNORECASE)


class Scorer:
    def __init__(self, settings: DraftSettings, sources: list[Source], window: Window) -> None:
        self.settings = settings
        self.window = window
        self.source_weight = {s.name: s.weight for s in sources}
        self.max_weight = max([1.0, *self.source_weight.values()])
        self.keywords = [(k, keyword_pattern(k), b) for k, b in settings.keywords.items()]

    def score(self, item: NewsItem) -> Score:
        w, window = self.settings.weights, self.window
        span = (window.end - window.start).total_seconds() or 1.0
        age = (item.published - window.start).total_seconds()
        recency = min(1.0, max(0.0, age / span))
        source = self.source_weight.get(item.source, 1.0) / self.max_weight
        image = 0.0 if item.image is None else (1.0 if item.image.alt else 0.5)
        chars = len(item.summary) + len(_TAG.sub("", item.body_html))
        length = min(1.0, chars / FULL_LENGTH_CHARS)
        kind = self.settings.kind_weights.get(item.kind, 0.0)
        text = text_of(item)
        matched = tuple(k for k, pattern, _ in self.keywords if pattern.search(text))
        boost = sum(b for k, _, b in self.keywords if k in matched)
        total = (
            w.recency * recency
            + w.source * source
            + w.image * image
            + w.length * length
            + w.kind * kind
            + boost
        )
        return Score(recency, source, image, length, kind, boost, round(total, 4), matched)
