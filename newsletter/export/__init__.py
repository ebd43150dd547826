"""export: turn a built issue into what a mail provider takes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from newsletter.errors import ExportError
from newsletter.issuefile import load_issue
from newsletter.project import Project


@dataclass
class ExportResult:
    provider: str
    files: list[Path] = field(default_factory=list)
    recipients: int = 0


Exporter = Callable[[Project, str, Path], ExportResult]


def _exporters() -> dict[str, Exporter]:
    from newsletter.export import eml

    return {"eml": eml.export}


def providers() -> list[str]:
    return sorted(_exporters())


def export_issue(project: Project, month: str, provider: str, out: Path) -> ExportResult:
    exporters = _exporters()
    if provider not in exporters:
        raise ExportError(
            f"unknown provider {provider!r}", hint=f"choose one of: {', '.join(sorted(exporters))}"
        )
    load_issue(project.require_issue(month))  # validate before writing anything
    out.mkdir(parents=True, exist_ok=True)
    return exporters[provider](project, month, out)
