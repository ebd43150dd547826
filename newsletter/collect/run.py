"""A collect run: fetch every configured source and store what each one holds.

Sources are fetched and parsed concurrently (threads: the work is network waits and C
parsers), then written one by one in the order of newsletter.toml, each in its own
transaction. A source that fails is reported by name with the reason and skipped; its
earlier items stay stored, and the other sources still land.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from newsletter.collect.batch import Built, build
from newsletter.collect.readers import SourceRun
from newsletter.collect.report import CollectReport, SourceReport
from newsletter.config import CollectSettings, Source
from newsletter.errors import CollectError, NewsletterError

if TYPE_CHECKING:
    from newsletter.collect.fetch import Fetcher
    from newsletter.collect.parallel import FeedPool
    from newsletter.models import NewsItem
    from newsletter.project import Project
    from newsletter.store import HttpValidators, Store


@dataclass
class Loaded:
    """One source fetched and normalised, ready to be stored (or why it could not be)."""

    source: Source
    items: list[NewsItem] = field(default_factory=list)
    validators: HttpValidators = field(default_factory=dict)
    not_modified: bool = False
    moved_to: str | None = None
    notices: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    error: NewsletterError | None = None
    unexpected: BaseException | None = None
    seconds: float = 0.0


def load_source(
    source: Source,
    root: Path,
    fetcher: Fetcher,
    *,
    known: HttpValidators | None = None,
    refresh: bool = False,
    settings: CollectSettings | None = None,
    cpu: AbstractContextManager[object] | None = None,
    pool: FeedPool | None = None,
) -> Loaded:
    """Fetch, parse and normalise one source. Never raises for a bad source: the result
    carries the error (``unexpected`` holds a crash, which would be a bug)."""
    started = time.monotonic()
    settings = settings or fetcher.settings
    limit = source.max_items or settings.max_items
    run = SourceRun(source, fetcher, known or {}, refresh=refresh, cpu=cpu, pool=pool)
    loaded = Loaded(source)
    try:
        try:
            location = source.location(root)
        except ValueError as exc:
            raise CollectError(f"{source.name}: url: {exc}") from None
        parsed = run.kind.read(run, location, limit)
        if parsed is None:
            loaded.not_modified = True
        else:
            if not isinstance(parsed, Built):
                with run.cpu:
                    parsed = build(parsed, source, limit)
            loaded.items = parsed.items
            loaded.notices.extend(parsed.notices)
            loaded.problems.extend(parsed.problems)
            loaded.skipped.extend(parsed.skipped)
        loaded.validators = run.validators
    except NewsletterError as exc:
        loaded.error = exc
    except Exception as exc:  # a bug must cost one source, not the run
        loaded.unexpected = exc
        loaded.error = CollectError(
            f"{source.name}: unexpected {type(exc).__name__} while reading it: {exc}",
            hint="this is a bug in newsletter; run with --debug for the traceback and report it",
        )
    loaded.moved_to = run.moved_to
    loaded.seconds = time.monotonic() - started
    return loaded


def store_loaded(loaded: Loaded, store: Store) -> SourceReport:
    """Write one loaded source into the store (one transaction) and report on it."""
    source = loaded.source
    entry = SourceReport(
        source.name,
        kind=source.kind,
        not_modified=loaded.not_modified,
        notices=list(loaded.notices),
        skipped=list(loaded.skipped),
        seconds=loaded.seconds,
    )
    if loaded.moved_to:
        entry.moved_to = loaded.moved_to
        entry.notices.insert(
            0, f"moved permanently to {loaded.moved_to}; update its url in newsletter.toml"
        )
    if loaded.error is not None:
        entry.error, entry.hint = loaded.error.message, loaded.error.hint
        entry.error = entry.error.removeprefix(f"{source.name}: ")  # the report names it
        return entry
    result = store.write_source(source.name, loaded.items, validators=loaded.validators)
    entry.new, entry.updated = result.new, result.updated
    entry.unchanged, entry.merged = result.unchanged, result.merged
    if loaded.problems:
        entry.error = "; ".join(loaded.problems)
        entry.hint = "fix these files; the source's other items were stored"
    return entry


def collect(
    project: Project,
    store: Store,
    *,
    only: list[str] | None = None,
    refresh: bool = False,
    on_start: Callable[[str], None] | None = None,
    on_loaded: Callable[[str, bool], None] | None = None,
    on_source: Callable[[SourceReport], None] | None = None,
    raise_unexpected: bool = False,
) -> CollectReport:
    """Collect ``only`` these sources (default: all) into ``store``.

    ``refresh`` ignores the stored validators (no conditional requests). The callbacks
    report progress: ``on_start``/``on_loaded`` from worker threads as sources are fetched,
    ``on_source`` as each one is stored.
    """
    from newsletter.collect.fetch import Fetcher
    from newsletter.collect.lock import collect_lock
    from newsletter.collect.parallel import FeedPool, pool_size

    config = project.config
    sources = [config.source(name) for name in only] if only else list(config.sources)
    known = {s.name: store.validators(s.name) for s in sources}
    report = CollectReport()
    started = time.monotonic()
    cpu = threading.Lock()
    web_feeds = sum(1 for s in sources if s.kind == "feed" and s.is_remote)
    workers = pool_size(config.collect, web_feeds)
    feed_pool = FeedPool(workers) if workers else None

    def work(source: Source, fetcher: Fetcher) -> Loaded:
        if on_start:
            on_start(source.name)
        loaded = load_source(
            source, project.root, fetcher, known=known[source.name], refresh=refresh, cpu=cpu,
            pool=feed_pool,
        )  # fmt: skip
        if on_loaded:
            on_loaded(source.name, loaded.error is None)
        return loaded

    with collect_lock(project.root / ".newsletter"), Fetcher(config.collect) as fetcher:
        pool = ThreadPoolExecutor(
            max_workers=max(1, min(config.collect.concurrency, len(sources))),
            thread_name_prefix="collect",
        )
        # Results are stored in the order of newsletter.toml (so which source is a story's
        # first does not depend on timing), and only a few sources run ahead of the writer,
        # so a run over hundreds of sources holds a bounded number of items in memory.
        queue = iter(sources)
        running: deque[Future[Loaded]] = deque()

        def submit_next() -> None:
            source = next(queue, None)
            if source is not None:
                running.append(pool.submit(work, source, fetcher))

        try:
            for _ in range(config.collect.concurrency * 2):
                submit_next()
            while running:
                loaded = running.popleft().result()
                submit_next()
                if loaded.unexpected is not None and raise_unexpected:
                    raise loaded.unexpected
                with cpu:  # storing is CPU work too
                    entry = store_loaded(loaded, store)
                report.sources.append(entry)
                if on_source:
                    on_source(entry)
        except BaseException:
            # Stopped (Ctrl-C, SIGTERM) or failed: what is stored stays; fetches still under
            # way end when the client closes, and the workers when this process exits.
            pool.shutdown(wait=False, cancel_futures=True)
            if feed_pool is not None:
                feed_pool.close(wait=False)
            raise
        pool.shutdown(wait=True)
        if feed_pool is not None:
            feed_pool.close()
    report.seconds = time.monotonic() - started
    return report
