"""Which editions a project publishes, and where each one's files live: the one owner.

A project with one edition (no ``editions`` in ``[newsletter]``) keeps the layout it always
had: ``issues/YYYY-MM.yaml`` and ``build/YYYY-MM/``. With several, each edition has its own
issue file, ``issues/YYYY-MM.<code>.yaml``, and its own part of the web site,
``build/<code>/YYYY-MM/`` with its archive and feed in ``build/<code>/``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from newsletter.errors import ProjectError
from newsletter.settings.editions import detected_language

if TYPE_CHECKING:
    from newsletter.config import Config, NewsletterSettings


@dataclass(frozen=True)
class Edition:
    code: str
    """BCP 47, as configured: "en", "nb"."""
    default: bool
    single: bool
    """The project's only edition: the historical file names, no language in them."""
    settings: NewsletterSettings
    """[newsletter] with this edition's [editions.<code>] overrides applied."""
    section_titles: dict[str, str]

    @property
    def detected(self) -> str:
        """The detected story language this edition takes ("no" for nb)."""
        return detected_language(self.code) or self.code

    def matches(self, language: str | None) -> bool:
        """Is a story in ``language`` (as detected or written) in this edition's language?"""
        if not language:
            return False
        if self.single and language == self.code:
            return True
        return detected_language(language) == self.detected

    def issue_file(self, month: str) -> str:
        return f"{month}.yaml" if self.single else f"{month}.{self.code}.yaml"

    @property
    def web_prefix(self) -> str:
        """Where this edition's pages sit below the web root: "" or "nb/"."""
        return "" if self.single else f"{self.code}/"

    def section_title(self, title: str) -> str:
        return self.section_titles.get(title, title)

    def label(self) -> str:
        return self.code


def project_editions(config: Config) -> list[Edition]:
    """Every edition, the default one first."""
    settings = config.newsletter
    codes = settings.edition_languages
    single = len(codes) == 1
    found = []
    for n, code in enumerate(codes):
        own = config.editions.get(code)
        changes = {}
        if own is not None:
            changes = {
                k: v
                for k, v in (
                    ("name", own.name),
                    ("about", own.about),
                    ("postal_address", own.postal_address),
                )
                if v is not None
            }
        found.append(
            Edition(
                code=code,
                default=n == 0,
                single=single,
                settings=settings.model_copy(update={**changes, "language": code}),
                section_titles=dict(own.section_titles) if own else {},
            )
        )
    return found


def pick(editions: Sequence[Edition], code: str | None) -> list[Edition]:
    """All editions, or the one ``--edition CODE`` names."""
    if code is None:
        return list(editions)
    for edition in editions:
        if edition.code.lower() == code.lower():
            return [edition]
    known = ", ".join(e.code for e in editions)
    raise ProjectError(f"--edition {code}: no such edition", hint=f"the editions are {known}")


def edition_for(editions: Sequence[Edition], language: str | None) -> Edition:
    """The edition a language (an issue's, a subscriber's) belongs to; else the default."""
    if language:
        for edition in editions:
            if edition.code.lower() == language.lower():
                return edition
        for edition in editions:
            if edition.matches(language):
                return edition
    return editions[0]
