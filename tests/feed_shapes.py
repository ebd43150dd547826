"""A corpus of RSS 2.0 feed shapes for the differential test of the fast reader.

Modelled on the kinds of cases feedparser's own test suite covers (item elements and their
Dublin Core and Atom twins, guid and link rules, content and summary, dates, entities and
encodings, xml:base and languages, namespaces, media), written here from scratch. Each
shape is one small feed: a WordPress-like item with one part added, changed or removed.
This module has the helpers and the item shapes; feed_shapes_document.py the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field

NAMESPACES = (
    'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:dcterms="http://purl.org/dc/terms/" '
    'xmlns:atom="http://www.w3.org/2005/Atom" '
    'xmlns:media="http://search.yahoo.com/mrss/" '
    'xmlns:wfw="http://wellformedweb.org/CommentAPI/" '
    'xmlns:slash="http://purl.org/rss/1.0/modules/slash/" '
    'xmlns:sy="http://purl.org/rss/1.0/modules/syndication/" '
    'xmlns:x="https://unknown.example.org/ns"'
)
TITLE = "<title>Immunotherapy trial enrols its first patient</title>"
LINK = "<link>https://news.example.org/2024/03/04/trial/</link>"
GUID = '<guid isPermaLink="false">https://news.example.org/?p=101</guid>'
DATE = "<pubDate>Mon, 04 Mar 2024 10:15:00 +0000</pubDate>"
DESCRIPTION = "<description><![CDATA[The first patient joined the trial on Monday.]]></description>"
CONTENT = (
    "<content:encoded><![CDATA[<p>The first patient joined the trial.</p>"
    '<p><img src="/uploads/trial.jpg" alt="The lab"></p>]]></content:encoded>'
)
PHOTO = (
    '<media:content url="https://news.example.org/uploads/photo.jpg" medium="image">'
    "<media:description><![CDATA[Kari Nordmann. Photo: OUS]]></media:description>"
    "<media:credit>OUS</media:credit></media:content>"
)
STANDARD = (TITLE, LINK, GUID, DATE, DESCRIPTION)


@dataclass
class Shape:
    name: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def item(*parts: str) -> str:
    return "<item>" + "".join(parts) + "</item>"


def document(
    items: str,
    *,
    channel: str = "<language>en-US</language>",
    root: str = 'version="2.0"',
    prolog: str = '<?xml version="1.0" encoding="UTF-8"?>\n',
    channel_attrs: str = "",
) -> str:
    return (
        f"{prolog}<rss {root} {NAMESPACES}><channel{channel_attrs}>"
        "<title>News</title><link>https://news.example.org/</link>"
        f"<description>Our news</description>{channel}{items}</channel></rss>"
    )


def standard(*extra: str, replace: dict[str, str] | None = None, drop: tuple[str, ...] = ()) -> str:
    """The standard item with parts replaced (by their opening tag), dropped or added."""
    parts = []
    for part in STANDARD:
        tag = part[1 : part.index(">")].split()[0]
        if tag in drop:
            continue
        parts.append((replace or {}).get(tag, part))
    return item(*parts, *extra)


class Corpus:
    """Shapes as they are added: ``add`` wraps items in a feed document."""

    def __init__(self) -> None:
        self.found: list[Shape] = []

    def add(self, name: str, items: str, headers: dict[str, str] | None = None, **kw: str) -> None:
        self.found.append(Shape(name, document(items, **kw).encode("utf-8"), headers or {}))


def item_shapes() -> list[Shape]:
    """Shapes of one item: its elements, guid and link rules, dates."""
    corpus = Corpus()
    add, found = corpus.add, corpus.found
    # -- the common shapes: WordPress and friends ---------------------------------------
    add(
        "wordpress",
        item(
            TITLE,
            LINK,
            "<comments>https://news.example.org/2024/03/04/trial/"
            "#respond</comments><dc:creator><![CDATA[Editor]]></dc:creator>",
            DATE,
            "<category><![CDATA[News]]></category>",
            GUID,
            DESCRIPTION,
            CONTENT,
            "<wfw:commentRss>https://news.example.org/2024/03/04/trial/feed/</wfw:commentRss>"
            "<slash:comments>0</slash:comments>",
            PHOTO,
        ),
        channel='<language>en-US</language><atom:link href="https://news.example.org/feed/" '
        'rel="self" type="application/rss+xml"/><sy:updatePeriod> hourly </sy:updatePeriod>'
        "<sy:updateFrequency>1</sy:updateFrequency><generator>WordPress</generator>"
        "<lastBuildDate>Mon, 04 Mar 2024 10:15:00 +0000</lastBuildDate>"
        "<image><url>https://news.example.org/logo.png</url><title>News</title>"
        "<link>https://news.example.org/</link></image>",
    )
    add("standard", standard())
    add(
        "several items",
        standard()
        + standard(
            replace={
                "link": "<link>https://news.example.org/2/</link>",
                "guid": "<guid>https://news.example.org/?p=2</guid>",
            }
        ),
    )
    add("no items", "")
    add("content only", standard(CONTENT, drop=("description",)))
    add("content before description", item(TITLE, LINK, GUID, DATE, CONTENT, DESCRIPTION))
    add("description then photo", standard(PHOTO))
    add("photo without description", standard(PHOTO, drop=("description",)))
    add("photo before description", item(TITLE, LINK, GUID, DATE, PHOTO, DESCRIPTION))
    add("photo before content", item(TITLE, LINK, GUID, DATE, PHOTO, CONTENT))
    add("two photos", standard(PHOTO, PHOTO))
    add("two photos and content", standard(CONTENT, PHOTO, PHOTO))
    add(
        "whitespace",
        standard(
            replace={
                "title": "<title>\n   Immunotherapy trial enrols its first patient \t</title>",
                "link": "<link>\n https://news.example.org/2024/03/04/trial/ \n</link>",
            }
        ),
    )
    add(
        "comment inside title",
        standard(replace={"title": "<title>A trial <!-- x -->starts</title>"}),
    )
    add("empty title", standard(replace={"title": "<title></title>"}))
    add("self-closed title", standard(replace={"title": "<title/>"}))
    add("no title", standard(drop=("title",)))
    add(
        "html title",
        standard(replace={"title": "<title>&lt;b&gt;Bold&lt;/b&gt; news &amp; more</title>"}),
    )
    add(
        "cdata title",
        standard(replace={"title": "<title><![CDATA[Q&A: <i>the</i> trial]]></title>"}),
    )
    add("no description", standard(drop=("description",)))
    add(
        "escaped description",
        standard(
            replace={
                "description": "<description>&lt;p&gt;Hello &amp;amp; welcome&lt;/p&gt;"
                "</description>"
            }
        ),
    )
    add(
        "category with domain",
        standard('<category domain="https://news.example.org/c">News</category>'),
    )
    add("author", standard("<author>editor@example.org (Editor)</author>"))

    # -- guid and link ---------------------------------------------------------------------
    add(
        "guid permalink, no link",
        standard(
            drop=("link",),
            replace={"guid": "<guid>https://news.example.org/2024/03/04/by-guid/</guid>"},
        ),
    )
    add(
        "guid permalink true, no link",
        standard(
            drop=("link",),
            replace={"guid": '<guid isPermaLink="true">https://news.example.org/by-guid/</guid>'},
        ),
    )
    add("guid not permalink, no link", standard(drop=("link",)))
    add("guid before link", item(TITLE, "<guid>https://news.example.org/g/</guid>", LINK, DATE))
    add(
        "guid permalink and link",
        standard(replace={"guid": "<guid>https://news.example.org/other/</guid>"}),
    )
    add("relative guid permalink", standard(drop=("link",), replace={"guid": "<guid>/g/1/</guid>"}))
    add(
        "relative guid not permalink",
        standard(replace={"guid": '<guid isPermaLink="false">/g/1/</guid>'}),
    )
    add(
        "guid permalink TRUE",
        standard(
            drop=("link",),
            replace={"guid": '<guid isPermaLink="TRUE">https://news.example.org/g/</guid>'},
        ),
    )
    add("empty guid", standard(drop=("link",), replace={"guid": "<guid></guid>"}))
    add("no guid", standard(drop=("guid",)))
    add(
        "empty link and guid",
        item(TITLE, "<guid>https://news.example.org/g/</guid>", "<link></link>", DATE),
    )
    add("relative link", standard(replace={"link": "<link>/2024/03/04/relative/</link>"}))
    add(
        "relative link, content location",
        standard(replace={"link": "<link>story/</link>"}),
        {"content-location": "https://cdn.example.org/a/feed"},
    )
    add("content location", standard(), {"content-location": "https://news.example.org/feed/"})
    add(
        "link with href",
        standard(replace={"link": '<link href="https://news.example.org/href/"/>'}),
    )
    add(
        "atom link in item",
        standard(
            '<atom:link href="https://news.example.org/alt/" rel="alternate"/>', drop=("link",)
        ),
    )
    add(
        "link with escaped ampersand",
        standard(
            replace={"link": "<link>https://news.example.org/?a=1&amp;amp;b=2&amp;c;=3</link>"}
        ),
    )
    add(
        "link with query",
        standard(replace={"link": "<link>https://news.example.org/?p=1&amp;utm_source=rss</link>"}),
    )
    add(
        "link with extra slashes",
        standard(replace={"link": "<link>https:////news.example.org/a/</link>"}),
    )
    add("two links", standard("<link>https://news.example.org/second/</link>"))
    add("javascript link", standard(replace={"link": "<link>javascript:alert(1)</link>"}))

    # -- dates -----------------------------------------------------------------------------
    for n, stamp in enumerate(
        [
            "Mon, 04 Mar 2024 10:15:00 GMT",
            "04 Mar 2024 10:15:00 +0000",
            "4 Mar 2024 10:15:00 UT",
            "Sat, 04 Mar 2024 10:15:00 +0000",
            "Mon, 04 Mar 2024 23:30:00 -0500",
            "Mon, 04 Mar 2024 10:15:00 +0530",
            "Mon, 04 Mar 2024 10:15:00 Z",
            "Mon, 04 Mar 2024 10:15 +0000",
            "Mon, 04 Mar 24 10:15:00 +0000",
            "Mon, 04 Mar 2024 10:15:00 EST",
            "Mon, 04 Mar 2024 10:15:00 PDT",
            "Mon, 04 Mar 2024 10:15:00 CET",
            "Mon, 04 Mar 2024 10:15:00",
            "mon, 04 mar 2024 10:15:00 gmt",
            "Mon, 4 March 2024 10:15:00 +0000",
            "2024-03-04T10:15:00Z",
            "2024-03-04",
            "Mon, 29 Feb 2023 10:15:00 +0000",
            "Mon, 04 Mar 2024 24:00:00 +0000",
            "Mon, 04 Mar 2024 10:15:60 +0000",
            "Mon, 04 Mar 1890 10:15:00 +0000",
            "Mon, 04 Mar 2024 10:15:00 +2400",
            "next Monday",
            "",
        ]
    ):
        add(f"pubDate {n}: {stamp!r}", standard(replace={"pubDate": f"<pubDate>{stamp}</pubDate>"}))
    for n, stamp in enumerate(
        [
            "2024-03-04T10:15:00Z",
            "2024-03-04T10:15:00+02:00",
            "2024-03-04T10:15:00.250-01:30",
            "2024-03-04T10:15Z",
            "2024-03-04",
            "2024-03-04T10:15:00",
            "2024-03-04 10:15:00Z",
            "2024-02-30T10:15:00Z",
            "Mon, 04 Mar 2024 10:15:00 +0000",
        ]
    ):
        add(f"dc:date {n}: {stamp!r}", standard(f"<dc:date>{stamp}</dc:date>", drop=("pubDate",)))
    add("pubDate and dc:date", standard("<dc:date>2024-03-05T08:00:00Z</dc:date>"))
    add(
        "dc:date before pubDate", item(TITLE, LINK, "<dc:date>2024-03-05T08:00:00Z</dc:date>", DATE)
    )
    for tag in (
        "dcterms:created",
        "dcterms:issued",
        "dcterms:modified",
        "atom:updated",
        "atom:published",
        "expirationDate",
    ):
        add(f"{tag} only", standard(f"<{tag}>2024-03-04T10:15:00Z</{tag}>", drop=("pubDate",)))
    add("two pubDates", standard("<pubDate>Tue, 05 Mar 2024 10:15:00 +0000</pubDate>"))
    add("no date", standard(drop=("pubDate",)))

    return found
