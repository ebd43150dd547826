"""One owner for "is this dated, and still open" and for "which story leads".

Selection, validation, the layout plan, both templates and ``items`` all ask the model's
deadline helpers; the draft and the layout both ask ``lead_story``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from newsletter.build import render_month
from newsletter.editor import draft
from newsletter.issuefile import dump_yaml, issue_to_yaml, load_issue, validate_issue, write_text
from newsletter.models import Issue, Kind, NewsItem, Section, Story, lead_story
from newsletter.project import Project
from newsletter.render import plan_layout
from newsletter.store import Store
from tests import factories
from tests.clirun import cli
from tests.factories import draft_project, image

SEND = date(2020, 11, 3)


def news_item(title: str, day: int, **fields: Any) -> NewsItem:
    return factories.news_item(title, f"2020-10-{day:02d}T09:00:00", **fields)


def project_with(root: Path, items: list[NewsItem], draft_settings: str = "") -> Project:
    cluster = [{"name": "Cluster", "kind": "feed", "url": "cluster.xml"}]
    project = draft_project(root, draft_settings, sources=cluster)
    with Store(project.store_path) as store:
        store.write_source("Cluster", items)
    return project


# Every way a story can carry dates, and what each stage must make of it.
CASES = [
    # kind, deadline, event_date -> is_call, is_event, due, lapsed on SEND
    (Kind.news, None, None, False, False, None, []),
    (Kind.award, None, None, True, False, None, []),  # an award is a call, open-ended
    (Kind.award, date(2020, 11, 20), None, True, False, date(2020, 11, 20), []),
    (Kind.award, date(2020, 10, 20), None, True, False, date(2020, 10, 20), ["deadline"]),
    (Kind.news, date(2020, 11, 20), None, True, False, date(2020, 11, 20), []),
    (Kind.call, None, date(2020, 11, 20), True, False, None, []),
    (Kind.event, None, date(2020, 11, 20), False, True, date(2020, 11, 20), []),
    (Kind.event, date(2020, 11, 10), date(2020, 11, 20), False, True, date(2020, 11, 20), []),
    (Kind.event, date(2020, 11, 10), None, False, True, date(2020, 11, 10), []),
    (Kind.event, None, date(2020, 10, 20), False, True, date(2020, 10, 20), ["event_date"]),
    (Kind.news, None, date(2020, 10, 2), False, False, None, []),  # news about a past event
]


@pytest.mark.parametrize(("kind", "deadline", "event", "call", "is_event", "due", "lapsed"), CASES)
def test_story_and_item_answer_alike(
    kind: Kind,
    deadline: date | None,
    event: date | None,
    call: bool,
    is_event: bool,
    due: date | None,
    lapsed: list[str],
) -> None:
    item = news_item("X", 1, kind=kind, deadline=deadline, event_date=event)
    story = Story.from_item(item)
    for record in (item, story):
        assert (record.is_call, record.is_event, record.is_dated) == (
            call,
            is_event,
            call or is_event,
        )
        assert record.due == due
        assert record.lapsed(SEND) == lapsed
        assert record.expired_on(SEND) is bool(lapsed)


def test_selection_validation_and_layout_agree(tmp_path: Path) -> None:
    """What the draft drops as past is what validation refuses; the rest is laid out by kind."""
    items = [
        news_item(f"Story {n}", 1 + n, kind=kind, deadline=deadline, event_date=event)
        for n, (kind, deadline, event, *_) in enumerate(CASES)
    ]
    project = project_with(tmp_path, items, "max_stories = 20\nlookback_days = 0\n")
    result = draft(project, "2020-10", send_date=SEND)
    chosen = {i.id for i in result.selection.ranked()}
    dropped = {d.item.id for d in result.selection.decisions if d.status.value == "dropped"}
    assert dropped == {i.id for i in items if i.expired_on(SEND)}
    assert chosen == {i.id for i in items} - dropped

    # The same stories written into an issue file by hand: validation refuses the same ones.
    stories = [Story.from_item(i) for i in items]
    issue = Issue(month="2020-10", subject="S", send_at=SEND,
                  sections=[Section(title="All", stories=stories)])  # fmt: skip
    path = project.issue_path("2020-10")
    write_text(path, dump_yaml(issue_to_yaml(issue)))
    refused = {p.key for p in validate_issue(path).errors}
    assert refused == {
        f"sections.0.stories.{n}.{field}" for n, i in enumerate(items) for field in i.lapsed(SEND)
    }

    layout = plan_layout(issue)
    assert [s.id for s in layout.calls] == [
        s.id for s in sorted((s for s in stories if s.is_call),
                             key=lambda s: (s.due is None, s.due or date.min))
    ]  # fmt: skip
    assert {s.id for s in layout.events} == {s.id for s in stories if s.is_event}
    cards = {s.id for section in layout.sections for s in section.stories}
    assert cards | {layout.lead.id if layout.lead else ""} == {
        s.id for s in stories if not s.is_dated
    }


def test_both_templates_and_items_show_the_due_date(tmp_path: Path) -> None:
    award = news_item("Research prize", 5, kind=Kind.award, deadline=date(2020, 11, 20))
    seminar = news_item(
        "Seminar", 6, kind=Kind.event, deadline=date(2020, 11, 10), event_date=date(2020, 11, 25)
    )
    project = project_with(tmp_path, [award, seminar, news_item("News", 7, image=image())])
    draft(project, "2020-10", send_date=SEND)
    done = render_month(project, "2020-10")
    for part in (done.preview_text, done.preview_html):
        assert "Deadline: 20 November 2020" in part
        assert "When: 25 November 2020" in part  # the seminar's day, not its sign-up deadline
        assert "10 November" not in part

    shown = cli("items", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    rows = {line.split("│")[-2].strip(): line for line in shown.stdout.splitlines() if "│" in line}
    assert "2020-11-20" in rows["Research prize"] and "2020-11-25" in rows["Seminar"]


def test_the_drafted_lead_is_the_story_the_email_opens_with(tmp_path: Path) -> None:
    """No [[draft.sections]]: the best story with a photo is an award call, which the email
    lists with the calls; the lead, and the subject, must come from a story that can lead."""
    items = [
        news_item("Cancer research prize", 20, kind=Kind.award, image=image(),
                  summary="Nominate a colleague for the prize."),
        news_item("New partnership", 10, image=image(), summary="A partnership on AI."),
        news_item("Short note", 12),
    ]  # fmt: skip
    project = project_with(tmp_path, items, '[draft.keywords]\n"prize" = 5\n')
    result = draft(project, "2020-10", send_date=SEND)
    ranked = [
        d.item.title for d in sorted(result.selection.decisions, key=lambda d: -d.score.total)
    ]
    assert ranked[0] == "Cancer research prize"  # the award is the best story

    issue = load_issue(result.path)
    email = render_month(project, "2020-10").email
    opening = plan_layout(issue).lead
    assert opening is not None and opening.title == "New partnership"
    assert result.selection.lead is not None and result.selection.lead.id == opening.id
    assert issue.lead is not None and issue.lead.id == opening.id
    assert issue.subject.startswith("New partnership | ")
    assert issue.preheader == "A partnership on AI."
    assert issue.stories()[0].id == opening.id  # the draft put it first, as the email shows it
    html = email.html
    assert html.index("New partnership") < html.index("Cancer research prize")


def test_lead_story_skips_dated_stories() -> None:
    call = Story(id="c", title="C", url="https://e.org/c", kind=Kind.call)
    event = Story(id="e", title="E", url="https://e.org/e", kind=Kind.event)
    news = Story(id="n", title="N", url="https://e.org/n")
    assert lead_story([call, event, news]) is news
    assert lead_story([call, event]) is None
