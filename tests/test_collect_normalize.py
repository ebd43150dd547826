"""Normalisation rules shared by every source kind: URLs, kickers, images, language, kinds."""

from datetime import UTC, date, datetime

import pytest

from newsletter.collect.classify import classify
from newsletter.collect.dates import find_date, parse_listing_date
from newsletter.collect.language import detect_language, language_code
from newsletter.collect.normalize import (
    RawItem,
    SkippedItem,
    build_item,
    canonical_url,
    clean_body,
    split_credit,
    split_kicker,
)
from newsletter.models import Kind, NewsItem
from newsletter.store.dedupe import DedupeIndex, dedupe_batch, fingerprint, merge

PUBLISHED = datetime(2024, 3, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "base", "expected"),
    [
        ("https://Example.ORG:443/a/?utm_source=x&utm_medium=y&id=3#top", None,
         "https://example.org/a/?id=3"),
        ("/home/icr/news/x.html?utm_source=newsletter&utm_medium=email",
         "https://www.ous-research.no/home/icr/", "https://www.ous-research.no/home/icr/news/x.html"),
        ("b.html?fbclid=1&gclid=2&q=a+b", "http://example.org:8080/a/", "http://example.org:8080/a/b.html?q=a+b"),
        ("javascript:alert(1)", "https://example.org/", None),
        ("data:text/html,hi", None, None),
        ("mailto:a@example.org", None, None),
        ("https://exa mple.org/", None, None),
        ("https://example.org/a/b.html", None, "https://example.org/a/b.html"),
        ("https://Example.org/a", None, "https://example.org/a"),
        ("https://example.org", None, "https://example.org/"),
        ("https://example.org./a/", None, "https://example.org/a/"),
        ("https://user@example.org/a/", None, "https://example.org/a/"),
        # plain queries, which skip parsing: kept in order, repeats and blanks kept
        ("https://example.org/a/?utm_source=rss&utm_medium=feed", None, "https://example.org/a/"),
        ("https://example.org/a/?p=1&UTM_Source=x&p=2&q=", None, "https://example.org/a/?p=1&p=2&q="),
        # ...and queries that parsing changes, which take the long way
        ("https://example.org/a/?flag&utm_source=x", None, "https://example.org/a/?flag="),
        ("https://example.org/a/?a=b=c", None, "https://example.org/a/?a=b%3Dc"),
        ("https://example.org/a/?a=1&&b=2", None, "https://example.org/a/?a=1&b=2"),
    ],
)  # fmt: skip
def test_canonical_url(raw: str, base: str | None, expected: str | None) -> None:
    assert canonical_url(raw, base) == expected


@pytest.mark.parametrize(
    ("title", "kicker", "rest"),
    [
        ("Publication in Science:Treatment-induced resistance mutations in BTK",
         "Publication in Science", "Treatment-induced resistance mutations in BTK"),
        ("Dec 7 12-13 Aud FOBY:Horisont Europa: Cancer Mission Q&A",
         "Dec 7 12-13 Aud FOBY", "Horisont Europa: Cancer Mission Q&A"),
        ("Call: UiO Growth House seed funding", None, "Call: UiO Growth House seed funding"),
        ("Meeting at 12:30 today", None, "Meeting at 12:30 today"),
        ("See https://example.org for more", None, "See https://example.org for more"),
    ],
)  # fmt: skip
def test_kicker_is_split_only_at_a_glued_colon(title: str, kicker: str | None, rest: str) -> None:
    assert split_kicker(title) == (kicker, rest)


def test_photo_credit_is_split_from_the_caption() -> None:
    assert split_credit("Thomas Fleischer. Photo: Per Marius Didriken, OUS.") == (
        "Thomas Fleischer.",
        "Photo: Per Marius Didriken, OUS",
    )
    assert split_credit("Photo: The Embassy of Denmark in Norway") == (
        "",
        "Photo: The Embassy of Denmark in Norway",
    )
    assert split_credit("The lab (Foto: Kari Nordmann)") == ("The lab", "Foto: Kari Nordmann")
    assert split_credit("No credit here") == ("No credit here", None)


def draft(**fields: object) -> RawItem:
    values: dict[str, object] = {
        "title": "A story",
        "link": "https://example.org/story/",
        "published": PUBLISHED,
    }
    values.update(fields)
    return RawItem(**values)  # type: ignore[arg-type]


def test_image_alt_is_the_caption_without_credit_and_at_most_125_characters() -> None:
    caption = (
        "Kjetil Taskén, Åslaug Helland and Hege Russnes from Oslo University Hospital are a few "
        "of the enthusiasts behind the national clinical study for cancer precision medicine in "
        "Norway. Photo: Oslo University Hospital"
    )
    item = build_item(
        draft(image_url="/img.jpg", image_caption=caption),
        source="S", base="https://example.org/news/", language=None,
    )  # fmt: skip
    assert item.image is not None
    assert item.image.url == "https://example.org/img.jpg"
    assert item.image.credit == "Photo: Oslo University Hospital"
    assert len(item.image.alt) <= 125 and item.image.alt.startswith("Kjetil Taskén")
    assert "Photo" not in item.image.alt


def test_a_filename_or_missing_alt_becomes_the_title() -> None:
    item = build_item(
        draft(image_url="https://example.org/IMG_1234.jpg", image_alt="IMG_1234.jpg"),
        source="S", base=None, language=None,
    )  # fmt: skip
    assert item.image is not None and item.image.alt == "A story"


def test_summary_is_plain_text_cut_at_a_sentence() -> None:
    sentence = "This sentence is about cancer research and it is forty-odd words long. "
    item = build_item(
        draft(summary_html=f"<p>{sentence * 8}</p>"), source="S", base=None, language=None
    )
    assert "<" not in item.summary and len(item.summary) <= 300
    assert item.summary.endswith("long.")


def test_body_links_become_absolute_and_unsafe_markup_goes() -> None:
    body = clean_body(
        '<p onclick="x()">Read <a href="/a?b=1&amp;c=2">this</a> <img src="pic.jpg">'
        '<a href="javascript:alert(1)">x</a><script>alert(1)</script></p>',
        "https://example.org/news/",
    )
    assert 'href="https://example.org/a?b=1&amp;c=2"' in body
    assert 'src="https://example.org/news/pic.jpg"' in body
    for bad in ("onclick", "javascript", "<script", "alert"):
        assert bad not in body


def test_items_without_a_safe_link_a_title_or_a_date_are_skipped_with_a_reason() -> None:
    with pytest.raises(SkippedItem, match="not an http"):
        build_item(draft(link="javascript:alert(1)"), source="S", base=None, language=None)
    with pytest.raises(SkippedItem, match="no title"):
        build_item(draft(title="<script>x</script>"), source="S", base=None, language=None)
    with pytest.raises(SkippedItem, match="no publication date"):
        build_item(draft(published=None), source="S", base=None, language=None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Researchers at the institute have found that the new treatment works better than "
         "the old one in most patients.", "en"),
        ("Forskerne har undersøkt om trening under behandlingen gir færre bivirkninger, og det "
         "er ikke første gang vi ser dette.", "no"),
        ("Ketil Widerberg, daglig leder", None),  # too short to tell
        ("Oslo Cancer Cluster", None),
    ],
)  # fmt: skip
def test_language_detection(text: str, expected: str | None) -> None:
    assert detect_language(text) == expected


def test_language_tags() -> None:
    assert language_code("en-US") == "en"
    assert language_code("nb_NO") == "no" and language_code("nn") == "no"
    assert language_code("x-123") is None and language_code(None) is None


def test_the_configured_language_is_the_fallback_not_the_rule() -> None:
    short = build_item(draft(title="EHiN 2020"), source="S", base=None, language="no")
    assert short.language == "no"
    english = build_item(
        draft(summary_html="The study will start in the spring and it is open to all patients."),
        source="S", base=None, language="no",
    )  # fmt: skip
    assert english.language == "en"


@pytest.mark.parametrize(
    ("title", "kicker", "text", "published", "kind", "deadline", "event_date"),
    [
        ("Call: UiO Growth House seed funding for innovative researchers 2024", None,
         "Apply for seed funding from the UiO Growth House! Application deadline: 4 April 2024.",
         date(2024, 3, 4), Kind.call, date(2024, 4, 4), None),
        ("Excellent Researcher Award and Early Career Award",
         "Announcement: nominate a scientist for the 2024 OUH research awards",
         "Closing date for nominations: March 6th 2024.", date(2024, 3, 1), Kind.call,
         date(2024, 3, 6), None),
        ("Horisont Europa: Cancer Mission Q&A", "Dec 7 12-13 Aud FOBY",
         "OUS-CCC is hosting a seminar. Place: Auditorium FOBY.", date(2021, 11, 30),
         Kind.event, None, date(2021, 12, 7)),
        ("Forskningsportalen survey - deadline extended to Dec 8", "New ICT platform",
         "All users are asked to complete a survey.", date(2021, 11, 29), Kind.call,
         date(2021, 12, 8), None),
        ("Seminar on cancer genomics", None, "Join us on 21 March 2024 in the auditorium.",
         date(2024, 2, 12), Kind.event, None, date(2024, 3, 21)),
        ("Thomas Fleischer named Researcher of the Year 2025", None,
         "The prize was presented at the Institute seminar on December 17.",
         date(2025, 12, 18), Kind.award, None, None),
        ("The IT-revolution in oncology", None,
         "First published in Teknisk Ukeblad on 23 June 2020. Save the date 10-11 November 2020!",
         date(2020, 6, 26), Kind.news, None, None),
        ("Research programme", None, "Applications close Jan 10.", date(2023, 12, 15),
         Kind.call, date(2024, 1, 10), None),
        ("Open lab", None, "Come by on 4 May 10 - 12, or read the søknadsfrist: 2. juni 2024.",
         date(2024, 4, 2), Kind.call, date(2024, 6, 2), date(2024, 5, 4)),
        ("Open lab", None, "Come by on 4 May 10:00–12:00 in room 3.", date(2024, 4, 2),
         Kind.event, None, date(2024, 5, 4)),
    ],
)  # fmt: skip
def test_kind_and_dates(
    title: str,
    kicker: str | None,
    text: str,
    published: date,
    kind: Kind,
    deadline: date | None,
    event_date: date | None,
) -> None:
    found = classify(title, kicker, text, published)
    assert (found.kind, found.deadline, found.event_date) == (kind, deadline, event_date)


def test_listing_dates() -> None:
    assert parse_listing_date("02.12.2021") == datetime(2021, 12, 2, 12, tzinfo=UTC)
    assert parse_listing_date("2024-03-04T10:00:00+01:00") == datetime(2024, 3, 4, 9, tzinfo=UTC)
    assert parse_listing_date("4. april 2024") == datetime(2024, 4, 4, 12, tzinfo=UTC)
    assert parse_listing_date("Read more") is None
    assert find_date("the 12 of November, 2021") == date(2021, 11, 12)
    assert find_date("on 31.02.2024") is None  # no such day


def news(n: int, **fields: object) -> NewsItem:
    values: dict[str, object] = {
        "id": f"id{n}",
        "source": "A",
        "title": f"Story number {n} about something",
        "url": f"https://example.org/{n}",
        "published": PUBLISHED,
        "summary": "A summary long enough to count as real content for the content hash.",
        "sources": ["A"],
    }
    values.update(fields)
    return NewsItem.model_validate(values)


def test_near_duplicates_from_another_source_match_but_not_far_apart_in_time() -> None:
    summary = (
        "Oslo University Hospital and Karolinska Institutet have entered a postdoctoral "
        "partnership with AstraZeneca to improve lung and breast cancer care."
    )
    first = news(1, title="Improving lung and breast cancer care through AI", summary=summary)
    index = DedupeIndex()
    index.add(first.id, first, fingerprint(first))
    mirror = news(
        2, source="B", sources=["B"], title="Improving lung and breast cancer care with AI",
        summary=summary + " Read more.",
    )  # fmt: skip
    found = index.match(mirror, fingerprint(mirror))
    assert found is not None and (found.item_id, found.stage) == ("id1", "near")
    later = mirror.model_copy(update={"published": datetime(2026, 1, 1, tzinfo=UTC)})
    assert index.match(later, fingerprint(later)) is None
    other = news(
        3, source="B", sources=["B"], title="A different story entirely",
        summary="Nothing in common with the first one at all, not one phrase.",
    )  # fmt: skip
    assert index.match(other, fingerprint(other)) is None


def test_merge_keeps_the_first_sources_content_and_fills_gaps() -> None:
    feed = news(1, image=None)
    api = news(
        9, source="B", sources=["B"], title="Other title",
        image={"url": "https://example.org/i.jpg", "alt": "A photo"},
    )  # fmt: skip
    merged = merge(feed, api)
    assert merged.id == "id1" and merged.title == feed.title
    assert merged.image is not None and merged.image.alt == "A photo"
    assert merged.sources == ["A", "B"]


def test_a_story_repeated_within_one_source_is_kept_once() -> None:
    items, repeats = dedupe_batch([news(1), news(1, title="Story number 1, corrected")])
    assert repeats == 1 and [i.title for i in items] == ["Story number 1, corrected"]


def test_control_characters_go_and_whitespace_collapses_in_long_and_short_text() -> None:
    from newsletter.sanitize import clean_html, html_to_text, one_line

    assert one_line(" a\u00a0\u00a0b\x85c\n\td\x0be\x00f\x7f ") == "a b c def"
    assert one_line("Plain title") == "Plain title"
    body = "<p>line one</p>\n" * 300 + "<p>bell\x07 and\x1b escape</p>\n"
    cleaned = clean_html(body)
    assert "\x07" not in cleaned and "\x1b" not in cleaned and "bell and escape" in cleaned
    assert clean_html("<p>no controls</p>\n<p>here</p>") == "<p>no controls</p>\n<p>here</p>"
    assert html_to_text("<p>a\x01b</p>\n<p>c\u2028d</p>") == "ab c d"
