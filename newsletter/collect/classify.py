"""What kind of item is this (call, event, award, news), and by when must a reader act?

Rules over the title, kicker and text, in this order: a deadline makes a call, a dated
event makes an event, prize words in the heading make an award, anything else is news.
Dates without a year ("Dec 7 12-13") take the year of the item's publication.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from newsletter.collect.dates import DATE_RE, date_from_match
from newsletter.models import Kind

# How much text after a keyword may separate it from its date:
# "Closing date for nominations: March 6th 2024", "deadline extended to Dec 8".
_WINDOW = 40
_TEXT_LIMIT = 2500  # deadlines and event dates are announced early in an item

DEADLINE_RE = re.compile(
    r"\b(?:(?:application|submission|registration|nomination)s?\s+deadline|deadline|"
    r"closing\s+date|apply\s+(?:by|before)|applications?\s+(?:close|closes|are\s+due)|"
    r"due\s+date|register\s+by|søknadsfrist|påmeldingsfrist|frist)\b",
    re.IGNORECASE,
)
EVENT_LABEL_RE = re.compile(r"\b(?:time|date|when|tid|dato|tidspunkt|når)\s*:\s*", re.IGNORECASE)
_WEEKDAY_RE = re.compile(
    r"^(?:mon|tue|wed|thu|fri|sat|sun|man|tir|ons|tor|fre|lør|søn)[a-zæøå]*\.?,?\s+",
    re.IGNORECASE,
)
TIME_RANGE_RE = re.compile(
    r",?\s+(?:kl\.?\s*|at\s+|from\s+)?\d{1,2}(?:[:.]\d{2})?\s*[-–]\s*\d{1,2}(?:[:.]\d{2})?(?!\d)",
    re.IGNORECASE,
)
EVENT_WORDS_RE = re.compile(
    r"\b(?:seminar|webinar|conference|workshop|symposium|lecture|meetup|hackathon|"
    r"open day|save the date|kurs|konferanse|frokostmøte|arrangement)s?\b",
    re.IGNORECASE,
)
AWARD_RE = re.compile(
    r"\b(?:awards?|awarded|prizes?|prisen|honou?red|medal|of the year|årets)\b", re.IGNORECASE
)
CALL_RE = re.compile(
    r"\b(?:call\s*:|call for|apply|nominate|nominations?|utlysning|søk nå)\b", re.IGNORECASE
)


@dataclass(frozen=True)
class Classification:
    kind: Kind
    deadline: date | None = None
    event_date: date | None = None


def classify(title: str, kicker: str | None, text: str, published: date) -> Classification:
    heading = f"{kicker}: {title}" if kicker else title
    body = text[:_TEXT_LIMIT]
    deadline = find_deadline(f"{heading}. {body}", published)
    event_date = find_event_date(heading, body, published)
    if deadline:
        return Classification(Kind.call, deadline, event_date)
    if event_date:
        return Classification(Kind.event, None, event_date)
    if AWARD_RE.search(heading):
        return Classification(Kind.award)
    if CALL_RE.search(heading):
        return Classification(Kind.call)
    return Classification(Kind.news)


def _dates_after(text: str, start: int, published: date, window: int = _WINDOW) -> date | None:
    """The first date that starts within ``window`` characters of ``start``."""
    for match in DATE_RE.finditer(text, start, start + window + 30):
        if match.start() - start > window:
            return None
        found = date_from_match(match, published)
        if found and found >= published - timedelta(days=7):
            return found
    return None


def find_deadline(text: str, published: date) -> date | None:
    for keyword in DEADLINE_RE.finditer(text):
        found = _dates_after(text, keyword.end(), published)
        if found:
            return found
    return None


def find_event_date(heading: str, text: str, published: date) -> date | None:
    """An event's date: labelled ("Time: Tuesday Dec 7"), with hours ("Dec 7 12-13"), or any
    upcoming date in an item whose heading names an event ("Seminar on …")."""
    earliest = published - timedelta(days=1)
    for part in (heading, text):
        for label in EVENT_LABEL_RE.finditer(part):
            rest = part[label.end() : label.end() + 60]
            weekday = _WEEKDAY_RE.match(rest)
            offset = label.end() + (weekday.end() if weekday else 0)
            found = _dates_after(part, offset, published, window=2)
            if found and found >= earliest:
                return found
        for match in DATE_RE.finditer(part):
            if TIME_RANGE_RE.match(part, match.end()):
                found = date_from_match(match, published)
                if found and found >= earliest:
                    return found
    if EVENT_WORDS_RE.search(heading):
        for part in (heading, text):
            for match in DATE_RE.finditer(part):
                found = date_from_match(match, published)
                if found and found >= earliest:
                    return found
    return None
