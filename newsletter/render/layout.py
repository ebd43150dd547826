"""The layout plan: the issue's stories sorted into the places of the email."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from newsletter.models import Issue, Story


@dataclass
class LayoutSection:
    title: str
    stories: list[Story]


@dataclass
class Layout:
    """The issue's stories sorted into the places of the layout."""

    lead: Story | None = None
    sections: list[LayoutSection] = field(default_factory=list)
    calls: list[Story] = field(default_factory=list)
    events: list[Story] = field(default_factory=list)
    # The editor's section title when every call (or event) came from one such section.
    calls_title: str | None = None
    events_title: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.lead or self.sections or self.calls or self.events)


def _soonest_first(story: Story) -> tuple[bool, date]:
    # Undated ones (an open call) at the end, in the editor's order.
    return story.due is None, story.due or date.min


def plan_layout(issue: Issue) -> Layout:
    """The issue's lead opens the email; calls and events leave their sections for the dated
    lists (``Story.is_call``, ``Story.is_event``); the other stories are cards."""
    layout = Layout(lead=issue.lead)
    call_sections: set[str] = set()
    event_sections: set[str] = set()
    for section in issue.sections:
        cards = []
        for story in section.stories:
            if story.is_event:
                layout.events.append(story)
                event_sections.add(section.title)
            elif story.is_call:
                layout.calls.append(story)
                call_sections.add(section.title)
            elif story is not layout.lead:
                cards.append(story)
        if cards:
            layout.sections.append(LayoutSection(section.title, cards))
    titles = {s.title for s in layout.sections}
    if len(call_sections) == 1 and not call_sections & (titles | event_sections):
        layout.calls_title = call_sections.pop()
    if len(event_sections) == 1 and not event_sections & (titles | call_sections):
        layout.events_title = event_sections.pop()
    layout.calls.sort(key=_soonest_first)
    layout.events.sort(key=_soonest_first)
    return layout
