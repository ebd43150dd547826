"""Atom 1.0 feed shapes for the fast readers' differential test (tests/feed_shapes.py has
the RSS ones): text constructs of each type, summary and content, links and their
relations, authors, dates, xml:base, entities and CDATA, missing and unknown parts.

Each shape is one small feed: a WordPress-like entry with one part added, changed or
removed. Written here from scratch after the kinds of cases feedparser's own tests cover.
"""

from __future__ import annotations

from tests.feed_shapes import Shape

NAMESPACES = (
    'xmlns="http://www.w3.org/2005/Atom" xmlns:thr="http://purl.org/syndication/thread/1.0" '
    'xmlns:media="http://search.yahoo.com/mrss/" xmlns:x="https://unknown.example.org/ns"'
)
XHTML = 'xmlns="http://www.w3.org/1999/xhtml"'
TITLE = '<title type="html"><![CDATA[Immunotherapy trial enrols its first patient]]></title>'
LINK = '<link rel="alternate" type="text/html" href="https://news.example.org/2024/03/04/trial/"/>'
ID = "<id>https://news.example.org/?p=101</id>"
UPDATED = "<updated>2024-03-05T08:00:00Z</updated>"
PUBLISHED = "<published>2024-03-04T10:15:00Z</published>"
SUMMARY = '<summary type="html"><![CDATA[The first patient joined the trial on Monday.]]></summary>'
CONTENT = (
    '<content type="html" xml:base="https://news.example.org/2024/03/04/trial/"><![CDATA['
    '<p>The first patient joined the trial.</p><p><img src="/uploads/trial.jpg" alt="The lab">'
    '</p><p><a href="related/">Related</a></p>]]></content>'
)
AUTHOR = "<author><name>Editor</name><uri>https://news.example.org/</uri></author>"
PHOTO = (
    '<media:content url="https://news.example.org/uploads/photo.jpg" medium="image">'
    "<media:description><![CDATA[Kari Nordmann. Photo: OUS]]></media:description>"
    "<media:credit>OUS</media:credit></media:content>"
)
STANDARD = {
    "author": AUTHOR,
    "title": TITLE,
    "link": LINK,
    "id": ID,
    "updated": UPDATED,
    "published": PUBLISHED,
    "summary": SUMMARY,
    "content": CONTENT,
}


def entry(
    *extra: str, replace: dict[str, str] | None = None, drop: tuple[str, ...] = (), attrs: str = ""
) -> str:
    """The standard entry with parts replaced (by name), dropped or added at the end."""
    parts = [(replace or {}).get(name, part) for name, part in STANDARD.items() if name not in drop]
    return f"<entry{attrs}>" + "".join(parts) + "".join(extra) + "</entry>"


def document(
    entries: str,
    *,
    feed_attrs: str = ' xml:lang="en-US"',
    head: str = "",
    prolog: str = '<?xml version="1.0" encoding="UTF-8"?>\n',
) -> str:
    return (
        f"{prolog}<feed {NAMESPACES}{feed_attrs}>"
        '<title type="text">News</title><subtitle type="text">Our news</subtitle>'
        "<updated>2024-03-05T08:00:00Z</updated>"
        '<link rel="alternate" type="text/html" href="https://news.example.org/"/>'
        "<id>https://news.example.org/feed/atom/</id>"
        '<link rel="self" type="application/atom+xml" href="https://news.example.org/feed/atom/"/>'
        f'<generator uri="https://wordpress.org/" version="6.4">WordPress</generator>{head}'
        f"{entries}</feed>"
    )


def atom_shapes() -> list[Shape]:
    found: list[Shape] = []

    def add(name: str, entries: str, headers: dict[str, str] | None = None, **kw: str) -> None:
        found.append(Shape(f"atom: {name}", document(entries, **kw).encode(), headers or {}))

    # -- the everyday shapes ---------------------------------------------------------------
    add(
        "wordpress",
        entry(
            '<link rel="replies" type="text/html" href="https://news.example.org/2024/03/04/trial/'
            '#comments" thr:count="0"/><category scheme="https://news.example.org" term="News"/>'
            "<thr:total>0</thr:total>"
        ),
        feed_attrs=' xml:lang="en-US" xml:base="https://news.example.org/wp-atom.php"',
    )
    add("standard", entry())
    add(
        "several entries",
        entry()
        + entry(
            replace={
                "link": '<link href="https://news.example.org/2/"/>',
                "id": "<id>https://news.example.org/?p=2</id>",
            }
        ),
    )
    add("no entries", "")
    add("photo", entry(PHOTO))
    add("photo before content", entry(PHOTO, drop=("summary",)))
    add("photo, no summary or content", entry(PHOTO, drop=("summary", "content")))
    add("content only", entry(drop=("summary",)))
    add("summary only", entry(drop=("content",)))
    add("content before summary", entry(SUMMARY, drop=("summary",)))
    add("neither summary nor content", entry(drop=("summary", "content")))
    add("two summaries", entry(SUMMARY))
    add("two contents", entry(CONTENT))
    # -- text constructs -------------------------------------------------------------------
    for kind in (
        "text",
        "html",
        "xhtml",
        "TEXT",
        "text/html",
        "text/plain",
        "application/xhtml+xml",
        "image/png",
        "markdown",
    ):
        body = f"<div {XHTML}><p>Hello <b>world</b></p></div>" if "xhtml" in kind else "Hello"
        add(
            f"content type {kind}",
            entry(replace={"content": f'<content type="{kind}">{body}</content>'}),
        )
    add("content with no type", entry(replace={"content": "<content>Plain &amp; simple</content>"}))
    add(
        "text summary with markup characters",
        entry(replace={"summary": '<summary type="text">a &lt; b &amp;&amp; c &gt; d</summary>'}),
    )
    add(
        "escaped html content",
        entry(
            replace={
                "content": '<content type="html">&lt;p&gt;Hi &amp;amp; bye&lt;/p&gt;</content>'
            }
        ),
    )
    add(
        "html content holding elements",
        entry(replace={"content": '<content type="html"><p>naked</p></content>'}),
    )
    xhtml_bodies = {
        "xhtml div": f'<div {XHTML}><p>One <a href="/x" rel="NoFollow">link</a> &amp; '
        '<img src="a.jpg" alt="A &quot;b&quot;"/><br/>end</p></div>',
        "xhtml whitespace around div": f"\n  <div {XHTML}>\n<p>Spaced</p>\n</div>\n",
        "xhtml two divs": f"<div {XHTML}>one</div><div {XHTML}>two</div>",
        "xhtml div with class": f'<div {XHTML} class="post"><p>Classy</p></div>',
        "xhtml no div": f"<p {XHTML}>Bare paragraph</p> and text",
        "xhtml text before div": f"Lead <div {XHTML}>in</div>",
        "xhtml nested divs": f"<div {XHTML}><div>inner</div><div>second</div></div>",
        "xhtml prefixed": '<h:div xmlns:h="http://www.w3.org/1999/xhtml"><h:p>Pre</h:p></h:div>',
        "xhtml in atom namespace": "<div><p>wrong namespace</p></div>",
        "xhtml upper-case attribute": f'<div {XHTML}><p CLASS="x">Up</p></div>',
        "xhtml with xml:lang": f'<div {XHTML} xml:lang="no"><p>Hei</p></div>',
        "xhtml svg": f'<div {XHTML}><svg xmlns="http://www.w3.org/2000/svg"/></div>',
        "xhtml cdata": f"<div {XHTML}><p><![CDATA[<not a tag> & co]]></p></div>",
        "xhtml entities": f"<div {XHTML}><p>caf&#233; &#8220;q&#8221; &lt;x&gt;</p></div>",
        "xhtml empty": "",
    }
    for name, body in xhtml_bodies.items():
        add(
            f"content {name}", entry(replace={"content": f'<content type="xhtml">{body}</content>'})
        )
    add(
        "xhtml title",
        entry(
            replace={
                "title": f'<title type="xhtml"><div {XHTML}>The <i>first</i> patient</div></title>'
            }
        ),
    )
    add(
        "xhtml summary",
        entry(
            replace={
                "summary": f'<summary type="xhtml"><div {XHTML}><p>Short <em>one</em></p>'
                "</div></summary>"
            }
        ),
    )
    add("text title", entry(replace={"title": '<title type="text">AT&amp;T &lt;3 R&amp;D</title>'}))
    add(
        "html title with markup",
        entry(
            replace={
                "title": '<title type="html">&lt;b&gt;Bold&lt;/b&gt; news &amp;amp; more</title>'
            }
        ),
    )
    add("title with no type", entry(replace={"title": "<title>Plain title</title>"}))
    add("empty title", entry(replace={"title": "<title></title>"}))
    add("no title", entry(drop=("title",)))
    add("two titles", entry("<title>Second</title>"))
    add("whitespace title", entry(replace={"title": "<title>\n  Spaced out  \n</title>"}))
    add("comment in title", entry(replace={"title": "<title>A trial <!-- x -->starts</title>"}))
    add(
        "cdata title",
        entry(replace={"title": '<title type="html"><![CDATA[Q&A: <i>the</i> trial]]></title>'}),
    )
    add(
        "base64 content",
        entry(replace={"content": '<content type="text" mode="base64">SGk=</content>'}),
    )
    add(
        "out-of-line content",
        entry(replace={"content": '<content src="https://news.example.org/x"/>'}),
    )
    # -- entities and encodings ------------------------------------------------------------
    add(
        "windows-1252 references",
        entry(
            replace={
                "title": "<title>Don&#146;t miss it &#150; the &#128;5 &#147;offer&#148;</title>",
                "summary": "<summary>It&#x92;s here&#133;</summary>",
            }
        ),
    )
    add(
        "utf-8 read as latin-1",
        entry(replace={"title": "<title>Caf&#195;&#169; talk &#226;&#128;&#166;</title>"}),
    )
    add("cjk and emoji", entry(replace={"title": "<title>癌症研究 🎉 — “quoted”</title>"}))
    add("undefined entity", entry(replace={"title": "<title>Caf&eacute;</title>"}))
    add("declared latin-1", entry(), prolog='<?xml version="1.0" encoding="ISO-8859-1"?>\n')
    add("no declaration", entry(), prolog="")
    add("doctype", entry(), prolog='<?xml version="1.0"?>\n<!DOCTYPE feed [<!ELEMENT feed ANY>]>\n')
    add("charset iso-8859-1", entry(), {"content-type": "application/atom+xml; charset=iso-8859-1"})
    add("content-language", entry(), {"content-language": "no"})
    # -- links -----------------------------------------------------------------------------
    add(
        "link without rel",
        entry(replace={"link": '<link href="https://news.example.org/norel/"/>'}),
    )
    add(
        "link with other type",
        entry(
            replace={
                "link": '<link rel="alternate" type="application/pdf" href="https://news.example.org/a.pdf"/>'
            }
        ),
    )
    add(
        "two alternate links",
        entry('<link rel="alternate" href="https://news.example.org/second/"/>'),
    )
    add(
        "alternate link after id",
        entry(
            '<link rel="alternate" type="text/html" href="https://news.example.org/late/"/>',
            drop=("link",),
        ),
    )
    add("no link, http id", entry(drop=("link",)))
    add(
        "no link, tag id",
        entry(drop=("link",), replace={"id": "<id>tag:news.example.org,2024:101</id>"}),
    )
    add("no link, no id", entry(drop=("link", "id")))
    add("relative link", entry(replace={"link": '<link rel="alternate" href="/2024/03/04/rel/"/>'}))
    add(
        "relative link, content location",
        entry(replace={"link": '<link rel="alternate" href="story/"/>'}),
        {"content-location": "https://cdn.example.org/a/feed"},
    )
    add(
        "link with ampersand",
        entry(
            replace={
                "link": '<link href="https://news.example.org/?a=1&amp;amp;b=2&amp;utm_source=x"/>'
            }
        ),
    )
    add(
        "link with extra slashes",
        entry(replace={"link": '<link href="https:////news.example.org/a/"/>'}),
    )
    add(
        "link with spaces", entry(replace={"link": '<link href=" https://news.example.org/sp/ "/>'})
    )
    add(
        "link upper-case rel",
        entry(
            replace={
                "link": '<link rel="ALTERNATE" type="TEXT/HTML" href="https://news.example.org/up/"/>'
            }
        ),
    )
    add("link without href", entry(replace={"link": "<link>https://news.example.org/text/</link>"}))
    add("empty href", entry(replace={"link": '<link rel="alternate" href=""/>'}))
    add("javascript link", entry(replace={"link": '<link href="javascript:alert(1)"/>'}))
    add(
        "self and edit links",
        entry(
            '<link rel="self" href="https://news.example.org/self/"/><link rel="edit" href="/e/"/>'
        ),
    )
    for name, kind in (
        ("image", "image/jpeg"),
        ("upper-case image", "IMAGE/PNG"),
        ("audio", "audio/mpeg"),
        ("untyped", ""),
    ):
        type_attr = f' type="{kind}"' if kind else ""
        add(
            f"enclosure {name}",
            entry(
                f'<link rel="enclosure"{type_attr} length="1" href="https://news.example.org/e.bin"/>'
            ),
        )
    add("relative enclosure", entry('<link rel="enclosure" type="image/jpeg" href="/e.jpg"/>'))
    # -- xml:base ---------------------------------------------------------------------------
    base = 'xml:base="https://base.example.org/dir/"'
    add("xml:base on feed", entry(replace={"link": '<link href="a/"/>'}), feed_attrs=f" {base}")
    add("xml:base on entry", entry(replace={"link": '<link href="a/"/>'}, attrs=f" {base}"))
    add("xml:base on link", entry(replace={"link": f'<link {base} href="a/"/>'}))
    add(
        "relative xml:base",
        entry(replace={"link": '<link xml:base="sub/" href="a/"/>'}),
        feed_attrs=f" {base}",
    )
    add(
        "xml:base on first entry only",
        entry(replace={"link": '<link href="a/"/>'}, attrs=f" {base}")
        + entry(replace={"link": '<link href="b/"/>', "id": "<id>/p/2</id>"}),
    )
    add("xml:base on id", entry(drop=("link",), replace={"id": f"<id {base}>p/1</id>"}))
    add("relative id", entry(drop=("link",), replace={"id": "<id>/p/1</id>"}))
    add("xml:base javascript", entry(), feed_attrs=' xml:base="javascript:alert(1)"')
    add(
        "base attribute", entry(replace={"link": '<link base="https://b.example.org/" href="a/"/>'})
    )
    # -- authors, categories, languages -----------------------------------------------------
    add(
        "author with email",
        entry(replace={"author": "<author><name>Ed</name><email>ed@example.org</email></author>"}),
    )
    add("empty author", entry(replace={"author": "<author/>"}))
    add("author text", entry(replace={"author": "<author>Ed Itor</author>"}))
    add("contributor", entry("<contributor><name>Co</name></contributor>"))
    add("feed author", entry(), head="<author><name>Desk</name></author>")
    add("category with label", entry('<category term="n" scheme="s" label="News"/>'))
    add("rights", entry('<rights type="text">CC BY</rights>'))
    add("source", entry("<source><title>Other</title><id>urn:x</id></source>"))
    add("no language", entry(), feed_attrs="")
    add("empty language", entry(), feed_attrs=' xml:lang=""')
    add("language nb_NO", entry(), feed_attrs=' xml:lang="nb_NO"')
    add("xml:lang on entry", entry(attrs=' xml:lang="no"'))
    add(
        "xml:lang on content",
        entry(replace={"content": '<content type="html" xml:lang="no">Hei</content>'}),
    )
    add("unknown element", entry("<x:rating>5</x:rating>"))
    add("unknown atom element", entry("<rating>5</rating>"))
    add("thumbnail", entry('<media:thumbnail url="https://news.example.org/t.jpg"/>'))
    add("rss 1.0 namespace declared", entry(), feed_attrs=' xmlns:rss="http://purl.org/rss/1.0/"')
    # -- dates -----------------------------------------------------------------------------
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
            "2024-03-04t10:15:00z",
            "next Monday",
            "",
        ]
    ):
        add(
            f"published {n}: {stamp!r}",
            entry(replace={"published": f"<published>{stamp}</published>"}),
        )
    add("updated only", entry(drop=("published",)))
    add("published only", entry(drop=("updated",)))
    add("no dates", entry(drop=("published", "updated")))
    add("bad updated", entry(replace={"updated": "<updated>soon</updated>"}))
    add("two published", entry("<published>2024-03-06T10:15:00Z</published>"))
    add("atom 0.3 issued", entry("<issued>2024-03-04T10:15:00Z</issued>", drop=("published",)))
    return found
