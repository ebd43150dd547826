"""``[newsletter] editions`` and ``[editions.<code>]``: the languages an issue is published in."""

from __future__ import annotations

import re

from pydantic import Field

from newsletter.models import SingleLine
from newsletter.settings.base import Strict

BCP47 = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
# The languages collect tells stories apart by (collect/language.py), and the codes each covers.
DETECTED = {"en": frozenset({"en"}), "no": frozenset({"no", "nb", "nn"})}


def detected_language(code: str) -> str | None:
    """The detected language an edition's code matches ("no" for nb-NO), or None."""
    primary = code.replace("_", "-").split("-")[0].lower()
    for detected, codes in DETECTED.items():
        if primary in codes:
            return detected
    return None


def check_edition_code(code: str) -> str:
    """A BCP 47 tag that some detected language matches; raises ValueError naming the rest."""
    from newsletter.i18n import known_locale

    if not BCP47.match(code) or not known_locale(code):
        raise ValueError(f"{code!r} is not a BCP 47 language code like en, nb or en-GB")
    if detected_language(code) is None:
        raise ValueError(
            f"{code!r}: no story can match it; stories are detected as English (en) or "
            "Norwegian (no, nb, nn)"
        )
    parts = code.replace("_", "-").split("-")
    return "-".join([parts[0].lower(), *(p.upper() if len(p) == 2 else p for p in parts[1:])])


class EditionSettings(Strict):
    """What one edition says differently: ``[editions.nb]``."""

    name: SingleLine | None = Field(default=None, min_length=1)
    about: str | None = None
    postal_address: SingleLine | None = Field(default=None, min_length=1)
    section_titles: dict[str, SingleLine] = Field(
        default_factory=dict,
        description="The edition's title for a section, by the title in [draft] "
        '(e.g. "Research news" = "Forskningsnytt").',
    )
