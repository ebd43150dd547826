"""What an export writes: one JSON file per API request, and ``manifest.json``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from newsletter.deliver.export.context import ExportContext, ExportResult, Request
from newsletter.errors import ExportError

MANIFEST = "manifest.json"


def write_requests(ctx: ExportContext, requests: Iterator[Request]) -> ExportResult:
    result = ExportResult(ctx.provider)
    entries = []
    for number, request in enumerate(requests, 1):
        stem = f"{number:04d}-{request.name}"
        path = ctx.out / f"{stem}.json"
        _write_json(path, request.body)
        result.files.append(path)
        entry: dict[str, Any] = {
            "file": path.name,
            "method": request.method,
            "url": request.url,
            "content_type": request.content_type,
            "recipients": request.recipients,
        }
        if request.attachments:
            entry["form"] = {}
            for form_field, (filename, content) in request.attachments.items():
                extra = ctx.out / f"{stem}-{filename}"
                extra.write_bytes(content)
                result.files.append(extra)
                entry["form"][form_field] = extra.name
        if request.note:
            entry["note"] = request.note
        entries.append(entry)
        result.recipients += request.recipients
    result.requests = len(entries)
    ctx.manifest_requests = entries
    return result


def _write_json(path: Path, body: Any) -> None:
    try:
        with path.open("w", encoding="utf-8") as fh:
            json.dump(body, fh, ensure_ascii=False, indent=1)
            fh.write("\n")
    except OSError as exc:
        raise ExportError(f"{path}: cannot write: {exc.strerror}") from exc


def write_manifest(ctx: ExportContext, result: ExportResult) -> Path:
    prepared = ctx.prepared
    manifest: dict[str, Any] = {
        "provider": ctx.provider,
        "issue": prepared.month,
        "subject": prepared.subject,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "recipients": result.recipients,
        "requests": ctx.manifest_requests,
        "notes": ctx.notes,
    }
    if ctx.audience is not None:
        manifest["audience"] = ctx.audience.report.as_dict()
    path = ctx.out / MANIFEST
    _write_json(path, manifest)
    return path


def from_requests(
    requests: Callable[[ExportContext], Iterator[Request]],
) -> Callable[[ExportContext], ExportResult]:
    """A provider's export made of its API requests, each written as one JSON file."""

    def export(ctx: ExportContext) -> ExportResult:
        return write_requests(ctx, requests(ctx))

    return export
