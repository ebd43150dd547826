"""Source kinds: how each ``kind`` of ``[[sources]]`` entry is read (Pelican's readers).

A source kind turns a source's location into raw items (``Parsed``), or into finished
items when a worker process built them (``Built``), or None when the server says nothing
changed. Each kind's parsing lives in its own module (feed.py, page.py, wordpress.py,
folder.py); the readers here only route a source to it. ``newsletter.registry.SOURCE_KINDS``
lists the kinds; a new kind registers an object with ``accept`` and ``read`` there.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from newsletter.errors import CollectError
from newsletter.registry import SOURCE_KINDS

if TYPE_CHECKING:
    from newsletter.collect.batch import Built
    from newsletter.collect.fetch import Fetched, Fetcher
    from newsletter.collect.normalize import Parsed
    from newsletter.collect.parallel import FeedPool
    from newsletter.config import Source
    from newsletter.store import HttpValidators


@runtime_checkable
class SourceKind(Protocol):
    accept: str | None
    """The Accept header of this kind's requests (None: any)."""

    def read(self, run: SourceRun, location: str | Path, limit: int) -> Parsed | Built | None:
        """The source's raw items (or built items); None when nothing changed (HTTP 304)."""
        ...


def source_kind(name: str) -> SourceKind:
    kind = SOURCE_KINDS.get(name)
    if not isinstance(kind, SourceKind):
        raise TypeError(f"source kind {name!r} is registered as {kind!r}, not a SourceKind")
    return kind


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
        self.kind = source_kind(source.kind)
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
        from newsletter.collect.fetch import Validators

        stored = self.known.get(url) if conditional else None
        fetched = self.fetcher.get(
            url,
            source=self.source.name,
            validators=Validators(*stored) if stored else None,
            timeout=self.source.timeout,
            accept=self.kind.accept,
        )
        if fetched.moved_to and self.moved_to is None:
            self.moved_to = fetched.moved_to
        if conditional and fetched.validators and not fetched.not_modified:
            self.validators[url] = (fetched.validators.etag, fetched.validators.last_modified)
        return fetched

    def read(self, path: Path) -> Fetched:
        from newsletter.collect.fetch import read_local

        return read_local(path, source=self.source.name, max_bytes=self.fetcher.max_bytes)

    def get(self, location: str | Path) -> Fetched:
        """A local file, or a web address fetched conditionally."""
        return self.read(location) if isinstance(location, Path) else self.fetch(location)


class FeedReader:
    """``feed``: RSS 0.9x/1.0/2.0 and Atom; web feeds are parsed in worker processes."""

    accept = (
        "application/rss+xml, application/atom+xml, application/xml;q=0.9, "
        "text/xml;q=0.9, */*;q=0.5"
    )

    def read(self, run: SourceRun, location: str | Path, limit: int) -> Parsed | Built | None:
        from newsletter.collect.feed import parse_feed

        fetched = run.get(location)
        if fetched.not_modified:
            return None
        if run.pool is not None and not isinstance(location, Path):
            return run.pool.parse(fetched, run.source, limit)
        with run.cpu:
            return parse_feed(fetched, source=run.source.name)


class PageReader:
    """``page``: an HTML listing page, and with ``follow_links`` each linked article."""

    accept = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"

    def read(self, run: SourceRun, location: str | Path, limit: int) -> Parsed | Built | None:
        from newsletter.collect.page import follow_articles, parse_page

        fetched = run.get(location)
        if fetched.not_modified:
            return None
        with run.cpu:
            parsed = parse_page(fetched, source=run.source)
        if run.source.follow_links:
            follow_articles(parsed, lambda url: run.fetch(url, conditional=False), limit)
        return parsed


class WordPressReader:
    """``wordpress``: the REST API of a site, or saved API responses."""

    accept = "application/json, */*;q=0.5"

    def read(self, run: SourceRun, location: str | Path, limit: int) -> Parsed | Built | None:
        from newsletter.collect.wordpress import load_local, load_remote

        source = run.source
        if isinstance(location, Path):
            return load_local(location, source=source.name, read=run.read)
        return load_remote(
            location,
            source=source.name,
            fetch=run.fetch,
            max_pages=source.max_pages,
            known=run.known.__contains__,
        )


class FolderReader:
    """``folder``: Markdown files with YAML front matter in a local folder."""

    accept = None

    def read(self, run: SourceRun, location: str | Path, limit: int) -> Parsed | Built | None:
        from newsletter.collect.folder import load_folder

        source = run.source
        if not isinstance(location, Path):
            web = [f'"{k}"' for k in SOURCE_KINDS.names() if k != "folder"]
            web_kinds = " or ".join([", ".join(web[:-1]), web[-1]] if len(web) > 1 else web)
            raise CollectError(
                f"{source.name}: a folder source reads a local folder, not {source.url}",
                hint=f"use kind = {web_kinds} for a web address",
            )
        return load_folder(location, source=source.name)


FEED = FeedReader()
PAGE = PageReader()
WORDPRESS = WordPressReader()
FOLDER = FolderReader()
