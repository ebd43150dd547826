"""``newsletter items --format json``: the stored items as one indented JSON array, streamed.

What ``json.dumps(records, indent=2, ensure_ascii=False)`` of the whole list would print, a
batch of records at a time, so memory stays flat however large the store. Each record is
pydantic's own (Rust) JSON of the item, which writes the same text as the standard library
for every value a NewsItem holds except tiny floats (``1e-05``); items with one of those
take the standard library's path.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from newsletter.models import NewsItem
    from newsletter.store import StoredItem

BATCH = 500  # records per write


def _exact_floats(item: NewsItem) -> bool:
    """Whether pydantic writes ``item``'s floats as json does (both use the shortest repr,
    but json switches to exponents below 1e-4, pydantic only below 1e-6)."""
    focus = item.image.focus if item.image is not None else None
    return focus is None or all(v == 0 or abs(v) >= 1e-4 for v in focus)


def record(stored: StoredItem) -> str:
    """One stored item as indented JSON, with when it was first and last collected."""
    item = stored.item
    first, last = stored.first_seen.isoformat(), stored.last_seen.isoformat()
    if _exact_floats(item):
        text = item.model_dump_json(indent=2)
        # "{\n  ...\n}": the two keys go before the closing brace, as dumps would place them.
        return f'{text[:-2]},\n  "first_seen": "{first}",\n  "last_seen": "{last}"\n}}'
    data = item.model_dump(mode="json")
    data["first_seen"], data["last_seen"] = first, last
    return json.dumps(data, indent=2, ensure_ascii=False)


def json_array(stored: Iterable[StoredItem]) -> Iterator[str]:
    """The array's text in chunks of ``BATCH`` records; the last chunk ends with a newline."""
    count = 0
    batch: list[str] = []
    for each in stored:
        # Each record sits one level into the array: two more spaces on every line of it.
        text = record(each).replace("\n", "\n  ")
        batch.append(("," if count else "[") + "\n  " + text)
        count += 1
        if len(batch) == BATCH:
            yield "".join(batch)
            batch.clear()
    if batch:
        yield "".join(batch)
    yield "\n]\n" if count else "[]\n"
