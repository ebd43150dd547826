"""``export_issue``: a month's issue, an audience and a provider in; the provider's files out."""

from __future__ import annotations

from pathlib import Path

from newsletter.deliver import merge
from newsletter.deliver.export.context import ExportContext, ExportResult
from newsletter.deliver.export.files import write_manifest
from newsletter.deliver.export.prepared import prepare
from newsletter.deliver.export.providers import provider as find_provider
from newsletter.errors import ExportError
from newsletter.project import Project


def export_issue(
    project: Project,
    month: str,
    provider: str,
    out: Path,
    audience: Path | None = None,
    *,
    topic: str | None = None,
) -> ExportResult:
    """Write ``provider``'s requests (or .eml files) for ``month`` into ``out``."""
    export = find_provider(provider)
    prepared = prepare(project, month)  # validates the issue before anything is written
    from newsletter.deliver.subscribers import open_audience

    reader = open_audience(project, audience, topic=topic, required=False)
    if reader is not None:
        where = str(reader.report.path)
        merge.check_fields([prepared.html, prepared.text], reader.columns, where=where)
    else:
        merge.check_fields([prepared.html, prepared.text], [], where=f"issue {month}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"{out}: cannot create the output folder: {exc.strerror}") from exc
    ctx = ExportContext(prepared, out, provider, reader)
    result = export(ctx)
    result.audience = reader.report if reader else None
    result.notes = ctx.notes
    result.manifest = write_manifest(ctx, result)
    return result
