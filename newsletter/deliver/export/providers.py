"""Providers: what ``newsletter export --to NAME`` can write for.

Each provider module has an ``export(ctx) -> ExportResult``; ``newsletter.registry.PROVIDERS``
names them, and the CLI's ``--to`` choices come from there. A provider that takes API
requests builds them (``requests(ctx)``) and lets ``files.from_requests`` write them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from newsletter.errors import ExportError
from newsletter.registry import PROVIDERS

if TYPE_CHECKING:
    from newsletter.deliver.export.context import ExportContext, ExportResult


@runtime_checkable
class Provider(Protocol):
    def __call__(self, ctx: ExportContext, /) -> ExportResult:
        """Write the provider's files for ``ctx`` into ``ctx.out``."""
        ...


def provider(name: str) -> Provider:
    if name not in PROVIDERS:
        raise ExportError(
            f"unknown provider {name!r}", hint=f"choose one of: {PROVIDERS.choices()}"
        )
    export = PROVIDERS.get(name)
    if not isinstance(export, Provider):
        raise TypeError(f"provider {name!r} is registered as {export!r}, which cannot export")
    return export
