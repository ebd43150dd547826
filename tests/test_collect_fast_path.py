"""The fast RSS 2.0 and Atom readers and feedparser give the same items, or the fast reader
is not used: a differential test over a corpus of feed shapes (tests/feed_shapes*.py)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from benchmarks.collect import atom_feed as benchmark_atom_feed
from benchmarks.collect import feed as benchmark_feed
from newsletter.collect.atom import read_atom
from newsletter.collect.feed import media_captions, parse_feed
from newsletter.collect.fetch import Fetched
from newsletter.collect.normalize import SkippedItem, build_item
from newsletter.collect.rss2 import read_rss2
from newsletter.collect.safexml import parse_tree
from tests.conftest import FIXTURES, REPO
from tests.feed_shapes import Shape, item_shapes
from tests.feed_shapes_atom import atom_shapes
from tests.feed_shapes_document import document_shapes

URL = "https://news.example.org/feed/"
SHAPES = item_shapes() + document_shapes() + atom_shapes()
# Shapes the fast reader must take: the everyday ones, and the repairs it makes itself.
FAST = {
    "wordpress", "standard", "several items", "no items", "content only",
    "content before description", "photo without description",
    "photo before content", "two photos and content", "whitespace", "comment inside title",
    "empty title", "no title", "html title", "cdata title", "no description",
    "guid permalink, no link", "guid not permalink, no link", "guid before link",
    "relative guid permalink", "empty guid", "empty link and guid", "relative link",
    "relative link, content location", "content location", "link with escaped ampersand",
    "link with extra slashes", "pubDate and dc:date", "windows-1252 references",
    "utf-8 read as latin-1", "utf-8 read as latin-1 twice", "windows-1252 and wide characters",
    "latin-1 letters", "control character", "no declaration",
    "byte order mark", "enclosure", "enclosure upper-case type", "media upper-case type",
    "media thumbnail", "content-type text/xml; charset=utf-8",
    "no language", "empty language", "category with domain", "author", "content-type text/xml",
    "content-type application/xml, application/rss+xml; charset=utf-8",
}  # fmt: skip
FAST |= {
    f"atom: {name}" for name in (
        "wordpress", "standard", "several entries", "no entries", "photo", "photo before content",
        "content only", "summary only", "content before summary", "neither summary nor content",
        "content type text", "content type html", "content type xhtml", "content type TEXT",
        "content with no type", "text summary with markup characters", "escaped html content",
        "content xhtml div", "content xhtml whitespace around div", "content xhtml two divs",
        "content xhtml div with class", "content xhtml no div", "content xhtml nested divs",
        "content xhtml prefixed", "content xhtml cdata", "content xhtml entities",
        "xhtml title", "xhtml summary", "text title", "html title with markup", "empty title",
        "no title", "comment in title", "cdata title", "windows-1252 references",
        "utf-8 read as latin-1", "cjk and emoji", "no declaration", "link without rel",
        "link with other type", "two alternate links", "alternate link after id",
        "no link, http id", "no link, tag id", "no link, no id", "relative link",
        "relative link, content location", "link with ampersand", "link with extra slashes",
        "link upper-case rel", "javascript link", "self and edit links", "enclosure image",
        "enclosure upper-case image", "enclosure audio", "enclosure untyped",
        "relative enclosure", "xml:base on feed", "xml:base on entry", "xml:base on link",
        "relative xml:base", "xml:base on first entry only", "xml:base on id", "relative id",
        "author with email", "empty author", "contributor", "feed author",
        "category with label", "no language", "empty language", "language nb_NO",
        "xml:lang on entry", "xml:lang on content", "thumbnail", "updated only",
        "published only", "no dates", "published 0: '2024-03-04T10:15:00Z'",
        "published 1: '2024-03-04T10:15:00+02:00'",
        "published 8: 'Mon, 04 Mar 2024 10:15:00 +0000'",
    )
}  # fmt: skip


def fetched(shape: Shape) -> Fetched:
    headers = {"content-type": "application/rss+xml", "content-location": URL, **shape.headers}
    return Fetched(shape.body, URL, {k: v for k, v in headers.items() if v})


def results(shape: Shape, *, fast: bool) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The raw items and the stories built from them (or why each was skipped)."""
    parsed = parse_feed(fetched(shape), source="S", fast=fast)
    stories: list[dict[str, Any]] = []
    for raw in parsed.raw:
        try:
            stories.append(
                build_item(raw, source="S", base=parsed.base, language=None).model_dump()
            )
        except SkippedItem as exc:
            stories.append({"skipped": str(exc)})
    return [asdict(raw) for raw in parsed.raw], stories


def takes_fast_path(shape: Shape) -> bool:
    root, got = parse_tree(shape.body), fetched(shape)
    return read_rss2(root, got) is not None or read_atom(root, got) is not None


@pytest.mark.parametrize("shape", SHAPES, ids=[s.name for s in SHAPES])
def test_fast_path_gives_what_feedparser_gives_or_is_not_taken(shape: Shape) -> None:
    if not takes_fast_path(shape):
        assert shape.name not in FAST, "the fast reader should read this everyday shape"
        return
    fast, reference = results(shape, fast=True), results(shape, fast=False)
    assert fast[0] == reference[0]  # the raw fields...
    assert fast[1] == reference[1]  # ...and so the stories


def test_the_corpus_exercises_both_paths() -> None:
    taken = {shape.name for shape in SHAPES if takes_fast_path(shape)}
    assert taken >= FAST, sorted(FAST - taken)
    assert len(SHAPES) - len(taken) > 90  # and feedparser reads the many other shapes
    # The lost-item shapes of the past now reach feedparser, which finds their dates...
    for name in ("dcterms:created only", "dcterms:issued only", "dcterms:modified only",
                 "atom:updated only", "dc:title", "link with href"):  # fmt: skip
        shape = next(s for s in SHAPES if s.name == name)
        assert name not in taken
        assert all("skipped" not in story for story in results(shape, fast=True)[1]), name


def test_windows_1252_references_become_their_characters() -> None:
    shape = next(s for s in SHAPES if s.name == "windows-1252 references")
    (raw,), _ = results(shape, fast=True)
    assert raw["title"] == "Don’t miss it – the €5 “offer”"
    assert raw["summary_html"] == "It’s here… Ÿ\x81"


def test_the_sample_fixture_and_benchmark_feeds_take_the_fast_path() -> None:
    for path in (REPO / "sources/cluster/feed.xml", FIXTURES / "feeds/mixed-months.xml",
                 FIXTURES / "feeds/hostile.xml", FIXTURES / "feeds/atom.xml"):  # fmt: skip
        shape = Shape(path.name, path.read_bytes())
        assert takes_fast_path(shape), path
        assert results(shape, fast=True) == results(shape, fast=False)
    for shape in (Shape("benchmark", benchmark_feed(3, items=5)),
                  Shape("benchmark atom", benchmark_atom_feed(3, items=5))):  # fmt: skip
        assert takes_fast_path(shape), shape.name
        assert results(shape, fast=True) == results(shape, fast=False)


def test_the_benchmark_atom_feed_gives_the_stories_of_the_rss_feed() -> None:
    # The collect benchmark's Atom corpus carries the same stories as its RSS corpus.
    rss = results(Shape("rss", benchmark_feed(3, items=5)), fast=True)[1]
    atom = results(Shape("atom", benchmark_atom_feed(3, items=5)), fast=True)[1]
    # (an Atom entry must say when it was updated; the RSS items do not)
    assert all(story.pop("updated") == story["published"] for story in atom)
    assert all(story.pop("updated") is None for story in rss)
    assert atom == rss


def test_content_location_is_the_base_for_links() -> None:
    shape = next(s for s in SHAPES if s.name == "relative link, content location")
    (raw,), (story,) = results(shape, fast=True)
    assert raw["link"] == "https://cdn.example.org/a/story/"
    assert story["url"] == "https://cdn.example.org/a/story/"


def test_folder_paths_read_the_same(tmp_path: Path) -> None:
    # A local file has no Content-Location: relative links stay relative, in both readers.
    shape = next(s for s in SHAPES if s.name == "relative link")
    local = Fetched(
        shape.body, (tmp_path / "feed.xml").as_uri(), {"content-type": "application/xml"}
    )
    assert read_rss2(parse_tree(shape.body), local) is not None
    fast = parse_feed(local, source="S", fast=True).raw
    assert [asdict(r) for r in fast] == [
        asdict(r) for r in parse_feed(local, source="S", fast=False).raw
    ]


def test_a_feed_served_with_two_content_types_takes_the_fast_path() -> None:
    # Python's own file server (and so the collect benchmark's sites) sends its guess and
    # the handler's own: the client sees "application/xml, application/rss+xml; ...".
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    from newsletter.collect.fetch import Fetcher

    body = (REPO / "sources/cluster/feed.xml").read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        with Fetcher() as fetcher:
            got = fetcher.get(f"http://127.0.0.1:{server.server_address[1]}/feed/", source="S")
    finally:
        server.shutdown()
        server.server_close()
    assert "," in got.headers["content-type"]
    assert read_rss2(parse_tree(got.body), got) is not None


def test_the_fast_readers_find_the_captions_that_media_captions_finds() -> None:
    checked = 0
    for shape in SHAPES:
        root, got = parse_tree(shape.body), fetched(shape)
        read = read_rss2(root, got) or read_atom(root, got)
        if read is None or root is None:
            continue
        found = {
            n: (e["media_description"], e.get("media_credit") or None)
            for n, e in enumerate(read[0])
            if e.get("media_description")
        }
        assert found == media_captions(root), shape.name
        checked += bool(found)
    assert checked >= 5
