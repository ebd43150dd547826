"""Links to IPv6 hosts keep the brackets around the address."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.collect import collect
from newsletter.collect.normalize import canonical_url
from newsletter.project import Project
from newsletter.store import Store
from tests.conftest import LocalServer, Response, write_project


@pytest.mark.parametrize(
    ("raw", "base", "expected"),
    [
        ("http://[::1]:80/", None, "http://[::1]/"),
        ("https://[::1]:443/a", None, "https://[::1]/a"),
        ("http://[::1]:8080/a?utm_source=x&b=1#top", None, "http://[::1]:8080/a?b=1"),
        ("https://[2001:DB8::1]/x", None, "https://[2001:db8::1]/x"),
        ("/story/", "http://[::1]:8080/feed.xml", "http://[::1]:8080/story/"),
        ("http://[::1/", None, None),
    ],
)  # fmt: skip
def test_ipv6_hosts_keep_their_brackets(raw: str, base: str | None, expected: str | None) -> None:
    assert canonical_url(raw, base) == expected


FEED = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Lab</title><link>http://[::1]/</link>
<description>d</description>
<item><title>A story on a v6 host</title><link>http://[::1]:80/2024/story/</link>
<guid isPermaLink="false">v6-1</guid><pubDate>Mon, 04 Mar 2024 10:00:00 +0000</pubDate>
<description>About it.</description>
<enclosure url="http://[2001:db8::1]:8080/photo.jpg" type="image/jpeg" length="1"/></item>
</channel></rss>"""


def test_a_collected_story_keeps_its_ipv6_link(tmp_path: Path) -> None:
    with LocalServer() as server:
        server.routes["/feed.xml"] = Response(FEED, 200, {"Content-Type": "application/rss+xml"})
        root = write_project(
            tmp_path, [{"name": "Lab", "kind": "feed", "url": f"{server.url}/feed.xml"}]
        )
        project = Project.at(root)
        with Store(project.store_path) as store:
            report = collect(project, store)
            items = store.items()
    assert not report.failed and len(items) == 1
    assert items[0].url == "http://[::1]/2024/story/"
    assert items[0].image is not None
    assert items[0].image.url == "http://[2001:db8::1]:8080/photo.jpg"
