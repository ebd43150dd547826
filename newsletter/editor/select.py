"""Selection: from the stored items to the stories of one issue, with a reason for each.

1. Candidates: news published in the window, plus calls and events published a few weeks
   earlier whose deadline or date is still open (see ``window.py``).
2. Exclusions: already used in an earlier issue, another language than the edition's,
   a deadline or event date before the send date.
3. Ranking by score (``scoring.py``), then greedy picking under the story limit and the
   per-source and per-section caps. What does not fit becomes an alternate.
4. Sections by rules on kind, source and keywords; calls and events in date order; the
   lead (best score with a good image, among the stories that can lead: ``lead_story``)
   first, so that it is the story the email opens with.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

from newsletter.config import Config, SectionRule
from newsletter.editor.scoring import Score, Scorer, keyword_pattern, text_of
from newsletter.editor.window import Window
from newsletter.models import NewsItem, lead_story
from newsletter.store import Store
from newsletter.translations import same_story

if TYPE_CHECKING:
    from newsletter.editions import Edition


class Status(StrEnum):
    chosen = "chosen"
    alternate = "alternate"
    dropped = "dropped"


@dataclass
class Decision:
    item: NewsItem
    score: Score
    status: Status
    reason: str
    section: str | None = None


@dataclass
class Selection:
    window: Window
    language: str
    sections: list[tuple[str, list[NewsItem]]] = field(default_factory=list)
    lead: NewsItem | None = None
    alternates: list[NewsItem] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    _by_id: dict[str, Decision] = field(default_factory=dict, repr=False)

    def chosen(self) -> list[NewsItem]:
        return [item for _, items in self.sections for item in items]

    def ranked(self) -> list[NewsItem]:
        """Every story worth offering, chosen ones first, then alternates, best first."""
        return self.chosen() + self.alternates

    def decision(self, item_id: str) -> Decision | None:
        if len(self._by_id) != len(self.decisions):
            self._by_id = {d.item.id: d for d in self.decisions}
        return self._by_id.get(item_id)


def is_open_call(item: NewsItem) -> bool:
    """Has a date a reader can still act on (``NewsItem.due``): a deadline, or an event's day."""
    return item.due is not None


def candidates(store: Store, window: Window) -> list[NewsItem]:
    """News in the window, then calls and events from the weeks before it (newest first)."""
    found = store.items(start=window.start, end=window.end)
    if window.lookback_start < window.start:
        earlier = store.items(start=window.lookback_start, end=window.start)
        found += [item for item in earlier if is_open_call(item)]
    return found


def exclusion(item: NewsItem, window: Window, edition: Edition, used: dict[str, str]) -> str | None:
    """Why ``item`` cannot be in the issue at all, or None."""
    if item.id in used:
        return f"already in the {used[item.id]} issue"
    if not edition.matches(item.language):
        return f"in language {item.language!r}, the edition is {edition.code!r}"
    lapsed = item.lapsed(window.send_date)
    if "deadline" in lapsed:
        return f"deadline {item.deadline} is before the send date {window.send_date}"
    if "event_date" in lapsed:
        return f"the event on {item.event_date} is before the send date {window.send_date}"
    return None


class Sections:
    """Places a story in the first section rule it matches."""

    def __init__(self, config: Config) -> None:
        draft = config.draft
        self.rules = draft.sections
        self.patterns = {id(r): [keyword_pattern(k) for k in r.keywords] for r in self.rules}
        self.by_source = {s.name: s.section for s in config.sources if s.section}
        self.default = draft.section
        # Several rules may fill one section; its first rule sets its cap and order.
        self.order = list(dict.fromkeys([*draft.section_order, *(r.title for r in self.rules)]))
        self.caps: dict[str, int | None] = {}
        self.sort: dict[str, str] = {}
        for rule in self.rules:
            self.caps.setdefault(rule.title, rule.max_stories)
            self.sort.setdefault(rule.title, rule.order)
        self.max_per_section = draft.max_per_section

    def matches(self, rule: SectionRule, item: NewsItem) -> bool:
        if rule.kinds and item.kind not in rule.kinds:
            return False
        if rule.has_deadline is not None and (item.deadline is not None) != rule.has_deadline:
            return False
        if rule.sources and not ({item.source, *item.sources} & set(rule.sources)):
            return False
        if rule.keywords:
            text = text_of(item)
            return any(p.search(text) for p in self.patterns[id(rule)])
        return True

    def title_for(self, item: NewsItem) -> str:
        for rule in self.rules:
            if self.matches(rule, item):
                return rule.title
        return self.by_source.get(item.source) or self.default

    def cap(self, title: str) -> int | None:
        return self.caps.get(title) or self.max_per_section

    def arrange(
        self, chosen: list[NewsItem], titles: dict[str, str], lead: NewsItem | None
    ) -> list[tuple[str, list[NewsItem]]]:
        """Group the chosen stories (best first) into sections in rule order, lead first."""
        groups: dict[str, list[NewsItem]] = {}
        for item in chosen:
            groups.setdefault(titles[item.id], []).append(item)
        rank = {item.id: n for n, item in enumerate(chosen)}
        for title, items in groups.items():
            order = self.sort.get(title, "score")
            if order == "deadline":
                items.sort(key=lambda i: (i.due or date.max, rank[i.id]))
            elif order == "published":
                items.sort(key=lambda i: i.published, reverse=True)
        position = {title: n for n, title in enumerate(self.order)}
        ordered = sorted(groups.items(), key=lambda g: position.get(g[0], len(position)))
        if lead is not None:
            lead_title = titles[lead.id]
            ordered.sort(key=lambda g: g[0] != lead_title)
            items = dict(ordered)[lead_title]
            items.remove(lead)
            items.insert(0, lead)
        return ordered


def good_lead_image(item: NewsItem, min_width: int) -> bool:
    image = item.image
    return image is not None and (image.width is None or image.width >= min_width)


def select_stories(
    config: Config,
    store: Store,
    window: Window,
    *,
    max_stories: int | None = None,
    used: dict[str, str] | None = None,
    edition: Edition | None = None,
    prefer: set[str] | None = None,
) -> Selection:
    """The stories of ``edition``'s issue (the default edition's when None).

    ``prefer`` names the stories another edition of this month carries (``keys_of``): their
    versions in this edition's language come first, so a story published in both languages
    is in both editions.
    """
    settings = config.draft
    limit = max_stories or settings.max_stories
    if edition is None:
        from newsletter.editions import project_editions

        edition = project_editions(config)[0]
        if settings.language and len(config.newsletter.edition_languages) == 1:
            edition = replace(edition, code=settings.language)
    scorer = Scorer(settings, config.sources, window)
    sections = Sections(config)
    selection = Selection(window, edition.code)

    kept: list[tuple[NewsItem, Score]] = []
    for item in candidates(store, window):
        score = scorer.score(item)
        reason = exclusion(item, window, edition, used or {})
        if reason:
            selection.decisions.append(Decision(item, score, Status.dropped, reason))
        else:
            kept.append((item, score))
    kept.sort(
        key=lambda pair: (
            not _preferred(pair[0], prefer or set()),
            -pair[1].total,
            -pair[0].published.timestamp(),
            pair[0].id,
        )
    )

    chosen: list[NewsItem] = []
    titles: dict[str, str] = {}
    per_source: Counter[str] = Counter()
    per_section: Counter[str] = Counter()
    for item, score in kept:
        title = sections.title_for(item)
        titles[item.id] = title
        cap = sections.cap(title)
        if len(chosen) >= limit:
            status, reason = Status.alternate, f"over the limit of {limit} stories"
        elif settings.max_per_source and per_source[item.source] >= settings.max_per_source:
            status = Status.alternate
            reason = f"already {settings.max_per_source} stories from {item.source}"
        elif cap and per_section[title] >= cap:
            status, reason = Status.alternate, f"already {cap} stories in {title}"
        else:
            status, reason = Status.chosen, ""
            chosen.append(item)
            per_source[item.source] += 1
            per_section[title] += 1
        if status is Status.alternate:
            selection.alternates.append(item)
        selection.decisions.append(Decision(item, score, status, reason, title))

    preferred = pick_lead(chosen, titles, sections, settings.lead_min_width)
    selection.sections = sections.arrange(chosen, titles, preferred)
    selection.lead = lead_story(selection.chosen())  # the story the email will open with
    for decision in selection.decisions:
        if decision.item is selection.lead:
            decision.reason = "lead story"
    return selection


def _preferred(item: NewsItem, prefer: set[str]) -> bool:
    return bool(prefer) and same_story(item, prefer)


def pick_lead(
    chosen: list[NewsItem], titles: dict[str, str], sections: Sections, min_width: int
) -> NewsItem | None:
    """The best story with a good image that can lead (not a dated call or event),
    preferring sections not kept in date order."""
    with_image = [i for i in chosen if not i.is_dated and good_lead_image(i, min_width)]
    dated = {t for t, order in sections.sort.items() if order == "deadline"}
    for item in with_image:
        if titles[item.id] not in dated:
            return item
    return with_image[0] if with_image else None
