"""Each source kind on the sample sources and fixtures, served over real HTTP."""

from __future__ import annotations

from datetime import date
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from newsletter.collect import CollectReport, collect
from newsletter.models import Kind, NewsItem
from newsletter.project import Project
from newsletter.store import Store
from tests.conftest import FIXTURES, REPO, LocalServer, Response
from tests.factories import collect_project as make_project
from tests.factories import source

SOURCES = REPO / "sources"


def run(project: Project) -> tuple[CollectReport, list[NewsItem]]:
    with Store(project.store_path) as store:
        report = collect(project, store)
        return report, store.items()


def by_title(items: list[NewsItem]) -> dict[str, NewsItem]:
    return {item.title: item for item in items}


def test_cluster_feed_reads_captions_credits_and_entities(tmp_path: Path) -> None:
    with LocalServer(SOURCES) as server:
        project = make_project(
            tmp_path, source("Cluster", "feed", f"{server.url}/cluster/feed.xml")
        )
        report, items = run(project)
    assert not report.failed and report.sources[0].new == 10
    stories = by_title(items)
    mentors = stories["First-year students met their mentors"]
    assert mentors.image is not None
    assert mentors.image.credit == "Photo: Elisabeth Kirkeng Andersen"
    assert mentors.image.alt.startswith("The students from the Researcher Programme")
    assert "Photo" not in mentors.image.alt and len(mentors.image.alt) <= 125
    assert mentors.summary.startswith("This fall, 32 students") and "&#8211;" not in mentors.summary
    assert "–" in mentors.summary  # the entity decoded
    ministers = stories["Ministers meet at Oslo Cancer Cluster"]
    assert ministers.image is not None  # a caption that is only a credit
    assert ministers.image.credit == "Photo: The Embassy of Denmark in Norway"
    assert ministers.image.alt == "Ministers meet at Oslo Cancer Cluster"
    assert stories["Welcome first-year students"].image is None
    assert {item.language for item in items} == {"en"}  # the bilingual post is English first
    assert all(
        item.guid and item.guid.startswith("https://oslocancercluster.no/?p=") for item in items
    )


def wordpress_api(server: LocalServer) -> None:
    pages = {n: (SOURCES / f"cluster/wp-json/posts-page{n}.json").read_bytes() for n in (1, 2)}

    def posts(request: BaseHTTPRequestHandler) -> Response:
        query = parse_qs(urlsplit(request.path).query)
        page = int(query.get("page", ["1"])[0])
        if page not in pages:
            body = b'{"code":"rest_post_invalid_page_number","message":"bad page"}'
            return Response(body, 400, {"Content-Type": "application/json"})
        headers = {"Content-Type": "application/json", "X-WP-Total": "10", "X-WP-TotalPages": "2"}
        return Response(pages[page], 200, headers)

    server.routes["/wp-json/wp/v2/posts"] = posts


def test_wordpress_api_follows_pagination_with_embedded_images(tmp_path: Path) -> None:
    with LocalServer() as server:
        wordpress_api(server)
        project = make_project(tmp_path, source("Cluster API", "wordpress", server.url))
        report, items = run(project)
        queries = [parse_qs(urlsplit(path).query) for path, _ in server.requests]
    assert not report.failed and len(items) == 10
    assert [q["page"] for q in queries] == [["1"], ["2"]]
    assert all(q["per_page"] == ["100"] and "_embed" in q for q in queries)
    budget = by_title(items)["State budget: 61,3 million to personalized medicine"]
    assert (
        budget.image is not None and budget.image.credit == "Photo: Stig Jarnes/Oslo Cancer Cluster"
    )
    assert budget.published.isoformat() == "2020-10-08T09:00:00+00:00"  # date_gmt is UTC
    assert budget.summary.startswith("Funds for personalized medicine")


def test_wordpress_from_a_saved_response_and_a_folder_of_them(tmp_path: Path) -> None:
    folder = tmp_path / "wp"
    folder.mkdir()
    for n in (1, 2):
        (folder / f"posts-page{n}.json").write_bytes(
            (SOURCES / f"cluster/wp-json/posts-page{n}.json").read_bytes()
        )
    project = make_project(
        tmp_path / "p",
        source("File", "wordpress", str(SOURCES / "cluster/wp-json/posts.json"))
        + source("Folder", "wordpress", str(folder)),
    )
    report, items = run(project)
    assert not report.failed and len(items) == 10
    assert [(s.new, s.merged) for s in report.sources] == [(10, 0), (0, 10)]


def test_the_same_story_from_feed_api_and_utm_mirror_is_stored_once(tmp_path: Path) -> None:
    feed = (SOURCES / "cluster/feed.xml").read_text()
    # A sister site republishes the feed with tracking parameters, its own guids and host case.
    mirror = feed.replace("/</link>", "/?utm_source=sister&amp;utm_medium=rss&amp;fbclid=1</link>")
    mirror = mirror.replace("https://oslocancercluster.no/20", "https://OsloCancerCluster.no/20")
    mirror = mirror.replace("oslocancercluster.no/?p=", "sister.example.org/?p=")
    assert mirror.count("utm_source=sister") == 10
    with LocalServer(SOURCES) as server:
        wordpress_api(server)
        server.routes["/mirror.xml"] = Response(
            mirror.encode(), 200, {"Content-Type": "application/rss+xml"}
        )
        project = make_project(
            tmp_path,
            source("Feed", "feed", f"{server.url}/cluster/feed.xml")
            + source("API", "wordpress", server.url)
            + source("Mirror", "feed", f"{server.url}/mirror.xml"),
        )
        report, items = run(project)
    assert not report.failed
    assert len(items) == 10
    assert [(s.name, s.new, s.merged) for s in report.sources] == [
        ("Feed", 10, 0), ("API", 0, 10), ("Mirror", 0, 10),
    ]  # fmt: skip
    for item in items:
        assert item.sources == ["API", "Feed", "Mirror"] and item.source == "Feed"
        assert "utm_" not in item.url and "fbclid" not in item.url


def test_institute_listing_pages(tmp_path: Path) -> None:
    with LocalServer(SOURCES) as server:
        project = make_project(
            tmp_path,
            "".join(
                source(f"ICR {stamp}", "page", f"{server.url}/institute/news-{stamp}.html")
                for stamp in ("2021-12-03", "2024-03-05", "2026-02-02")
            ),
        )
        report, items = run(project)
    # Saved copies of the institute's page: links resolve against its canonical address.
    base = "https://www.ous-research.no"
    assert not report.failed
    assert [s.new for s in report.sources] == [5, 6, 6]
    stories = by_title(items)
    btk = stories[
        "Treatment-induced resistance mutations in BTK can be overcome by a clinical-stage "
        "BTK degrader"
    ]
    assert btk.kicker == "Publication in Science"
    assert btk.url == f"{base}/home/icr/news/2024/skanland-science-btk-degrader.html"
    assert btk.published.isoformat() == "2024-02-23T12:00:00+00:00"
    assert (
        btk.image is not None
        and btk.image.url == f"{base}/images/icr/news/2024/sigrid-skanland.jpg"
    )
    awards = stories["Excellent Researcher Award and Early Career Award"]
    assert awards.kicker == "Announcement: nominate a scientist for the 2024 OUH research awards"
    assert (awards.kind, awards.deadline) == (Kind.call, date(2024, 3, 6))
    growth = stories["Call: UiO Growth House seed funding for innovative researchers 2024"]
    assert growth.kicker is None and growth.url.endswith("uio-growth-house-seed-funding-2024.html")
    assert str(growth.deadline) == "2024-04-04" and growth.kind is Kind.call
    seminar = stories["Horisont Europa: Cancer Mission Q&A"]
    assert (seminar.kicker, seminar.kind, str(seminar.event_date)) == (
        "Dec 7 12-13 Aud FOBY", Kind.event, "2021-12-07",
    )  # fmt: skip
    survey = stories["Forskningsportalen survey - deadline extended to Dec 8"]
    assert str(survey.deadline) == "2021-12-08"
    wenzel = stories["Cancer cells transfer their invasive properties to non-invasive cells"]
    assert wenzel.image is not None and wenzel.image.alt == "Eva Wenzel First author"
    fleischer = stories[
        "Thomas Fleischer named Researcher of the Year 2025 at Institute for Cancer Research"
    ]
    assert fleischer.kind is Kind.award and fleischer.image is not None
    assert (fleischer.image.alt, fleischer.image.credit) == (
        "Thomas Fleischer.", "Photo: Per Marius Didriken, OUS",
    )  # fmt: skip
    assert not any("utm_" in item.url for item in items)
    assert all(item.summary and "<" not in item.summary for item in items)


def test_a_saved_page_resolves_links_against_its_canonical_address(tmp_path: Path) -> None:
    project = make_project(
        tmp_path, source("ICR", "page", str(SOURCES / "institute/news-2024-03-05.html"))
    )
    _, items = run(project)
    assert len(items) == 6
    assert all(i.url.startswith("https://www.ous-research.no/home/icr/news/2024/") for i in items)
    # The listing is not in date order; the store returns newest first.
    assert [i.published.date().isoformat() for i in items][:2] == ["2024-03-04", "2024-03-01"]


def test_a_listing_read_by_selectors_and_by_its_shape_gives_the_same_items(
    tmp_path: Path, http_server: LocalServer
) -> None:
    url = f"{http_server.url}/pages/listing.html"
    selectors = {
        "item": "li.card", "title": "h3 a", "link": "h3 a@href", "date": "time@datetime",
        "summary": ".card-summary", "image": "img@src",
    }  # fmt: skip
    told = make_project(tmp_path / "told", source("L", "page", url, selectors=selectors))
    found = make_project(tmp_path / "found", source("L", "page", url))
    _, told_items = run(told)
    _, found_items = run(found)
    assert [i.model_dump() for i in told_items] == [i.model_dump() for i in found_items]
    stories = by_title(found_items)
    assert set(stories) == {
        "New laboratory opens", "Seminar on cancer genomics",
        "Researcher wins the national cancer prize",
    }  # fmt: skip
    lab = stories["New laboratory opens"]
    assert lab.url == f"{http_server.url}/news/lab-opens/"
    assert lab.image is not None and lab.image.credit == "Photo: Kari Nordmann"
    assert lab.image.alt == "The new laboratory."
    assert stories["Seminar on cancer genomics"].kind is Kind.event
    assert str(stories["Seminar on cancer genomics"].event_date) == "2024-03-21"
    assert stories["Researcher wins the national cancer prize"].kind is Kind.award


def test_following_links_reads_the_article_body(tmp_path: Path, http_server: LocalServer) -> None:
    article = (FIXTURES / "pages/news/lab-opens/index.html").read_bytes()
    http_server.routes["/news/lab-opens/"] = Response(
        article, 200, {"Content-Type": "text/html; charset=utf-8"}
    )
    url = f"{http_server.url}/pages/listing.html"
    project = make_project(tmp_path, source("L", "page", url, follow_links=True))
    report, items = run(project)
    lab = by_title(items)["New laboratory opens"]
    assert "room for twelve researchers" in lab.body_html
    assert f'href="{http_server.url}/news/seminar/"' in lab.body_html
    assert "javascript" not in lab.body_html and "<script" not in lab.body_html
    # The other two articles do not exist: their listing text is kept, with a note.
    other = by_title(items)["Seminar on cancer genomics"]
    assert other.body_html == "" and other.summary
    assert not report.failed
    assert sum("kept the listing text" in n for n in report.sources[0].notices) == 2


def test_hand_written_items_and_a_broken_file(tmp_path: Path) -> None:
    folder = tmp_path / "announcements"
    folder.mkdir()
    for path in (SOURCES / "announcements").iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "broken.md").write_text(
        "---\ntitle: A call without a link\ndate: 2020-10-01\ndeadlin: 2020-11-01\n---\nText.\n"
    )
    (folder / "nodate.md").write_text("---\ntitle: x\ndate: not a date\nurl: https://e.org\n---\n")
    (folder / "_draft.md").write_text("not an item yet")
    project = make_project(tmp_path / "p", source("Hand", "folder", str(folder)))
    report, items = run(project)
    (ehin,) = items
    assert ehin.title == "Save the date: EHiN 2020, 10–11 November"
    assert (ehin.kicker, ehin.kind, str(ehin.event_date)) == (
        "Conference",
        Kind.event,
        "2020-11-10",
    )
    assert ehin.url == "https://www.ehin.no/" and ehin.published.date().isoformat() == "2020-10-15"
    assert "<p>" in ehin.body_html and ehin.summary.startswith("EHiN, E-Health in Norway")
    (entry,) = report.sources
    assert entry.new == 1 and not entry.ok  # stored the good one, reports the bad ones
    assert entry.error is not None
    assert "broken.md: url: Field required" in entry.error
    assert "deadlin: Extra inputs are not permitted" in entry.error
    assert "nodate.md: date:" in entry.error


def test_markdown_items_cannot_carry_html(tmp_path: Path) -> None:
    folder = tmp_path / "hand"
    folder.mkdir()
    (folder / "x.md").write_text(
        "---\ntitle: Hello <b>there</b>\ndate: 2024-01-02\nurl: https://example.org/x\n---\n"
        "<script>alert(1)</script> <img src=x onerror=alert(2)> [link](javascript:alert(3))\n"
    )
    _, (item,) = run(make_project(tmp_path / "p", source("Hand", "folder", str(folder))))
    assert item.title == "Hello there"
    assert_clean_html(item.body_html)
    assert "&lt;script&gt;" in item.body_html  # shown as text, as written


UNSAFE_TAGS = {"script", "style", "iframe", "object", "embed", "form", "input", "svg", "link",
               "meta", "base", "frame", "template"}  # fmt: skip


def assert_clean_html(html: str) -> None:
    """No active content: no unsafe element, no event handler, no non-web URL."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(f"<div id=root>{html}</div>")
    root = tree.css_first("#root")
    assert root is not None
    for node in root.iter(include_text=False):
        for inner in [node, *node.css("*")]:
            assert inner.tag not in UNSAFE_TAGS, inner.html
            for name, value in inner.attributes.items():
                assert not name.lower().startswith("on"), inner.html
                assert name.lower() not in ("style", "srcset", "formaction"), inner.html
                if name.lower() in ("href", "src"):
                    assert (value or "").startswith(("https://", "http://", "mailto:")), inner.html


def test_atom_rss1_and_rss091_feeds(tmp_path: Path, http_server: LocalServer) -> None:
    latin1 = (FIXTURES / "feeds/rss091.xml").read_bytes()
    http_server.routes["/latin1.xml"] = Response(
        latin1, 200, {"Content-Type": "application/rss+xml"}
    )
    project = make_project(
        tmp_path,
        source("Atom", "feed", f"{http_server.url}/feeds/atom.xml")
        + source("RDF", "feed", f"{http_server.url}/feeds/rss10.rdf")
        + source("Old", "feed", f"{http_server.url}/latin1.xml")
        # The same bytes, but the server claims UTF-8 in its header.
        + source("Mislabelled", "feed", f"{http_server.url}/feeds/rss091.xml"),
    )
    report, items = run(project)
    assert not report.failed, [(s.name, s.error) for s in report.failed]
    stories = by_title(items)
    atom = stories["Ny studie: kreft og trening"]
    assert atom.url == "https://atom.example.org/nyheter/2024/ny-studie.html"
    assert atom.language == "no" and atom.image is not None
    assert atom.published.isoformat() == "2024-03-04T07:00:00+00:00"
    assert stories["An RSS 1.0 story"].published.year == 2023
    old = stories["Forskningsrådet støtter kreftforskning på Radiumhospitalet"]
    assert old.language == "no" and "bivirkninger" in old.summary
    assert old.sources == ["Mislabelled", "Old"]  # one story, whichever way it was decoded


def feed_items(body: bytes, *, fast: bool) -> list[dict[str, object]]:
    from newsletter.collect.feed import parse_feed
    from newsletter.collect.fetch import Fetched
    from newsletter.collect.normalize import SkippedItem, build_item

    fetched = Fetched(
        body, "https://feeds.example.org/feed/", {"content-type": "application/rss+xml"}
    )
    parsed = parse_feed(fetched, source="S", fast=fast)
    items = []
    for draft in parsed.raw:
        try:
            items.append(
                build_item(draft, source="S", base=parsed.base, language=None).model_dump()
            )
        except SkippedItem as exc:
            items.append({"skipped": str(exc)})
    return items


def test_the_fast_rss_reader_and_feedparser_agree() -> None:
    from benchmarks.collect import feed as benchmark_feed
    from newsletter.collect.fetch import Fetched
    from newsletter.collect.rss2 import read_rss2
    from newsletter.collect.safexml import parse_tree

    for body in (
        (SOURCES / "cluster/feed.xml").read_bytes(),
        (FIXTURES / "feeds/mixed-months.xml").read_bytes(),
        (FIXTURES / "feeds/hostile.xml").read_bytes(),
        benchmark_feed(3, items=5),
    ):
        fetched = Fetched(body, "https://feeds.example.org/feed/", {})
        assert read_rss2(parse_tree(body), fetched) is not None  # the fast path reads it
        fast, reference = feed_items(body, fast=True), feed_items(body, fast=False)
        assert fast and fast == reference
