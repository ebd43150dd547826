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
_TEXT_LIMIT = 1500  # deadlines and event dates are announced early in an item

# A deadline keyword, matched where one of its trigger words was found (str.find is far
# faster than scanning long text with a pattern that starts with alternatives).
DEADLINE_RE = re.compile(
    r"(?:deadline|closing\s+date|apply\s+(?:by|before)|applications?\s+(?:close|closes|are\s+due)"
    r"|due\s+date|register\s+by|frist)\b",
    re.IGNORECASE,
)
_DEADLINE_WORDS = ("deadline", "closing date", "apply", "application", "due date",
                   "register by", "frist")  # fmt: skip
# Hours after a date: "Dec 7 12-13", "4 May 10:00–12:00".
_HOURS_RE = re.compile(r"[0-9]{1,2}(?:[:.][0-9]{2})?\s*[-–]\s*[0-9]{1,2}(?:[:.][0-9]{2})?(?![0-9])")
EVENT_LABELS = frozenset({"time", "date", "when", "tid", "dato", "tidspunkt", "når"})
_AFTER_COLON_RE = re.compile(r":\s*")
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
    lowered = text.lower()
    starts = sorted(
        {at for word in _DEADLINE_WORDS for at in _occurrences(lowered, word)}
    )  # "søknadsfrist" is found at its "frist"
    for start in starts:
        keyword = DEADLINE_RE.match(text, start)
        if keyword:
            found = _dates_after(text, keyword.end(), published)
            if found:
                return found
    return None


def _occurrences(text: str, word: str) -> list[int]:
    found, at = [], text.find(word)
    while at != -1:
        found.append(at)
        at = text.find(word, at + 1)
    return found


def _hours(text: str) -> list[re.Match[str]]:
    """Hour ranges ("12-13", "10:00–12:00"), found from their dashes."""
    found = []
    for dash in sorted([*_occurrences(text, "-"), *_occurrences(text, "–")]):
        start = dash - 1
        while start >= 0 and text[start] == " ":
            start -= 1
        if start < 0 or not text[start].isdigit():
            continue
        while start > 0 and (text[start - 1].isdigit() or text[start - 1] in ":."):
            start -= 1
        match = _HOURS_RE.match(text, start)
        if match and match.end() > dash:
            found.append(match)
    return found


def _labels(text: str) -> list[int]:
    """Where the value of each "Time:" / "Date:" / "Tid:" label starts (colons are few)."""
    found = []
    colon = text.find(":")
    while colon != -1:
        words = text[max(0, colon - 12) : colon].split()
        if words and words[-1].lower() in EVENT_LABELS:
            after = _AFTER_COLON_RE.match(text, colon)
            found.append(after.end() if after else colon + 1)
        colon = text.find(":", colon + 1)
    return found


def find_event_date(heading: str, text: str, published: date) -> date | None:
    """An event's date: labelled ("Time: Tuesday Dec 7"), with hours ("Dec 7 12-13"), or any
    upcoming date in an item whose heading names an event ("Seminar on …")."""
    earliest = published - timedelta(days=1)
    for part in (heading, text):
        for start in _labels(part):
            rest = part[start : start + 60]
            weekday = _WEEKDAY_RE.match(rest)
            offset = start + (weekday.end() if weekday else 0)
            found = _dates_after(part, offset, published, window=2)
            if found and found >= earliest:
                return found
        # A date right before hours ("Dec 7 12-13"): find the hours first (few, and cheap to
        # find), then look for a date just before each.
        for hours in _hours(part):
            for match in DATE_RE.finditer(part, max(0, hours.start() - 30), hours.start()):
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
