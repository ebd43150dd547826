"""One source's raw items made into stories: normalised, the newest kept, repeats merged."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from newsletter.collect.normalize import Parsed
    from newsletter.config import Source
    from newsletter.models import NewsItem

_NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass
class Built:
    """One source's normalised items and what to tell the user about them."""

    items: list[NewsItem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def build(parsed: Parsed, source: Source, limit: int) -> Built:
    """Normalise a source's raw items (the newest ``limit``) and merge its own repeats."""
    from newsletter.collect.normalize import SkippedItem, build_item
    from newsletter.store.dedupe import dedupe_batch

    built = Built(notices=list(parsed.notices), problems=list(parsed.problems))
    raw = parsed.raw
    if len(raw) > limit:
        built.notices.append(f"kept the newest {limit} of {len(raw)} items (max_items)")
        raw = sorted(raw, key=lambda r: r.published or _NEVER, reverse=True)[:limit]
    for one in raw:
        try:
            built.items.append(
                build_item(one, source=source.name, base=parsed.base, language=source.language)
            )
        except SkippedItem as exc:
            built.skipped.append(str(exc))
    built.items, repeats = dedupe_batch(built.items)
    if repeats:
        built.notices.append(f"{repeats} item(s) repeated within the source, kept once")
    return built
