"""The kicker is split only from the institute's glued ``Kicker:Title`` shape."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.collect import collect
from newsletter.collect.normalize import split_kicker
from newsletter.project import Project
from newsletter.store import Store
from tests.conftest import LocalServer, Response, write_project


@pytest.mark.parametrize(
    ("title", "kicker", "rest"),
    [
        ("Publication in Science:Treatment-induced resistance mutations in BTK",
         "Publication in Science", "Treatment-induced resistance mutations in BTK"),
        ("Dec 7 12-13 Aud FOBY:Horisont Europa: Cancer Mission Q&A",
         "Dec 7 12-13 Aud FOBY", "Horisont Europa: Cancer Mission Q&A"),
        ("Disputation:Jane Doe defends her thesis", "Disputation", "Jane Doe defends her thesis"),
        ("New book on RNA therapeutics edited by Mouldy Sioud:From siRNA to mRNA",
         "New book on RNA therapeutics edited by Mouldy Sioud", "From siRNA to mRNA"),
        ("Seminar at UiO:Tumour biology", "Seminar at UiO", "Tumour biology"),
        ("Ny publikasjon:Økt overlevelse etter behandling",
         "Ny publikasjon", "Økt overlevelse etter behandling"),
    ],
)  # fmt: skip
def test_the_glued_kicker_is_split(title: str, kicker: str, rest: str) -> None:
    assert split_kicker(title) == (kicker, rest)


@pytest.mark.parametrize(
    "title",
    [
        "AWS re:Invent 2020: what is new for research computing",
        "Relative link with xml:base",
        "Meeting at 12:30 today",
        "See https://example.org for more",
        "Call: UiO Growth House seed funding",
        "Update on iOS:Health records",
        "COVID-19:Vaccine trial results",
        "Publication in Science :Treatment-induced resistance",
        "Science:treatment-induced resistance mutations",
        "A far too long sentence with very many more words than any kicker has ever had:Title",
        "Publication:It",
    ],
)
def test_ordinary_colons_stay_in_the_title(title: str) -> None:
    assert split_kicker(title) == (None, title)


FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>News</title><link>https://news.example.org/</link>
<description>d</description>{items}</channel></rss>"""
ITEM = """<item><title>{title}</title><link>https://news.example.org/{n}/</link>
<guid isPermaLink="false">k{n}</guid><pubDate>Mon, 04 Mar 2024 10:00:00 +0000</pubDate>
<description>Text.</description></item>"""


def test_collected_titles_keep_ordinary_colons(tmp_path: Path) -> None:
    titles = [
        "AWS re:Invent 2020: what is new for research computing",
        "Relative link with xml:base",
        "Publication in Science:Treatment-induced resistance mutations in BTK",
    ]
    body = FEED.format(items="".join(ITEM.format(title=t, n=n) for n, t in enumerate(titles)))
    with LocalServer() as server:
        server.routes["/feed.xml"] = Response(
            body.encode(), 200, {"Content-Type": "application/rss+xml"}
        )
        root = write_project(
            tmp_path, [{"name": "News", "kind": "feed", "url": f"{server.url}/feed.xml"}]
        )
        project = Project.at(root)
        with Store(project.store_path) as store:
            collect(project, store)
            stored = {item.url.rsplit("/", 2)[1]: item for item in store.items()}
    assert (stored["0"].kicker, stored["0"].title) == (None, titles[0])
    assert (stored["1"].kicker, stored["1"].title) == (None, titles[1])
    assert (stored["2"].kicker, stored["2"].title) == (
        "Publication in Science",
        "Treatment-induced resistance mutations in BTK",
    )
