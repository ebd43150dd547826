"""The layout plan: the issue's stories sorted into the places of the email."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from newsletter.models import Issue, Kind, Story


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


def is_event(story: Story) -> bool:
    return story.kind is Kind.event or (
        story.event_date is not None and story.kind not in (Kind.call, Kind.award)
    )


def is_call(story: Story) -> bool:
    return not is_event(story) and (
        story.kind in (Kind.call, Kind.award) or story.deadline is not None
    )


def plan_layout(issue: Issue) -> Layout:
    """Lead = the first news story; calls and events leave their sections for dated lists."""
    layout = Layout()
    call_sections: set[str] = set()
    event_sections: set[str] = set()
    for section in issue.sections:
        cards = []
        for story in section.stories:
            if is_event(story):
                layout.events.append(story)
                event_sections.add(section.title)
            elif is_call(story):
                layout.calls.append(story)
                call_sections.add(section.title)
            elif layout.lead is None:
                layout.lead = story
            else:
                cards.append(story)
        if cards:
            layout.sections.append(LayoutSection(section.title, cards))
    titles = {s.title for s in layout.sections}
    if len(call_sections) == 1 and not call_sections & (titles | event_sections):
        layout.calls_title = call_sections.pop()
    if len(event_sections) == 1 and not event_sections & (titles | call_sections):
        layout.events_title = event_sections.pop()
    # Soonest first; undated ones (an open call) at the end, in the editor's order.
    layout.calls.sort(key=lambda s: (s.deadline is None, s.deadline or datetime.min.date()))
    layout.events.sort(key=lambda s: (s.event_date is None, s.event_date or datetime.min.date()))
    return layout
