from datetime import UTC, datetime

import pytest

from newsletter.models import NewsItem
from newsletter.store import Store
from tests.pgserver import Backend


def item(n: int, **overrides: object) -> NewsItem:
    fields: dict[str, object] = {
        "id": f"id{n}",
        "source": "S",
        "title": f"Story {n}",
        "url": f"https://example.org/{n}",
        "published": datetime(2020, 10, n, tzinfo=UTC),
    }
    fields.update(overrides)
    return NewsItem.model_validate(fields)


def test_upsert_twice_stores_nothing_twice(backend: Backend) -> None:
    with Store(backend.url) as store:
        first = store.write_source("S", [item(1), item(2)])
        second = store.write_source("S", [item(1), item(2)])
        assert (first.new, second.new, second.unchanged) == (2, 0, 2)
        assert store.count() == 2


def test_changed_item_is_updated(backend: Backend) -> None:
    with Store(backend.url) as store:
        store.write_source("S", [item(1)])
        result = store.write_source("S", [item(1, title="Story 1, corrected")])
        assert result.updated == 1
        stored = store.get("id1")
        assert stored is not None and stored.title == "Story 1, corrected"


def test_failed_batch_keeps_earlier_items(backend: Backend) -> None:
    with Store(backend.url) as store:
        store.write_source("S", [item(1)])

        def broken() -> object:
            yield item(2)
            raise RuntimeError("source broke half-way")

        with pytest.raises(RuntimeError):
            store.write_source("S", broken())  # type: ignore[arg-type]
        assert [i.id for i in store.items()] == ["id1"]


def test_items_by_window_newest_first(backend: Backend) -> None:
    with Store(backend.url) as store:
        store.write_source("S", [item(1), item(3), item(2)])
        window = store.items(
            start=datetime(2020, 10, 2, tzinfo=UTC), end=datetime(2020, 10, 4, tzinfo=UTC)
        )
        assert [i.id for i in window] == ["id3", "id2"]


def test_store_survives_reopen(backend: Backend) -> None:
    with Store(backend.url) as store:
        store.write_source("S", [item(1)])
    with Store(backend.url) as store:
        assert store.count() == 1
