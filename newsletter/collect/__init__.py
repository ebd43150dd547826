"""collect: fetch every configured source into the store.

``run`` fetches the sources concurrently and stores each one in its own transaction;
``readers`` routes each source kind (``feed``, ``page``, ``wordpress``, ``folder``, listed
in ``newsletter.registry.SOURCE_KINDS``) to the module that parses it; each kind only
finds raw fields (``RawItem``), ``normalize`` turns them into ``NewsItem`` records the same
way for all, and ``batch`` merges a source's own repeats. Whether a story is already
stored is the store's question (``newsletter.store.dedupe``).
"""

from newsletter.collect.batch import Built, build
from newsletter.collect.readers import SourceKind, SourceRun, source_kind
from newsletter.collect.report import CollectReport, SourceReport
from newsletter.collect.run import Loaded, collect, load_source, store_loaded

__all__ = [
    "Built",
    "CollectReport",
    "Loaded",
    "SourceKind",
    "SourceReport",
    "SourceRun",
    "build",
    "collect",
    "load_source",
    "source_kind",
    "store_loaded",
]
