"""Acceptance on this repository's own sample content: collect it, then draft real months."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from newsletter.collect import collect
from newsletter.editor import Status, draft
from newsletter.issuefile import load_issue
from newsletter.models import Kind
from newsletter.project import Project
from newsletter.store import Store
from tests.clirun import cli


@pytest.fixture
def sample(sample_project: Path) -> Project:
    project = Project.at(sample_project)
    with Store(project.store_path) as store:
        report = collect(project, store)
    assert not report.failed, [(s.name, s.error) for s in report.failed]
    return project


def test_october_2020_holds_only_october_stories(sample: Project) -> None:
    path = sample.issue_path("2020-10")
    edited = path.read_text()
    result = draft(sample, "2020-10")
    # The committed issue keeps every hand edit; anything new is only appended.
    assert path.read_text().startswith(edited.rstrip("\n"))
    assert all(i.published.strftime("%Y-%m") == "2020-10" for i in result.selection.ranked())

    path.unlink()
    fresh = load_issue(draft(sample, "2020-10", send_date=date(2020, 11, 3)).path)
    assert len(fresh.stories()) >= 4
    assert {s.published.strftime("%Y-%m") for s in fresh.stories() if s.published} == {"2020-10"}
    assert fresh.lead is not None and fresh.lead.image is not None


def test_march_2024_keeps_the_open_call_and_drops_the_closed_one(sample: Project) -> None:
    sample.issue_path("2024-03").unlink()
    result = draft(sample, "2024-03", send_date=date(2024, 3, 10))
    issue = load_issue(result.path)
    growth = next(s for s in issue.stories() if "Growth House" in s.title)
    assert growth.deadline == date(2024, 4, 4) and growth.kind is Kind.call
    nomination = next(d for d in result.selection.decisions if "nominat" in d.item.title.lower()
                      or "nominat" in (d.item.kicker or "").lower())  # fmt: skip
    assert nomination.item.deadline == date(2024, 3, 6)
    assert nomination.status is Status.dropped
    assert nomination.reason == "deadline 2024-03-06 is before the send date 2024-03-10"
    assert nomination.item.id not in {s.id for s in issue.stories() + issue.alternates}
    # Plain news stays in the window: February's stories wait for February's issue.
    assert all(s.published and s.published.date() >= date(2024, 3, 1) for s in issue.stories())


def test_the_committed_march_issue_is_what_the_draft_keeps(sample: Project) -> None:
    path = sample.issue_path("2024-03")
    committed = path.read_text()
    result = draft(sample, "2024-03")
    assert not result.changed and path.read_text() == committed
    assert result.report is not None and result.report.problems == []


def test_since_widens_the_window_for_a_first_issue_after_a_break(sample: Project) -> None:
    sample.issue_path("2024-03").unlink()
    result = cli(
        "draft", "2024-03", "--send-date", "2024-03-10", "--since", "2024-02-15",
        "--project", str(sample.root), cwd=sample.root.parent,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    issue = load_issue(sample.issue_path("2024-03"))
    published = {s.published.date() for s in issue.stories() if s.published}
    assert min(published) >= date(2024, 2, 15)
    assert any(d < date(2024, 3, 1) for d in published)  # February's news is in now
    titles = " ".join(s.title for s in issue.stories())
    assert "Growth House" in titles and "nominate" not in titles.lower()

    bad = cli(
        "draft", "2024-03", "--force", "--send-date", "2024-03-10", "--since", "2024-04-01",
        "--project", str(sample.root), cwd=sample.root.parent,
    )  # fmt: skip
    assert bad.returncode != 0 and "after the send date" in bad.stderr
    assert "Traceback" not in bad.stderr
