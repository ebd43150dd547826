"""More RSS 2.0 feed shapes for the fast reader's differential test: entities and
encodings, content types, xml:base and languages, namespaces and unknown elements, images."""

from __future__ import annotations

from tests.feed_shapes import CONTENT, Corpus, Shape, document, standard


def document_shapes() -> list[Shape]:
    corpus = Corpus()
    add, found = corpus.add, corpus.found
    # -- entities and encodings ----------------------------------------------------------
    add(
        "windows-1252 references",
        standard(
            replace={
                "title": "<title>Don&#146;t miss it &#150; the &#128;5 &#147;offer&#148;</title>",
                "description": "<description>It&#x92;s here&#133; &#x9f;&#129;</description>",
            }
        ),
    )
    add(
        "utf-8 read as latin-1",
        standard(
            replace={
                "title": "<title>Caf&#195;&#169; talk &#226;&#128;&#166;</title>",
                "description": "<description>&#195;&#184;l &#195;&#166; &#195;&#165;</description>",
            }
        ),
    )
    add(
        "utf-8 read as latin-1 twice",
        standard(
            replace={
                "title": "<title>Caf&#195;&#131;&#194;&#169; &#195;&#131;&#194;&#184;l</title>"
            }
        ),
    )
    add(
        "windows-1252 and wide characters",
        standard(
            replace={
                "title": "<title>It&#146;s “here” — &#150; 癌症 &#128;</title>",
                "description": "<description>Ø&#150;å&#146;s</description>",
            }
        ),
    )
    add(
        "latin-1 letters",
        standard(replace={"title": "<title>Forskning på Radiumhospitalet: ÆØÅ é ü</title>"}),
    )
    add(
        "control character",
        standard(replace={"title": "<title>Raw \u0092 and \u0085 here</title>"}),
    )
    add("cjk and emoji", standard(replace={"title": "<title>癌症研究 🎉 — “quoted”</title>"}))
    add(
        "numeric references",
        standard(replace={"title": "<title>&#8220;Cure&#8221; &#x2014; &#38;</title>"}),
    )
    add("undefined entity", standard(replace={"title": "<title>Caf&eacute; &nbsp;</title>"}))
    add(
        "doctype",
        standard(),
        prolog='<?xml version="1.0"?>\n<!DOCTYPE rss SYSTEM '
        '"http://my.netscape.com/publish/formats/rss-0.91.dtd">\n',
    )
    add("declared latin-1", standard(), prolog='<?xml version="1.0" encoding="ISO-8859-1"?>\n')
    add("no declaration", standard(), prolog="")
    found.append(Shape("byte order mark", b"\xef\xbb\xbf" + document(standard()).encode()))
    found.append(
        Shape(
            "latin-1 bytes",
            document(
                standard(replace={"title": "<title>Forskning på tvers</title>"}),
                prolog='<?xml version="1.0" encoding="ISO-8859-1"?>\n',
            ).encode("latin-1"),
        )
    )
    for ctype in (
        "application/rss+xml",
        "application/rss+xml; charset=utf-8",
        'application/xml; charset="UTF-8"',
        "text/xml",
        "text/xml; charset=utf-8",
        "text/xml; charset=iso-8859-1",
        "text/html",
        "text/plain",
        "application/octet-stream",
        "application/json",
        "application/xml, application/rss+xml; charset=utf-8",
        "application/rss+xml; charset=iso-8859-1",
        "text/xml; charset=us-ascii",
        "application/xml; charset=utf-8, text/xml; charset=iso-8859-1",
    ):
        add(
            f"content-type {ctype}",
            standard(replace={"title": "<title>Forskning på tvers</title>"}),
            {"content-type": ctype},
        )

    # -- xml:base, languages -------------------------------------------------------------
    base = 'xml:base="https://base.example.org/dir/"'
    add(
        "xml:base on channel",
        standard(replace={"link": "<link>a/</link>"}),
        channel_attrs=f" {base}",
    )
    add("xml:base on item", f"<item {base}>" + standard()[6:])
    add("xml:base on link", standard(replace={"link": f"<link {base}>a/</link>"}))
    add(
        "base attribute",
        standard(replace={"link": '<link base="https://b.example.org/">a/</link>'}),
    )
    add("xml:lang on item", '<item xml:lang="no">' + standard()[6:])
    add("xml:lang on channel", standard(), channel_attrs=' xml:lang="nb"')
    add("dc:language", standard("<dc:language>no</dc:language>"))
    add("no language", standard(), channel="")
    add("language nb-NO", standard(), channel="<language>nb-NO</language>")
    add("empty language", standard(), channel="<language></language>")
    add("content-language", standard(), {"content-language": "no"}, channel="")
    add("content-language and language", standard(), {"content-language": "no"})

    # -- namespaces and unknown elements -------------------------------------------------
    add("dc:title", standard("<dc:title>The Dublin Core title</dc:title>", drop=("title",)))
    add("dc:title and title", standard("<dc:title>The Dublin Core title</dc:title>"))
    add(
        "dc:description",
        standard("<dc:description>DC text</dc:description>", drop=("description",)),
    )
    add("unknown element", standard("<x:rating>5</x:rating>"))
    add("unknown plain element", standard("<rating>5</rating>"))
    add("summary element", standard("<summary>Other text</summary>"))
    add("source element", standard('<source url="https://other.example.org/feed">Other</source>'))
    add(
        "image in item",
        standard(
            "<image><url>https://news.example.org/i.png</url>"
            "<link>https://news.example.org/image-link/</link></image>",
            drop=("link",),
        ),
    )
    add("title case", standard(replace={"title": "<Title>Capital title</Title>"}))
    add(
        "pubdate lower case",
        standard(replace={"pubDate": "<pubdate>Mon, 04 Mar 2024 10:15:00 +0000</pubdate>"}),
    )
    add(
        "naked markup", standard(replace={"description": "<description><p>Naked</p></description>"})
    )
    add(
        "textInput",
        standard(),
        channel="<textInput><title>Search</title><link>https://"
        "news.example.org/s</link><name>q</name><description>d</description></textInput>",
    )
    found.append(
        Shape(
            "dc under another prefix",
            document(standard("<d:date>2024-03-05T08:00:00Z</d:date>", drop=("pubDate",)))
            .replace("<rss ", '<rss xmlns:d="http://purl.org/dc/elements/1.1/" ')
            .encode(),
        )
    )
    found.append(
        Shape(
            "default namespace",
            document(standard())
            .replace("<rss ", '<rss xmlns="http://backend.userland.com/rss2" ')
            .encode(),
        )
    )
    add("version 2.01", standard(), root='version="2.01"')
    add("version 0.92", standard(), root='version="0.92"')
    add("no version", standard(), root="")
    found.append(
        Shape(
            "item outside channel",
            document(standard())
            .replace("</channel></rss>", "</channel>" + standard() + "</rss>")
            .encode(),
        )
    )

    # -- images --------------------------------------------------------------------------
    enclosure = '<enclosure url="{url}" type="{type}" length="1"/>'
    for name, url, mtype in [
        ("enclosure", "https://news.example.org/e.jpg", "image/jpeg"),
        ("enclosure upper-case type", "https://news.example.org/e.jpg", "IMAGE/JPEG"),
        ("enclosure relative", "/e.jpg", "image/jpeg"),
        ("enclosure audio", "https://news.example.org/e.mp3", "audio/mpeg"),
        ("enclosure empty url", "", "image/jpeg"),
    ]:
        add(name, standard(enclosure.format(url=url, type=mtype)))
    for name, media in [
        ("media without medium", '<media:content url="https://news.example.org/m.jpg"/>'),
        (
            "media upper-case type",
            '<media:content url="https://news.example.org/m.jpg" type="IMAGE/PNG"/>',
        ),
        ("media video", '<media:content url="https://news.example.org/m.mp4" medium="video"/>'),
        ("media upper-case URL", '<media:content URL="https://news.example.org/m.jpg"/>'),
        ("media relative", '<media:content url="m.jpg" medium="image"/>'),
        (
            "media title",
            '<media:content url="https://news.example.org/m.jpg" medium="image">'
            "<media:title>Photo title</media:title></media:content>",
        ),
        (
            "media group",
            '<media:group><media:content url="https://news.example.org/m.jpg" '
            'medium="image"/></media:group>',
        ),
        ("media thumbnail", '<media:thumbnail url="https://news.example.org/t.jpg"/>'),
        (
            "media thumbnail text",
            "<media:thumbnail>https://news.example.org/t.jpg</media:thumbnail>",
        ),
        (
            "media thumbnail inside",
            '<media:content url="https://news.example.org/v.mp4" '
            'medium="video"><media:thumbnail url="https://news.example.org/t.jpg"/></media:content>',
        ),
        (
            "media html caption",
            '<media:content url="https://news.example.org/m.jpg" '
            'medium="image"><media:description type="html">&lt;b&gt;Lab&lt;/b&gt; Photo: Me'
            "</media:description></media:content>",
        ),
        (
            "media odd caption type",
            '<media:content url="https://news.example.org/m.jpg" '
            'medium="image"><media:description type="base64">TGFi</media:description>'
            "</media:content>",
        ),
        ("media with lang", '<media:content url="https://news.example.org/m.jpg" lang="no"/>'),
    ]:
        add(name, standard(media))
    add("image in content", standard(CONTENT))
    return found
