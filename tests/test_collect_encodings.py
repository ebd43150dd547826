"""Feeds in CJK and wide encodings, unknown encodings and hostile DTDs: read, or refused with
a clear message, never an internal error; no declared entity is ever expanded."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

from newsletter.collect import CollectReport, collect
from newsletter.collect.safexml import FeedSaxParser, document_encoding, parse_tree
from newsletter.models import NewsItem
from newsletter.project import Project
from newsletter.store import Store
from tests.conftest import LocalServer, Response, write_project

TEXTS = {
    "big5": ("臺灣癌症研究新進展", "研究團隊發表新成果。", "實驗室照片"),
    "gb2312": ("癌症研究取得新进展", "研究团队发表了新成果。", "实验室照片"),
    "euc-kr": ("암 연구의 새로운 성과", "연구팀이 새 결과를 발표했다。", "연구실 사진"),
    "shift_jis": ("がん研究の新しい成果", "研究チームが新しい結果を発表しました。", "研究室の写真"),
    "euc-jp": ("がん研究の新たな進展", "研究チームが成果を発表。", "実験室の写真"),
}


def feed_text(encoding: str, title: str, summary: str, caption: str, n: int = 1) -> str:
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>\n'
        '<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>'
        f"<title>{title}</title><link>https://cjk.example.org/</link><description>d</description>"
        f"<item><title>{title}</title><link>https://cjk.example.org/{n}/</link>"
        f'<guid isPermaLink="false">cjk-{n}</guid>'
        "<pubDate>Mon, 04 Mar 2024 10:00:00 +0000</pubDate>"
        f"<description>{summary}</description>"
        f'<media:content url="https://cjk.example.org/{n}.jpg" medium="image">'
        f"<media:description>{caption}</media:description></media:content>"
        "</item></channel></rss>"
    )


def collect_bodies(
    tmp_path: Path, bodies: dict[str, bytes]
) -> tuple[CollectReport, list[NewsItem]]:
    with LocalServer() as server:
        for name, body in bodies.items():
            server.routes[f"/{name}.xml"] = Response(
                body, 200, {"Content-Type": "application/rss+xml"}
            )
        root = write_project(
            tmp_path,
            [{"name": name, "kind": "feed", "url": f"{server.url}/{name}.xml"} for name in bodies],
        )
        project = Project.at(root)
        with Store(project.store_path) as store:
            return collect(project, store), store.items()


def test_cjk_feeds_are_read_with_their_captions(tmp_path: Path) -> None:
    bodies = {
        encoding: feed_text(encoding, *texts, n=n).encode(encoding)
        for n, (encoding, texts) in enumerate(TEXTS.items())
    }
    report, items = collect_bodies(tmp_path, bodies)
    assert not report.failed, [(s.name, s.error) for s in report.failed]
    by_source = {item.source: item for item in items}
    for encoding, (title, summary, caption) in TEXTS.items():
        item = by_source[encoding]
        assert (item.title, item.summary) == (title, summary), encoding
        assert item.image is not None and item.image.alt == caption, encoding


@pytest.mark.parametrize(
    ("codec", "declared", "bom"),
    [
        ("utf-16-be", "utf-16", b""),
        ("utf-16-le", "UTF-16", b""),
        ("utf-16-be", "utf-16", b"\xfe\xff"),
        ("utf-16-le", "utf-16", b"\xff\xfe"),
        ("utf-16-be", "u16", b""),
        ("utf-32-le", "utf-32", b""),
    ],
)
def test_wide_encodings_are_read(tmp_path: Path, codec: str, declared: str, bom: bytes) -> None:
    text = feed_text(declared, "Forskning på tvers: ny studie", "Om studien.", "Lab: foto")
    body = bom + text.encode(codec)
    assert parse_tree(body) is not None
    report, items = collect_bodies(tmp_path, {"Wide": body})
    assert not report.failed, report.failed[0].error
    assert [i.title for i in items] == ["Forskning på tvers: ny studie"]
    assert items[0].image is not None and items[0].image.alt == "Lab: foto"


def test_an_unknown_encoding_is_read_as_utf8_and_said(tmp_path: Path) -> None:
    body = feed_text("x-no-such-encoding", "Ny studie om æøå", "Om studien.", "Foto").encode()
    assert document_encoding(body) == "x-no-such-encoding"
    report, items = collect_bodies(tmp_path, {"Odd": body})
    assert not report.failed, report.failed[0].error
    assert [i.title for i in items] == ["Ny studie om æøå"]
    assert any("encoding is declared wrongly" in note for note in report.sources[0].notices)


def test_an_unknown_encoding_on_an_empty_feed_is_not_an_error(tmp_path: Path) -> None:
    body = b'<?xml version="1.0" encoding="bogus"?><rss version="2.0"><channel></channel></rss>'
    report, items = collect_bodies(tmp_path, {"Empty": body})
    assert not report.failed and items == []


def hostile(doctype: str, title: str, n: int) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE rss [{doctype}]>\n'
        '<rss version="2.0"><channel><title>t</title><link>https://h.example.org/</link>'
        f"<description>d</description><item><title>{title}</title>"
        f"<link>https://h.example.org/{n}/</link><guid>https://h.example.org/{n}/</guid>"
        "<pubDate>Mon, 04 Mar 2024 10:00:00 +0000</pubDate>"
        "<description>Text of the story.</description></item></channel></rss>"
    ).encode()


def test_declared_entities_are_never_expanded(tmp_path: Path) -> None:
    laughs = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    bodies = {
        "Laughs": hostile(laughs, "Boom &lol9;", 1),
        "File": hostile(f'<!ENTITY xxe SYSTEM "{secret.as_uri()}">', "Leak &xxe;", 2),
        "Inline": hostile('<!ENTITY who "a friend">', "Hello &who;", 3),
    }
    started = time.monotonic()
    report, items = collect_bodies(tmp_path / "p", bodies)
    assert time.monotonic() - started < 30  # a bound for a hang, not a speed check
    assert not report.failed, [(s.name, s.error) for s in report.failed]
    titles = {item.source: item.title for item in items}
    assert "lollol" not in titles["Laughs"] and len(titles["Laughs"]) < 100
    assert "SECRET" not in titles["File"]
    assert "a friend" not in titles["Inline"]


def test_feedparser_reads_xml_with_the_defused_parser() -> None:
    import xml.sax

    import feedparser.api

    import newsletter.collect.feed  # noqa: F401  (installs the parser)

    parser = xml.sax.make_parser(feedparser.api.PREFERRED_XML_PARSERS)
    assert isinstance(parser, FeedSaxParser)
    parser.setContentHandler(xml.sax.handler.ContentHandler())
    with pytest.raises(xml.sax.SAXParseException, match="entity declarations are not read"):
        parser.parse(io.BytesIO(hostile('<!ENTITY who "a friend">', "Hello &who;", 1)))
