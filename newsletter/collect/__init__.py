"""collect: fetch every configured source into the store.

Sources are fetched and parsed concurrently (threads: the work is network waits and C
parsers), then written one by one in the order of newsletter.toml, each in its own
transaction. A source that fails is reported by name with the reason and skipped; its
earlier items stay stored, and the other sources still land.

Source kinds: ``feed`` (feed.py), ``page`` (page.py), ``wordpress`` (wordpress.py) and
``folder`` (folder.py). Each one only finds raw fields; normalize.py turns them into
``NewsItem`` records the same way for all, and dedupe.py tells whether a story is known.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from newsletter.config import CollectSettings, Source
from newsletter.errors import CollectError, NewsletterError

if TYPE_CHECKING:
    from newsletter.collect.fetch import Fetched, Fetcher
    from newsletter.collect.normalize import Parsed
    from newsletter.collect.parallel import FeedPool
    from newsletter.models import NewsItem
    from newsletter.project import Project
    from newsletter.store import HttpValidators, Store

__all__ = ["CollectReport", "SourceReport", "collect", "load_source"]

_NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass
class SourceReport:
    name: str
    kind: str = "feed"
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0
    error: str | None = None
    hint: str | None = None
    not_modified: bool = False
    moved_to: str | None = None
    notices: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class CollectReport:
    sources: list[SourceReport] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> list[SourceReport]:
        return [s for s in self.sources if not s.ok]


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


@dataclass
class Built:
    """One source's normalised items and what to tell the user about them."""

    items: list[NewsItem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def build(parsed: Parsed, source: Source, limit: int) -> Built:
    """Normalise a source's drafts (the newest ``limit``) and merge its own repeats."""
    from newsletter.collect.dedupe import dedupe_batch
    from newsletter.collect.normalize import SkippedItem, build_item

    built = Built(notices=list(parsed.notices), problems=list(parsed.problems))
    drafts = parsed.drafts
    if len(drafts) > limit:
        built.notices.append(f"kept the newest {limit} of {len(drafts)} items (max_items)")
        drafts = sorted(drafts, key=lambda d: d.published or _NEVER, reverse=True)[:limit]
    for draft in drafts:
        try:
            built.items.append(
                build_item(draft, source=source.name, base=parsed.base, language=source.language)
            )
        except SkippedItem as exc:
            built.skipped.append(str(exc))
    built.items, repeats = dedupe_batch(built.items)
    if repeats:
        built.notices.append(f"{repeats} item(s) repeated within the source, kept once")
    return built


class SourceRun:
    """One source's view of the shared fetcher: its timeout, validators and redirects."""

    def __init__(
        self,
        source: Source,
        fetcher: Fetcher,
        known: HttpValidators,
        *,
        refresh: bool = False,
        cpu: AbstractContextManager[object] | None = None,
        pool: FeedPool | None = None,
    ) -> None:
        self.source = source
        self.pool = pool  # parses web feeds in worker processes, when set
        self.fetcher = fetcher
        # Held while parsing and normalising. Those are CPU work that the GIL runs one at a
        # time anyway; letting one thread at a time do it, while the others wait on the
        # network, avoids the cost of threads fighting over the GIL.
        self.cpu = cpu or nullcontext()
        self.known = {} if refresh else known
        self.validators: HttpValidators = {}
        self.moved_to: str | None = None

    def fetch(self, url: str, *, conditional: bool = True) -> Fetched:
        from newsletter.collect.fetch import ACCEPT, Validators

        stored = self.known.get(url) if conditional else None
        fetched = self.fetcher.get(
            url,
            source=self.source.name,
            validators=Validators(*stored) if stored else None,
            timeout=self.source.timeout,
            accept=ACCEPT.get(self.source.kind),
        )
        if fetched.moved_to and self.moved_to is None:
            self.moved_to = fetched.moved_to
        if conditional and fetched.validators and not fetched.not_modified:
            self.validators[url] = (fetched.validators.etag, fetched.validators.last_modified)
        return fetched

    def read(self, path: Path) -> Fetched:
        from newsletter.collect.fetch import read_local

        return read_local(path, source=self.source.name, max_bytes=self.fetcher.max_bytes)


def _parse(source: Source, root: Path, run: SourceRun, limit: int) -> Parsed | Built | None:
    """The source's raw drafts, or its items when a worker process built them; None when
    the server says nothing changed (304)."""
    try:
        location = source.location(root)
    except ValueError as exc:
        raise CollectError(f"{source.name}: url: {exc}") from None
    if source.kind == "folder":
        from newsletter.collect.folder import load_folder

        if not isinstance(location, Path):
            raise CollectError(
                f"{source.name}: a folder source reads a local folder, not {source.url}",
                hint='use kind = "feed", "page" or "wordpress" for a web address',
            )
        return load_folder(location, source=source.name)
    if source.kind == "wordpress":
        from newsletter.collect.wordpress import load_local, load_remote

        if isinstance(location, Path):
            return load_local(location, source=source.name, read=run.read)
        return load_remote(
            location, source=source.name, fetch=run.fetch, max_pages=source.max_pages
        )
    fetched = run.read(location) if isinstance(location, Path) else run.fetch(location)
    if fetched.not_modified:
        return None
    if source.kind == "feed":
        from newsletter.collect.feed import parse_feed

        if run.pool is not None and not isinstance(location, Path):
            return run.pool.parse(fetched, source, limit)
        with run.cpu:
            return parse_feed(fetched, source=source.name)
    from newsletter.collect.page import follow_articles, parse_page

    with run.cpu:
        parsed = parse_page(fetched, source=source)
    if source.follow_links:
        follow_articles(parsed, lambda url: run.fetch(url, conditional=False), limit)
    return parsed


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
        parsed = _parse(source, root, run, limit)
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


def _write(loaded: Loaded, store: Store) -> SourceReport:
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
        store.write_source(source.name, [], status=f"failed: {entry.error}"[:500])
        return entry
    status = "not modified" if loaded.not_modified else "ok"
    result = store.write_source(
        source.name, loaded.items, validators=loaded.validators, status=status
    )
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

    with collect_lock(project.store_path.parent), Fetcher(config.collect) as fetcher:
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
                    entry = _write(loaded, store)
                report.sources.append(entry)
                if on_source:
                    on_source(entry)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            if feed_pool is not None:
                feed_pool.close()
    report.seconds = time.monotonic() - started
    return report
