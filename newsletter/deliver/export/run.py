"""``export_issue``: a month's issue, an audience and a provider in; the provider's files out
(``export_editions``: one export per edition)."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from newsletter.deliver import merge
from newsletter.deliver.export.context import ExportContext, ExportResult
from newsletter.deliver.export.files import write_manifest
from newsletter.deliver.export.prepared import prepare
from newsletter.deliver.export.providers import provider as find_provider
from newsletter.errors import ExportError
from newsletter.project import Project

if TYPE_CHECKING:
    from newsletter.deliver.audience import AudienceSource
    from newsletter.editions import Edition


def export_editions(
    project: Project,
    month: str,
    provider: str,
    out: Path,
    audience: Path | None = None,
    *,
    topic: str | None = None,
    date: datetime | None = None,
    edition: str | None = None,
) -> list[ExportResult]:
    """``export_issue`` for each edition: a project with one edition writes ``out`` as
    always; with several, ``out/<code>/`` holds each edition's export, with the recipients
    who get it (``deliver.routing``); without recipients, every edition's template."""
    from newsletter.deliver.routing import EditionAudience, count
    from newsletter.deliver.subscribers import open_audience

    picked = project.pick_editions(edition)
    if project.default_edition.single:
        return [export_issue(project, month, provider, out, audience, topic=topic, date=date)]
    for each in picked:
        prepare(project, month, each)  # every issue is valid before anything is written
    reader = open_audience(project, audience, topic=topic, required=False)
    shares = count(project, reader) if reader is not None else None
    results = []
    for each in picked:
        if shares is not None and not shares.get(each.code):
            continue
        view = EditionAudience(reader, project, each) if reader is not None else None
        result = export_issue(
            project, month, provider, out / each.code, None, topic=topic, date=date,
            edition=each, reader=view,
        )  # fmt: skip
        results.append(result)
    if not results:
        raise ExportError(
            f"--edition {edition}: nobody in the audience gets that edition",
            hint="leave out --edition, or check the audience's language column",
        )
    return results


def export_issue(
    project: Project,
    month: str,
    provider: str,
    out: Path,
    audience: Path | None = None,
    *,
    topic: str | None = None,
    date: datetime | None = None,
    edition: Edition | None = None,
    reader: AudienceSource | None = None,
) -> ExportResult:
    """Write ``provider``'s requests (or .eml files) for ``month`` into ``out``.

    Files are written into a staging folder and moved into ``out`` only when all of them
    are written, so a failed export leaves ``out`` as it was. ``date`` sets the Date of .eml
    files (the providers stamp their own when they send).
    """
    export = find_provider(provider)
    if date is not None and provider != "eml":
        raise ExportError(
            f"--date sets the Date of .eml files; {provider} stamps the Date when it sends",
            hint="leave out --date, or export --to eml",
        )
    prepared = prepare(project, month, edition)  # validates the issue before anything is written
    from newsletter.deliver.subscribers import open_audience

    if reader is None:
        reader = open_audience(project, audience, topic=topic, required=False)
    if reader is not None:
        where = str(reader.report.path)
        merge.check_fields([prepared.html, prepared.text], reader.columns, where=where)
    else:
        merge.check_fields([prepared.html, prepared.text], [], where=f"issue {month}")
    with _staging(out) as staging:
        ctx = ExportContext(prepared, staging, provider, reader, date)
        result = export(ctx)
        result.audience = reader.report if reader else None
        result.edition = edition.code if edition and not edition.single else None
        result.notes = ctx.notes
        result.manifest = write_manifest(ctx, result)
    result.files = [out / path.name for path in result.files]
    result.manifest = out / result.manifest.name
    return result


@contextmanager
def _staging(out: Path) -> Iterator[Path]:
    """A fresh folder inside ``out``; on success its files replace those of the same name."""
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".export-partial-", dir=out))
    except OSError as exc:
        raise ExportError(f"{out}: cannot create the output folder: {exc.strerror}") from exc
    try:
        yield staging
        try:
            for path in sorted(staging.iterdir()):
                path.replace(out / path.name)
        except OSError as exc:
            raise ExportError(f"{out}: cannot move the export into place: {exc}") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if created:
            with contextlib.suppress(OSError):
                out.rmdir()  # only when nothing else is in it
        raise
    staging.rmdir()
