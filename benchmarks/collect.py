"""Collect: many feeds served over local HTTP, end to end, against feedparser, core for core.

Setup (not timed): 200 WordPress-style RSS 2.0 feeds of 50 items each, written to a
temporary folder: full-text ``content:encoded`` bodies (the sample cluster feed's ten real
articles, about 6 KB of HTML each, in turn), ``media:content`` photos with captions and
credits, utm-tagged links and guids; and the same 200 feeds, story for story, in Atom 1.0
as WordPress's /feed/atom/ sends them. They are served by local HTTP servers on eight
loopback addresses (eight "sites", so per-host politeness applies as it would on the web),
in a separate process as remote servers would be. Quick mode serves 20 feeds of each, so
that both backends fit in the quick run's 300 s on a loaded machine.

Timed, ours: ``newsletter.collect.collect`` into a fresh store: fetch every feed
(conditional-GET bookkeeping, size cap, politeness), parse, normalise (canonical URLs, nh3,
summaries, kicker, image alt and credit, language, kind and dates), deduplicate and store.
Three rows per store backend (SQLite; PostgreSQL when a server can be had):

- one core, RSS 2.0: ``[collect] workers = 1``, so parsing and normalising run in this
  process beside the fetch threads; target at least 3x feedparser;
- one core, Atom 1.0: the same, on the Atom feeds; target at least 1.5x feedparser;
- the process pool: ``workers = 2`` (the default on this 2-core machine), RSS 2.0; this
  row has no target: it shows what the second core adds, not a like-for-like ratio.

Baseline: ``feedparser.parse`` with its default sanitising and URI resolution (what a user
would otherwise run, and what the project needs done to the HTML) on the same bytes, one
feed after the other in the same process, already in memory (no HTTP, no validation, no
store). The sides run interleaved (ours, feedparser, ours, ...) so both see the same load;
each row also gives both sides' CPU time, the steadier figure on a shared machine.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import time
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from statistics import median
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from benchmarks.harness import Row, make_row, peak_rss_mb

if TYPE_CHECKING:
    from newsletter.project import Project

TARGET_RSS = ">= 3x"
TARGET_ATOM = ">= 1.5x"
TARGET_POOL = "none (the pool's figure, beside one core of feedparser)"
REPEAT_QUICK = 1
REPEAT_FULL = 3
POOL_WORKERS = 2
VS = (
    "feedparser.parse, its default sanitising and URI resolution, on the same bytes in the "
    "same process, one core: the library a Python user would collect feeds with"
)
POSTGRES = True  # also time collect on a throwaway PostgreSQL server, when one can be had
FEEDS = 200
FEEDS_QUICK = 20
ITEMS = 50
SITES = 8
SAMPLE_FEED = Path(__file__).resolve().parent.parent / "sources/cluster/feed.xml"
MRSS = "http://search.yahoo.com/mrss/"
CONTENT = "http://purl.org/rss/1.0/modules/content/"

CONFIG = """\
[newsletter]
name = "Benchmark News"
from_email = "news@example.org"
postal_address = "Example Org, Street 1, 0001 Oslo, Norway"
web_url = "https://news.example.org"
unsubscribe_url = "https://news.example.org/unsubscribe"

[collect]
max_items = 100
"""  # (the workload adds the collect table's "workers")


@dataclass(frozen=True)
class Post:
    title: str
    excerpt: str
    body: str
    caption: str


@cache
def sample_posts() -> list[Post]:
    """The ten real articles of the sample cluster feed (about 6 KB of HTML each)."""
    root = ET.fromstring(SAMPLE_FEED.read_bytes())
    posts = []
    for item in root.iter("item"):
        caption = item.findtext(f".//{{{MRSS}}}description") or "A photo. Photo: Someone"
        posts.append(
            Post(
                item.findtext("title") or "",
                item.findtext("description") or "",
                item.findtext(f"{{{CONTENT}}}encoded") or "",
                caption,
            )
        )
    return posts


def cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def feed(n: int, items: int = ITEMS) -> bytes:
    """One feed as a WordPress site's /feed/ sends it: full-text items (about 330 KB for 50).

    Each item carries one of the sample feed's real articles, under its own title, address,
    guid and date, with a relative link and an inline photo, as WordPress bodies have.
    """
    site = f"https://site{n}.example.org"
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/">'
        f"<channel><title>Site {n}</title><link>{site}</link>"
        "<description>News from a member</description><language>en-US</language>"
    ]
    posts = sample_posts()
    for i in range(items):
        post = posts[i % len(posts)]
        day = 1 + i % 28
        body = f'{post.body}<p><a href="/2024/03/{day:02d}/related-{i}/">Related story</a></p>'
        parts.append(
            f"<item><title>{escape(post.title)} (site {n}, no. {i})</title>"
            f"<link>{site}/2024/03/{day:02d}/story-{i}/?utm_source=rss&amp;utm_medium=feed</link>"
            f"<dc:creator>{cdata(f'Site {n}')}</dc:creator>"
            f"<pubDate>Mon, {day:02d} Mar 2024 10:{i % 60:02d}:00 +0000</pubDate>"
            f'<category><![CDATA[News]]></category><guid isPermaLink="false">{site}/?p={i}</guid>'
            f"<description>{cdata(f'Site {n}, story {i}: {post.excerpt}')}</description>"
            f"<content:encoded>{cdata(body)}</content:encoded>"
            f'<media:content url="{site}/uploads/{i}.jpg" medium="image">'
            f'<media:description type="plain">{cdata(post.caption)}</media:description>'
            "</media:content></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def atom_feed(n: int, items: int = ITEMS) -> bytes:
    """The same feed as ``feed(n)`` in Atom 1.0, as WordPress's /feed/atom/ sends it: the
    same stories (title, address, guid as the id, date, excerpt, body, photo and caption)."""
    site = f"https://site{n}.example.org"
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:media="http://search.yahoo.com/mrss/" xml:lang="en-US">'
        f'<title type="text">Site {n}</title><subtitle type="text">News from a member</subtitle>'
        f'<link rel="alternate" type="text/html" href="{site}"/><id>{site}/feed/atom/</id>'
        "<updated>2024-03-28T10:00:00Z</updated>"
    ]
    posts = sample_posts()
    for i in range(items):
        post = posts[i % len(posts)]
        day = 1 + i % 28
        body = f'{post.body}<p><a href="/2024/03/{day:02d}/related-{i}/">Related story</a></p>'
        stamp = f"2024-03-{day:02d}T10:{i % 60:02d}:00Z"
        page = f"{site}/2024/03/{day:02d}/story-{i}/"
        parts.append(
            f"<entry><author><name>Site {n}</name></author>"
            f'<title type="html">{cdata(f"{post.title} (site {n}, no. {i})")}</title>'
            f'<link rel="alternate" type="text/html" '
            f'href="{page}?utm_source=rss&amp;utm_medium=feed"/>'
            f"<id>{site}/?p={i}</id><updated>{stamp}</updated><published>{stamp}</published>"
            '<category term="News"/>'
            f'<summary type="html">{cdata(f"Site {n}, story {i}: {post.excerpt}")}</summary>'
            f'<content type="html" xml:base="{page}">{cdata(body)}</content>'
            f'<media:content url="{site}/uploads/{i}.jpg" medium="image">'
            f'<media:description type="plain">{cdata(post.caption)}</media:description>'
            "</media:content></entry>"
        )
    parts.append("</feed>")
    return "".join(parts).encode()


# The sites run in their own process, as remote servers would: their work is not ours.
SERVER = """
import sys, threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def end_headers(self):
        self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
        super().end_headers()

handler = partial(Quiet, directory=sys.argv[1])
servers = [ThreadingHTTPServer((f"127.0.0.{i + 1}", 0), handler) for i in range(int(sys.argv[2]))]
for server in servers:
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
print(" ".join(f"http://127.0.0.{i + 1}:{s.server_address[1]}" for i, s in enumerate(servers)),
      flush=True)
sys.stdin.read()  # serve until the benchmark closes our stdin
"""


@contextmanager
def serve(folder: Path, sites: int) -> Iterator[list[str]]:
    """HTTP servers for ``folder`` on 127.0.0.1 … 127.0.0.N (one child process)."""
    child = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(folder), str(sites)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        if not line:
            raise RuntimeError("the benchmark's HTTP servers did not start")
        yield line.split()
    finally:
        if child.stdin:
            child.stdin.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


@dataclass
class Backend:
    """Where the timed collects store: a SQLite file per run, or one PostgreSQL database."""

    name: str
    url: str | None = None  # None: SQLite

    def fresh(self, root: Path, n: int) -> str | Path:
        """An empty store: a new SQLite file, or the database with its story tables emptied."""
        if self.url is None:
            return root / f"store-{n}.db"
        from sqlalchemy import delete

        from newsletter.store.db import Database
        from newsletter.store.schema import (
            http_validators,
            item_keys,
            item_sketch,
            item_sources,
            items,
            store_meta,
        )  # fmt: skip

        with Database(self.url) as db, db.transaction() as conn:
            for table in (items, item_sources, item_keys, item_sketch, http_validators, store_meta):
                conn.execute(delete(table))
        return self.url


@contextmanager
def postgresql() -> Iterator[Backend | str]:
    """NEWSLETTER_DATABASE_URL's database (``newsletter db upgrade`` must have run there), or
    a throwaway durable server started as the tests start theirs; else why there is none."""
    configured = os.environ.get("NEWSLETTER_DATABASE_URL", "").strip()
    if configured:
        yield Backend("PostgreSQL (NEWSLETTER_DATABASE_URL)", configured)
        return
    if not POSTGRES:
        yield "switched off (collect.POSTGRES=0)"
        return
    try:
        from tests.pgserver import PgServer, Unavailable
    except ImportError as exc:  # pragma: no cover - the test extras are not installed
        yield f"tests/pgserver.py cannot be imported: {exc}"
        return
    try:
        server = PgServer.start(durable=True)
    except Unavailable as exc:
        yield str(exc)
        return
    old_password = os.environ.get("PGPASSWORD")
    try:
        from newsletter.store.admin import upgrade
        from newsletter.store.url import parse

        url = server.url(server.create_database())
        os.environ["PGPASSWORD"] = server.password
        upgrade(parse(url, Path("/"), "benchmark"))
        yield Backend("PostgreSQL (throwaway, fsync on)", url)
    finally:
        if old_password is None:
            os.environ.pop("PGPASSWORD", None)
        else:
            os.environ["PGPASSWORD"] = old_password
        server.stop()


def project(root: Path, name: str, bases: list[str], folder: str, workers: int) -> Project:
    """A project whose sources are the feeds in ``feeds/<folder>`` on the sites, parsed by
    ``workers`` processes (1: in-process)."""
    from newsletter.project import Project

    path = root / name
    path.mkdir()
    sources = "".join(
        f'\n[[sources]]\nname = "Site {n}"\nkind = "feed"\n'
        f'url = "{bases[n % len(bases)]}/{folder}/feed{n}.xml"\n'
        for n in range(len(list((root / "feeds" / folder).iterdir())))
    )
    (path / "newsletter.toml").write_text(f"{CONFIG}workers = {workers}\n{sources}")
    return Project.at(path)


def run(quick: bool) -> list[Row]:
    count = FEEDS_QUICK if quick else FEEDS
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        bodies: dict[str, list[bytes]] = {"rss": [], "atom": []}
        for folder, make in (("rss", feed), ("atom", atom_feed)):
            (root / "feeds" / folder).mkdir(parents=True)
            for n in range(count):
                body = make(n)
                (root / "feeds" / folder / f"feed{n}.xml").write_bytes(body)
                bodies[folder].append(body)
        with serve(root / "feeds", SITES) as bases:
            projects = {
                "rss": project(root, "rss-one-core", bases, "rss", workers=1),
                "atom": project(root, "atom-one-core", bases, "atom", workers=1),
                "pool": project(root, "rss-pool", bases, "rss", workers=POOL_WORKERS),
            }
            rows = measure(root, projects, bodies, Backend("SQLite"), quick)
            with postgresql() as pg:
                if isinstance(pg, Backend):
                    rows += measure(root, projects, bodies, pg, quick)
                else:
                    for row in rows:
                        row["note"] = f"{row.get('note', '')}; PostgreSQL rows skipped: {pg}"
    return rows


def measure(
    root: Path, projects: dict[str, Project], bodies: dict[str, list[bytes]], backend: Backend,
    quick: bool,
) -> list[Row]:  # fmt: skip
    """The three rows of one backend, their runs interleaved (ours, feedparser, ours, ...)
    so that every side sees the same load on a shared machine."""
    import feedparser

    from newsletter.collect import collect
    from newsletter.store import Store

    runs = iter(range(1_000_000))
    stored: list[int] = []

    def ours(name: str) -> Callable[[], None]:
        def collect_once() -> None:
            # A fresh store every time: every feed is fetched, parsed and stored in full.
            with Store(backend.fresh(root, next(runs))) as store:
                report = collect(projects[name], store)
                if report.failed:
                    raise RuntimeError(f"{report.failed[0].name}: {report.failed[0].error}")
                stored.append(store.count())

        return collect_once

    def baseline(name: str) -> Callable[[], None]:
        kind = "application/atom+xml" if name == "atom" else "application/rss+xml"

        def parse_all() -> None:
            # feedparser as a user would run it: its own sanitising and URI resolution on
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                for body in bodies[name]:
                    feedparser.parse(body, response_headers={"content-type": kind})

        return parse_all

    sides = {
        "rss": ours("rss"), "rss-feedparser": baseline("rss"),
        "atom": ours("atom"), "atom-feedparser": baseline("atom"), "pool": ours("pool"),
    }  # fmt: skip
    wall: dict[str, list[float]] = {name: [] for name in sides}
    cpu: dict[str, list[float]] = {name: [] for name in sides}
    ours("rss")()  # warm-up: imports, first connections
    for _ in range(REPEAT_QUICK if quick else REPEAT_FULL):
        for name, side in sides.items():
            started, cpu_started = time.perf_counter(), time.process_time()
            side()
            wall[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - cpu_started)
    items = len(bodies["rss"]) * ITEMS
    if set(stored) != {items}:
        raise RuntimeError(f"expected {items} stored items each run, got {sorted(set(stored))}")
    size = {name: sum(len(b) for b in found) / 1e6 for name, found in bodies.items()}
    label = f"{len(bodies['rss'])} feeds x {ITEMS} items over HTTP, {backend.name}"
    rows = []
    for name, title, base, target in (
        ("rss", "collect, one core: RSS 2.0", "rss-feedparser", TARGET_RSS),
        ("atom", "collect, one core: Atom 1.0", "atom-feedparser", TARGET_ATOM),
        ("pool", f"collect, {POOL_WORKERS}-process pool: RSS 2.0", "rss-feedparser", TARGET_POOL),
    ):
        ours_s, baseline_s = median(wall[name]), median(wall[base])
        corpus = "atom" if name == "atom" else "rss"
        ours_cpu, baseline_cpu = median(cpu[name]), median(cpu[base])
        if name == "pool":
            where = f"parse and normalise in {POOL_WORKERS} worker processes (CPU: this process)"
        else:
            where = (
                f"in one process ([collect] workers = 1), CPU ratio {baseline_cpu / ours_cpu:.2f}x"
            )
        note = (
            f"{items / ours_s:,.0f} vs {items / baseline_s:,.0f} items/s; CPU {ours_cpu:.2f} s "
            f"vs {baseline_cpu:.2f} s; {where}; ours fetches, parses, normalises, dedupes and "
            f"stores; {size[corpus]:.1f} MB from {SITES} local sites"
        )
        row = make_row(f"{title} ({label})", ours_s, baseline_s, target,
                       peak_mb=round(peak_rss_mb(), 1), note=note, vs=VS)  # fmt: skip
        row["extra"] = {
            "backend": backend.name, "items": items, "ours_runs_s": wall[name],
            "baseline_runs_s": wall[base], "ours_cpu_s": cpu[name], "baseline_cpu_s": cpu[base],
            "feeds_sha256": hashlib.sha256(b"".join(bodies[corpus])).hexdigest()[:8],
        }  # fmt: skip
        rows.append(row)
    return rows


if __name__ == "__main__":  # pragma: no cover - a quick look without the harness
    import json

    print(json.dumps(run("--quick" in sys.argv), indent=2))
