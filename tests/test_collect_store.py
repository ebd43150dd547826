"""The store's side of collecting, on SQLite and PostgreSQL: one record per story, its sources,
first/last seen."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

from newsletter.models import NewsItem
from newsletter.store import Store
from tests.pgserver import Backend


def story(n: int, source: str = "Feed", **fields: object) -> NewsItem:
    values: dict[str, object] = {
        "id": f"id{n}-{source}",
        "source": source,
        "title": f"Story {n}: the institute opens a new laboratory",
        "url": f"https://example.org/{n}",
        "published": datetime(2024, 3, n, tzinfo=UTC),
        "summary": "The institute has opened a new laboratory for tumour samples this week.",
        "guid": f"https://example.org/?p={n}",
        "sources": [source],
    }
    values.update(fields)
    return NewsItem.model_validate(values)


def test_one_record_per_story_that_lists_every_source(backend: Backend) -> None:
    with Store(backend.url) as store:
        assert store.write_source("Feed", [story(1), story(2)]).new == 2
        # The API: the same guids; a mirror: the same URLs with www. and another guid.
        api = store.write_source("API", [story(1, "API"), story(2, "API")])
        mirror = store.write_source(
            "Mirror",
            [story(1, "Mirror", url="https://www.example.org/1", guid="m1", image=None)],
        )
        assert (api.merged, mirror.merged, store.count()) == (2, 1, 2)
        first = store.get("id1-Feed")
        assert first is not None and first.sources == ["API", "Feed", "Mirror"]
        assert first.url == "https://example.org/1" and first.source == "Feed"
        assert [i.id for i in store.items(source="Mirror")] == ["id1-Feed"]
        assert len(store.items(source="API")) == 2
        again = store.write_source("API", [story(1, "API"), story(2, "API")])
        assert (again.merged, again.unchanged) == (0, 2)


def test_the_first_source_keeps_authority_over_the_content(backend: Backend) -> None:
    with Store(backend.url) as store:
        store.write_source("Feed", [story(1)])
        store.write_source("API", [story(1, "API", title="Another title", kicker="News")])
        stored = store.get("id1-Feed")
        assert stored is not None
        assert stored.title.startswith("Story 1") and stored.kicker == "News"  # a gap filled
        updated = store.write_source("Feed", [story(1, title="Story 1, corrected")])
        assert updated.updated == 1
        stored = store.get("id1-Feed")
        assert stored is not None and stored.title == "Story 1, corrected"
        assert stored.kicker == "News" and stored.sources == ["API", "Feed"]


def test_first_and_last_seen(backend: Backend) -> None:
    with Store(backend.url) as store:
        store.write_source("Feed", [story(1)])
        seen = store.seen("id1-Feed")
        assert seen is not None and seen[0] == seen[1]
        time.sleep(1.1)  # the store keeps seconds
        store.write_source("Feed", [story(1)])
        later = store.seen("id1-Feed")
        assert later is not None and later[0] == seen[0] and later[1] > seen[1]
        assert store.seen("nope") is None


def test_validators_are_written_with_the_items(backend: Backend) -> None:
    with Store(backend.url) as store:
        store.write_source("Feed", [story(1)], validators={"https://e.org/feed": ('"abc"', None)})
        assert store.validators("Feed") == {"https://e.org/feed": ('"abc"', None)}
        assert store.validators("Other") == {}


def test_a_store_from_before_deduplication_is_brought_up_to_date(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = story(1)
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE items (id TEXT PRIMARY KEY, source TEXT NOT NULL, url TEXT NOT NULL,"
        " published TEXT NOT NULL, content TEXT NOT NULL, data TEXT NOT NULL,"
        " first_seen TEXT NOT NULL, last_seen TEXT NOT NULL);"
        "CREATE TABLE source_state (name TEXT PRIMARY KEY, etag TEXT, last_modified TEXT,"
        " last_status TEXT, last_fetched TEXT);"
    )
    db.execute(
        "INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (old.id, old.source, old.url, old.published.isoformat(), "x", old.model_dump_json(),
         "2024-03-01T00:00:00+00:00", "2024-03-01T00:00:00+00:00"),
    )  # fmt: skip
    db.commit()
    db.close()
    with Store(path) as store:
        assert [i.id for i in store.items(source="Feed")] == [old.id]
        result = store.write_source("API", [story(1, "API")])  # found by its guid
        assert (result.merged, store.count()) == (1, 1)
    with Store(path) as store:  # and the upgrade runs once
        assert store.count() == 1
