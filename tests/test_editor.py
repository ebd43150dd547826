"""Selection: window, exclusions, scoring, caps, sections and the lead, over a real store."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from newsletter.editor import (
    Status,
    default_send_date,
    draft,
    issue_window,
    read_history,
    select_stories,
)
from newsletter.editor.select import Selection
from newsletter.errors import ProjectError
from newsletter.issuefile import load_issue
from newsletter.models import Kind
from newsletter.project import Project
from newsletter.store import Store
from tests.factories import draft_project as make_project
from tests.factories import image
from tests.factories import news_item as item
from tests.factories import store_items as store

SECTION_RULES = """
[[draft.sections]]
title = "Calls & deadlines"
kinds = ["call", "award"]
order = "deadline"

[[draft.sections]]
title = "Events"
kinds = ["event"]
order = "deadline"

[[draft.sections]]
title = "Research news"
sources = ["Institute"]

[[draft.sections]]
title = "From the cluster"
sources = ["Cluster"]
"""


def select(project: Project, month: str, send: str | None = None, **kwargs: Any) -> Selection:
    config = project.config
    send_date = date.fromisoformat(send) if send else default_send_date(month)
    history = read_history(project.issues_dir, month, config.draft)
    window = issue_window(month, config.draft, send_date, history.previous)
    with Store(project.store_path) as db:
        return select_stories(config, db, window, used=history.used, **kwargs)


def titles(selection: Selection) -> list[str]:
    return [i.title for i in selection.chosen()]


def reason(selection: Selection, title: str) -> str:
    found = next(d for d in selection.decisions if d.item.title == title)
    return f"{found.status.value}: {found.reason}"


def test_only_the_months_news_is_chosen(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    store(
        project,
        item("September story", "2020-09-30T23:00:00"),
        item("October first", "2020-10-01T00:00:00"),
        item("October last", "2020-10-31T22:00:00"),
        item("November story", "2020-11-01T00:00:00"),
    )
    chosen = select(project, "2020-10")
    assert sorted(titles(chosen)) == ["October first", "October last"]
    assert all(i.published.strftime("%Y-%m") == "2020-10" for i in chosen.chosen())


def test_deadlines_are_judged_on_the_send_date(tmp_path: Path) -> None:
    """The sample's March 2024 case: one call still open on 10 March, one closed on the 6th."""
    project = make_project(tmp_path)
    growth = item(
        "Call: UiO Growth House seed funding", "2024-03-04T09:00:00", "Institute",
        kind=Kind.call, deadline=date(2024, 4, 4),
    )  # fmt: skip
    awards = item(
        "Nominate a scientist for the research awards", "2024-03-01T09:00:00", "Institute",
        kind=Kind.award, deadline=date(2024, 3, 6),
    )  # fmt: skip
    store(project, growth, awards)
    chosen = select(project, "2024-03", "2024-03-10")
    assert titles(chosen) == [growth.title]
    assert reason(chosen, awards.title) == (
        "dropped: deadline 2024-03-06 is before the send date 2024-03-10"
    )
    # Sent before the 6th, the nomination call is still worth printing.
    assert sorted(titles(select(project, "2024-03", "2024-03-05"))) == sorted(
        [growth.title, awards.title]
    )


def test_open_calls_from_earlier_weeks_count_but_old_news_does_not(tmp_path: Path) -> None:
    project = make_project(tmp_path, "lookback_days = 30\n")
    store(
        project,
        item("February news", "2024-02-20T09:00:00"),
        item("February call still open", "2024-02-20T09:00:00", kind=Kind.call,
             deadline=date(2024, 4, 1)),
        item("February call closed", "2024-02-20T09:00:00", kind=Kind.call,
             deadline=date(2024, 3, 5)),
        item("February event ahead", "2024-02-25T09:00:00", kind=Kind.event,
             event_date=date(2024, 3, 20)),
        item("January call still open", "2024-01-05T09:00:00", kind=Kind.call,
             deadline=date(2024, 6, 1)),
        item("March news", "2024-03-02T09:00:00"),
    )  # fmt: skip
    chosen = select(project, "2024-03", "2024-03-10")
    assert sorted(titles(chosen)) == [
        "February call still open", "February event ahead", "March news",
    ]  # fmt: skip
    assert reason(chosen, "February call closed").startswith("dropped: deadline 2024-03-05")


def test_the_window_reaches_back_to_the_previous_send_date(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    (project.issues_dir).mkdir()
    (project.issues_dir / "2024-02.yaml").write_text(
        "month: 2024-02\nsubject: February\nsend_date: 2024-02-22\nsections:\n"
        "  - title: News\n    stories:\n      - id: used-one\n        title: Sent in February\n"
        "        url: https://example.org/sent\n"
    )
    sent = item("Sent in February", "2024-02-22T08:00:00")  # the morning it went out
    sent = sent.model_copy(update={"id": "used-one"})
    store(project, sent, item("Late February", "2024-02-26T09:00:00"),
          item("Before the last send", "2024-02-20T09:00:00"))  # fmt: skip
    chosen = select(project, "2024-03")
    assert titles(chosen) == ["Late February"]
    assert chosen.window.previous == "2024-02"
    assert reason(chosen, "Sent in February") == "dropped: already in the 2024-02 issue"

    month_only = make_project(tmp_path / "m", 'window = "month"\n')
    store(month_only, item("Late February", "2024-02-26T09:00:00"))
    assert titles(select(month_only, "2024-03")) == []

    # After skipped months, the window is the month: old news is stale by then.
    february = project.issues_dir / "2024-02.yaml"
    january = project.issues_dir / "2024-01.yaml"
    january.write_text(february.read_text().replace("month: 2024-02", "month: 2024-01"))
    february.unlink()
    skipped = select(project, "2024-03")
    assert skipped.window.previous is None and titles(skipped) == []


def test_stories_after_the_send_date_wait_for_the_next_issue(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    store(project, item("Early", "2024-03-09T09:00:00"), item("On the day", "2024-03-10T18:00:00"),
          item("After", "2024-03-11T09:00:00"))  # fmt: skip
    assert sorted(titles(select(project, "2024-03", "2024-03-10"))) == ["Early", "On the day"]


def test_send_date_before_the_month_is_refused(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    with pytest.raises(ProjectError, match="send date 2024-02-10 is before the issue's month"):
        issue_window("2024-03", project.config.draft, date(2024, 2, 10))


def test_other_languages_and_past_events_are_left_out(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    store(
        project,
        item("Norsk nyhet", "2020-10-05T09:00:00", language="nb"),
        item("Seminar last week", "2020-10-20T09:00:00", kind=Kind.event,
             event_date=date(2020, 10, 27)),
        item("Report on the ministers' visit", "2020-10-20T09:00:00",
             event_date=date(2020, 10, 2)),
    )  # fmt: skip
    chosen = select(project, "2020-10", "2020-11-03")
    assert titles(chosen) == ["Report on the ministers' visit"]  # news about a past event stays
    assert reason(chosen, "Norsk nyhet") == "dropped: in language 'nb', the edition is 'en'"
    assert reason(chosen, "Seminar last week") == (
        "dropped: the event on 2020-10-27 is before the send date 2020-11-03"
    )
    nb = make_project(tmp_path / "nb", 'language = "nb"\n')
    store(nb, item("Norsk nyhet", "2020-10-05T09:00:00", language="nb"))
    assert titles(select(nb, "2020-10")) == ["Norsk nyhet"]


def test_scores_follow_the_configured_weights(tmp_path: Path) -> None:
    project = make_project(
        tmp_path,
        "[draft.weights]\nrecency = 0\nsource = 0\nimage = 0\nlength = 0\nkind = 0\n"
        '[draft.keywords]\n"precision medicine" = 2.0\nbudget = -1.0\n',
    )
    store(
        project,
        item("Precision medicine gets funding", "2020-10-02T09:00:00"),
        item("Budget day", "2020-10-20T09:00:00"),
        item("Plain story", "2020-10-10T09:00:00"),
    )
    chosen = select(project, "2020-10")
    assert titles(chosen) == ["Precision medicine gets funding", "Plain story", "Budget day"]
    best = next(d for d in chosen.decisions if d.item.title.startswith("Precision"))
    assert best.score.matched == ("precision medicine",)
    assert best.score.total == pytest.approx(2.0)


def test_score_parts_add_up_and_recency_image_and_source_count(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    text = "<p>" + "word " * 400 + "</p>"
    store(
        project,
        item("Old and bare", "2020-10-01T00:00:00"),
        item("New with photo", "2020-10-31T12:00:00", image=image(), body_html=text),
    )
    chosen = select(project, "2020-10")
    assert titles(chosen) == ["New with photo", "Old and bare"]
    weights = project.config.draft.weights.model_dump()
    for d in chosen.decisions:
        parts = d.score.parts()
        expected = sum(weights.get(k, 1.0) * v for k, v in parts.items())
        assert d.score.total == pytest.approx(expected, abs=1e-3)
    new = next(d for d in chosen.decisions if d.item.title == "New with photo").score
    assert new.image == 1.0 and new.length == 1.0 and new.recency > 0.95

    weighted = make_project(tmp_path / "w")
    config = (weighted.root / "newsletter.toml").read_text()
    config = config.replace('url = "institute.html"', 'url = "institute.html"\nweight = 3.0')
    (weighted.root / "newsletter.toml").write_text(config)
    store(weighted, item("Cluster story", "2020-10-20T09:00:00"),
          item("Institute story", "2020-10-10T09:00:00", "Institute"))  # fmt: skip
    assert titles(select(Project.at(weighted.root), "2020-10"))[0] == "Institute story"


def test_caps_keep_the_issue_diverse_and_the_rest_become_alternates(tmp_path: Path) -> None:
    project = make_project(tmp_path, "max_stories = 4\nmax_per_source = 2\n")
    store(
        project,
        *[item(f"Cluster {n}", f"2020-10-{10 + n}T09:00:00") for n in range(4)],
        item("Institute 1", "2020-10-02T09:00:00", "Institute"),
        item("Institute 2", "2020-10-01T09:00:00", "Institute"),
        item("Institute 3", "2020-10-01T08:00:00", "Institute"),
    )
    chosen = select(project, "2020-10")
    assert sorted(titles(chosen)) == ["Cluster 2", "Cluster 3", "Institute 1", "Institute 2"]
    assert reason(chosen, "Cluster 1") == "alternate: already 2 stories from Cluster"
    assert [i.title for i in chosen.alternates] == ["Cluster 1", "Cluster 0", "Institute 3"]
    assert reason(chosen, "Institute 3") == "alternate: over the limit of 4 stories"
    limited = select(project, "2020-10", max_stories=1)
    assert reason(limited, "Cluster 2") == "alternate: over the limit of 1 stories"


def test_sections_follow_the_rules_with_calls_in_date_order(tmp_path: Path) -> None:
    project = make_project(tmp_path, SECTION_RULES + "[[draft.sections]]\ntitle = \"Unused\"\n"
                           "keywords = [\"nothing matches this\"]\n")  # fmt: skip
    store(
        project,
        item("Later deadline", "2020-10-20T09:00:00", "Institute", kind=Kind.call,
             deadline=date(2020, 12, 1)),
        item("Sooner deadline", "2020-10-02T09:00:00", "Institute", kind=Kind.call,
             deadline=date(2020, 11, 15)),
        item("Seminar", "2020-10-05T09:00:00", kind=Kind.event, event_date=date(2020, 11, 20)),
        item("A paper in Science", "2020-10-12T09:00:00", "Institute", image=image()),
        item("Cluster news", "2020-10-14T09:00:00"),
    )  # fmt: skip
    chosen = select(project, "2020-10")
    layout = [(title, [i.title for i in items]) for title, items in chosen.sections]
    assert layout == [
        ("Research news", ["A paper in Science"]),  # the lead's section comes first
        ("Calls & deadlines", ["Sooner deadline", "Later deadline"]),
        ("Events", ["Seminar"]),
        ("From the cluster", ["Cluster news"]),
    ]
    assert chosen.lead is not None and chosen.lead.title == "A paper in Science"


def test_the_lead_is_the_best_story_with_a_good_image(tmp_path: Path) -> None:
    project = make_project(tmp_path, "lead_min_width = 500\n[draft.keywords]\nbest = 5\n")
    store(
        project,
        item("Best but no photo", "2020-10-20T09:00:00"),
        item("Best with a tiny photo", "2020-10-19T09:00:00", image=image(width=120)),
        item("Good with a photo", "2020-10-02T09:00:00", image=image()),
        item("Plain", "2020-10-25T09:00:00"),
    )
    chosen = select(project, "2020-10")
    assert chosen.lead is not None and chosen.lead.title == "Good with a photo"
    assert titles(chosen)[0] == "Good with a photo"
    assert reason(chosen, "Good with a photo") == "chosen: lead story"


def test_an_empty_month_gives_a_file_that_says_so(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    store(project, item("Other month", "2020-09-10T09:00:00"))
    result = draft(project, "2020-10")
    assert result.created and result.stories == 0
    text = result.path.read_text()
    assert "no news this month" in text
    assert "No stories for this issue: nothing was published 2020-10-01 to 2020-10-31" in text
    issue = load_issue(result.path)
    assert issue.stories() == [] and issue.send_date == date(2020, 11, 1)
    assert [p.message for p in result.report.warnings] == [  # type: ignore[union-attr]
        "the issue has no stories; the email will say there is no news this month"
    ]


def test_decisions_cover_every_candidate_once(tmp_path: Path) -> None:
    project = make_project(tmp_path, "max_stories = 2\n")
    items = [item(f"Story {n}", f"2020-10-{n + 1:02d}T09:00:00") for n in range(5)]
    items.append(item("Norsk", "2020-10-09T09:00:00", language="nb"))
    store(project, *items)
    chosen = select(project, "2020-10")
    assert sorted(d.item.id for d in chosen.decisions) == sorted(i.id for i in items)
    counts = {s: sum(d.status is s for d in chosen.decisions) for s in Status}
    assert counts == {Status.chosen: 2, Status.alternate: 3, Status.dropped: 1}


def test_several_rules_can_fill_one_section_shown_in_section_order(tmp_path: Path) -> None:
    project = make_project(
        tmp_path,
        'section_order = ["From the cluster", "Calls & deadlines"]\n'
        '[[draft.sections]]\ntitle = "Calls & deadlines"\nkinds = ["call"]\norder = "deadline"\n'
        '[[draft.sections]]\ntitle = "Calls & deadlines"\nhas_deadline = true\n'
        '[[draft.sections]]\ntitle = "From the cluster"\nsources = ["Cluster"]\n',
    )
    store(
        project,
        item("Survey closes soon", "2020-10-03T09:00:00", deadline=date(2020, 11, 10)),
        item("A call", "2020-10-04T09:00:00", "Institute", kind=Kind.call,
             deadline=date(2020, 11, 20)),
        item("Cluster news", "2020-10-05T09:00:00"),
        item("Institute news", "2020-10-06T09:00:00", "Institute"),
    )  # fmt: skip
    layout = [(t, [i.title for i in items]) for t, items in select(project, "2020-10").sections]
    assert layout == [
        ("From the cluster", ["Cluster news"]),
        ("Calls & deadlines", ["Survey closes soon", "A call"]),
        ("News", ["Institute news"]),
    ]
