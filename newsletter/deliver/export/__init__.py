"""export: turn a built issue (plus an audience) into what a mail provider takes.

The issue is rendered once (``prepared``). Each provider module turns it into the API
requests that provider documents, using its own field names and batch limits
(``providers`` and ``newsletter.registry.PROVIDERS`` list them); ``files`` writes them as
one JSON file per request, in order, plus ``manifest.json`` that says which endpoint each
file goes to and which audience rows were left out and why. ``run.export_issue`` is the
entry point.

Recipients are streamed in batches (``context``): an export never holds more than one
request's worth of personal data, so audiences of any size fit in memory.
"""

from newsletter.deliver.export.context import (
    ExportContext,
    ExportResult,
    Merged,
    Request,
    chunks,
    common_headers,
    missing_setting,
    sender,
    server_side,
)
from newsletter.deliver.export.files import MANIFEST, from_requests, write_manifest, write_requests
from newsletter.deliver.export.prepared import Prepared, prepare
from newsletter.deliver.export.providers import Provider, provider
from newsletter.deliver.export.run import export_editions, export_issue

__all__ = [
    "MANIFEST",
    "ExportContext",
    "ExportResult",
    "Merged",
    "Prepared",
    "Provider",
    "Request",
    "chunks",
    "common_headers",
    "export_editions",
    "export_issue",
    "from_requests",
    "missing_setting",
    "prepare",
    "provider",
    "sender",
    "server_side",
    "write_manifest",
    "write_requests",
]
