"""The service pages' words, per language, from the message catalogs (``newsletter.i18n``)."""

from __future__ import annotations

from pathlib import Path

from newsletter.i18n import messages


def page_labels(lang: str, project_locale: Path | None = None) -> dict[str, str]:
    """Every label in ``lang`` (English where the catalogs have no translation)."""
    return dict(messages(lang, project_locale).labels)
