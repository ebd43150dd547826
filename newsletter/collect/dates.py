"""Dates written by people: "4 April 2024", "March 6th 2024", "Dec 7", "02.12.2021".

Used to read listing dates on web pages and the deadlines and event dates in item text.
English and Norwegian month names; a date without a year takes it from a reference date.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

_MONTHS = {
    "jan": 1, "january": 1, "januar": 1,
    "feb": 2, "february": 2, "februar": 2,
    "mar": 3, "march": 3, "mars": 3,
    "apr": 4, "april": 4,
    "may": 5, "mai": 5,
    "jun": 6, "june": 6, "juni": 6,
    "jul": 7, "july": 7, "juli": 7,
    "aug": 8, "august": 8,
    "sep": 9, "sept": 9, "september": 9,
    "oct": 10, "october": 10, "okt": 10, "oktober": 10,
    "nov": 11, "november": 11,
    "dec": 12, "december": 12, "des": 12, "desember": 12,
}  # fmt: skip
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_ORD = r"(?:st|nd|rd|th)?"

# "4 April 2024", "6th of March 2024", "4. april 2024", "12 of November, 2021"
_DAY_MONTH = (
    rf"(?P<d1>[0-3]?\d){_ORD}\.?(?:\s+of)?\s+(?P<m1>{_MONTH})\b\.?(?:,?\s+(?P<y1>\d{{4}}))?"
)
# "March 6th 2024", "April 4, 2024", "Dec 8", "Dec 7 12-13"
_MONTH_DAY = rf"(?P<m2>{_MONTH})\b\.?\s+(?P<d2>[0-3]?\d){_ORD}(?!\d)(?:,?\s+(?P<y2>\d{{4}}))?"
# "02.12.2021" (day first, as written in Norway and most of Europe), "2024-03-04"
_NUMERIC = (
    r"(?P<d3>[0-3]?\d)\.(?P<m3>[01]?\d)\.(?P<y3>\d{4})|(?P<y4>\d{4})-(?P<m4>[01]\d)-(?P<d4>[0-3]\d)"
)

DATE_RE = re.compile(rf"(?<![\w.])(?:{_DAY_MONTH}|{_MONTH_DAY}|{_NUMERIC})", re.IGNORECASE)
_ISO_RE = re.compile(
    r"^\s*\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?\s*$"
)


def _group(match: re.Match[str], *names: str) -> str | None:
    for name in names:
        value = match.group(name)
        if value:
            return value
    return None


def date_from_match(match: re.Match[str], reference: date | None) -> date | None:
    """The date a DATE_RE match stands for; a missing year comes from ``reference``.

    Without a year, the date is taken in the reference's year unless that puts it more than
    two months before the reference (a December item announcing "Jan 10" means next year).
    """
    day_s = _group(match, "d1", "d2", "d3", "d4")
    month_s = _group(match, "m1", "m2", "m3", "m4")
    year_s = _group(match, "y1", "y2", "y3", "y4")
    if not day_s or not month_s:
        return None
    month = int(month_s) if month_s.isdigit() else _MONTHS[month_s.lower().rstrip(".")]
    if year_s:
        year = int(year_s)
    elif reference is not None:
        year = reference.year
    else:
        return None
    try:
        found = date(year, month, int(day_s))
    except ValueError:
        return None
    if not year_s and reference is not None and found < reference - timedelta(days=62):
        try:
            found = found.replace(year=year + 1)
        except ValueError:
            return None
    return found


def find_date(text: str, reference: date | None = None) -> date | None:
    """The first date written in ``text``."""
    for match in DATE_RE.finditer(text):
        found = date_from_match(match, reference)
        if found:
            return found
    return None


def parse_listing_date(text: str) -> datetime | None:
    """A publication date as a listing shows it: ISO 8601 (with a time) or any DATE_RE form.

    A date without a time becomes noon UTC, so it stays on the same calendar day (and in the
    same month) in every time zone from UTC-11 to UTC+11.
    """
    text = text.strip()
    if not text:
        return None
    if _ISO_RE.match(text) and ("T" in text or " " in text.strip() or ":" in text):
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            value = None
        if value is not None:
            return value if value.tzinfo else value.replace(tzinfo=UTC)
    found = find_date(text)
    return at_noon(found) if found else None


def at_noon(day: date) -> datetime:
    return datetime.combine(day, time(12, 0), tzinfo=UTC)
