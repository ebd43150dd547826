"""collect: fetch every configured source into the store.

A source that fails is reported by name and skipped; its earlier items stay stored, and
the other sources still land.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from newsletter.collect.feed import parse_feed
from newsletter.collect.fetch import fetch
from newsletter.config import Source
from newsletter.errors import CollectError, NewsletterError
from newsletter.models import NewsItem
from newsletter.project import Project
from newsletter.store import Store

Loader = Callable[[Source, Path], list[NewsItem]]


@dataclass
class SourceReport:
    name: str
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class CollectReport:
    sources: list[SourceReport] = field(default_factory=list)

    @property
    def failed(self) -> list[SourceReport]:
        return [s for s in self.sources if not s.ok]


def load_feed(source: Source, root: Path) -> list[NewsItem]:
    fetched = fetch(source.location(root), source=source.name)
    return parse_feed(fetched, source=source.name, language=source.language)


LOADERS: dict[str, Loader] = {"feed": load_feed}


def load_source(source: Source, root: Path) -> list[NewsItem]:
    loader = LOADERS.get(source.kind)
    if loader is None:
        raise CollectError(f"{source.name}: source kind {source.kind!r} is not supported yet")
    try:
        return loader(source, root)
    except ValidationError as exc:
        raise CollectError(f"{source.name}: an item did not validate: {exc}") from exc


def collect(
    project: Project,
    store: Store,
    *,
    only: list[str] | None = None,
    on_source: Callable[[SourceReport], None] | None = None,
) -> CollectReport:
    config = project.config
    sources = [config.source(name) for name in only] if only else config.sources
    report = CollectReport()
    for source in sources:
        entry = SourceReport(source.name)
        try:
            items = load_source(source, project.root)
            result = store.upsert(items)
            entry.new, entry.updated, entry.unchanged = result.new, result.updated, result.unchanged
        except NewsletterError as exc:
            entry.error = exc.message
        report.sources.append(entry)
        if on_source:
            on_source(entry)
    return report
