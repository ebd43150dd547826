"""Collect: many feeds served over local HTTP, end to end, against feedparser alone.

Setup (not timed): 200 WordPress-style RSS feeds of 50 items each, written to a temporary
folder: full-text ``content:encoded`` bodies (the sample cluster feed's ten real articles,
about 6 KB of HTML each, in turn), ``media:content`` photos with captions and credits,
utm-tagged links and guids. They are served by local HTTP servers on
eight loopback addresses (eight "sites", so per-host politeness applies as it would on the
web), in a separate process as remote servers would be. Quick mode serves 40 feeds.

Timed, ours: ``newsletter.collect.collect`` into a fresh SQLite store: fetch every feed
(conditional-GET bookkeeping, size cap, politeness), parse, normalise (canonical URLs, nh3,
summaries, kicker, image alt and credit, language, kind and dates), deduplicate and store.
Baseline: ``feedparser.parse`` with its default sanitising on the same bytes, one feed after
the other, already in memory (no HTTP, no validation, no store). Target: at least 3x the
baseline's items per second.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from statistics import median
from xml.sax.saxutils import escape

from benchmarks.harness import Row, make_row, peak_rss_mb, repeats, timings

TARGET = ">= 3x"
FEEDS = 200
FEEDS_QUICK = 40
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
"""


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


def fresh_store(root: Path, n: int) -> str | Path:
    """A new SQLite file, or the emptied stories of NEWSLETTER_DATABASE_URL's database."""
    import os

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

    url = os.environ.get("NEWSLETTER_DATABASE_URL", "").strip()
    if not url:
        return root / f"store-{n}.db"
    with Database(url) as db, db.transaction() as conn:
        for table in (items, item_sources, item_keys, item_sketch, http_validators, store_meta):
            conn.execute(delete(table))
    return url


def run(quick: bool) -> Row:
    import feedparser

    from newsletter.collect import collect
    from newsletter.project import Project
    from newsletter.store import Store

    count = FEEDS_QUICK if quick else FEEDS
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        feeds = root / "feeds"
        feeds.mkdir()
        bodies = []
        for n in range(count):
            body = feed(n)
            (feeds / f"feed{n}.xml").write_bytes(body)
            bodies.append(body)
        with serve(feeds, SITES) as bases:
            sources = "".join(
                f'\n[[sources]]\nname = "Site {n}"\nkind = "feed"\n'
                f'url = "{bases[n % SITES]}/feed{n}.xml"\n'
                for n in range(count)
            )
            (root / "newsletter.toml").write_text(CONFIG + sources)
            project = Project.at(root)
            runs = iter(range(1_000_000))
            stored: list[int] = []

            def ours() -> None:
                # A fresh store every time: every feed is fetched, parsed and stored in full.
                with Store(fresh_store(root, next(runs))) as store:
                    report = collect(project, store)
                    if report.failed:
                        raise RuntimeError(f"{report.failed[0].name}: {report.failed[0].error}")
                    stored.append(store.count())

            def baseline() -> None:
                for body in bodies:
                    feedparser.parse(body, response_headers={"content-type": "application/rss+xml"})

            # Interleaved, so both sides see the same load on a shared machine.
            ours_runs, baseline_runs = [], []
            ours()
            baseline()
            for _ in range(repeats(quick)):
                ours_runs.extend(timings(ours, repeat=1, warmup=0))
                baseline_runs.extend(timings(baseline, repeat=1, warmup=0))
            ours_s, baseline_s = median(ours_runs), median(baseline_runs)
    items = count * ITEMS
    if set(stored) != {items}:
        raise RuntimeError(f"expected {items} stored items each run, got {sorted(set(stored))}")
    digest = hashlib.sha256(b"".join(bodies)).hexdigest()[:8]
    size_mb = sum(len(b) for b in bodies) / 1e6
    row = make_row(
        f"collect ({count} feeds x {ITEMS} items over HTTP)",
        ours_s,
        baseline_s,
        TARGET,
        peak_mb=round(peak_rss_mb(), 1),
        note=(
            f"{items / ours_s:,.0f} items/s end to end (fetch, parse, normalise, dedupe, "
            f"store) vs {items / baseline_s:,.0f} items/s for feedparser.parse alone; "
            f"{size_mb:.1f} MB of feeds from {SITES} local sites"
        ),
    )
    return {
        **row,
        "items": items,
        "ours_items_per_s": round(items / ours_s),
        "baseline_items_per_s": round(items / baseline_s),
        "feeds_sha256": digest,
    }  # type: ignore[typeddict-unknown-key]


if __name__ == "__main__":  # pragma: no cover - a quick look without the harness
    import json
    import sys

    print(json.dumps(run("--quick" in sys.argv), indent=2))
