"""store: the database layer: stories, the send log and the suppression list."""

from newsletter.store.stories import HttpValidators, Store

__all__ = ["HttpValidators", "Store"]
