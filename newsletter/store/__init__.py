"""store: the database layer: stories, the send log and the suppression list.

Submodules load on first use, so that reading the config (store.url) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from newsletter.store.stories import HttpValidators, Store, StoredItem

__all__ = ["HttpValidators", "Store", "StoredItem"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from newsletter.store import stories

        return getattr(stories, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
