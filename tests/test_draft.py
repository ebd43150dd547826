"""The draft round trip: hand edits survive a re-draft; only new candidates are added."""

from __future__ import annotations

import difflib
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from newsletter.editor import draft, score_month
from newsletter.errors import IssueFileError
from newsletter.issuefile import load_issue
from newsletter.models import Kind, NewsItem
from newsletter.project import Project
from tests.clirun import cli
from tests.factories import draft_project as make_project
from tests.factories import image
from tests.factories import news_item as item
from tests.factories import store_items as store
from tests.test_editor import SECTION_RULES


def only_additions(before: str, after: str) -> list[str]:
    """The lines ``after`` adds to ``before``; fails if any line was changed or removed."""
    matcher = difflib.SequenceMatcher(a=before.splitlines(), b=after.splitlines(), autojunk=False)
    added = []
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        assert op in ("equal", "insert"), (
            op,
            before.splitlines()[a1:a2],
            after.splitlines()[b1:b2],
        )
        if op == "insert":
            added += after.splitlines()[b1:b2]
    return added


def october(n: int, **fields: Any) -> NewsItem:
    return item(f"October story {n}", f"2020-10-{n + 1:02d}T09:00:00", image=image(), **fields)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    project = make_project(tmp_path, "max_stories = 4\n")
    store(project, *[october(n) for n in range(6)])
    return project


def test_a_fresh_draft_is_a_readable_file(project: Project) -> None:
    result = draft(project, "2020-10", send_date=date(2020, 11, 3))
    assert result.created and (result.stories, result.alternates) == (4, 2)
    text = result.path.read_text()
    assert text.startswith("# Newsletter issue 2020-10.")
    assert "send_at: 2020-11-03\n" in text
    assert "status: draft  # draft -> approved (newsletter approve) -> sent" in text
    assert "# Optional: a short welcome in Markdown" in text and "intro: ''" in text
    assert "# Runner-up stories, best first." in text
    assert (
        "  # 1." in text and "· Cluster · 2020-10-02 · news · over the limit of 4 stories" in text
    )
    issue = load_issue(result.path)
    assert issue.subject == "October story 5 | Test News, October 2020"
    assert issue.preheader == "About october story 5."
    assert issue.stories()[0].title == "October story 5"
    assert sorted(issue.offered) == sorted(october(n).id for n in range(6))
    assert max(len(line) for line in text.splitlines()) < 200  # one short line per field


def test_a_redraft_keeps_every_hand_edit_and_only_adds_alternates(project: Project) -> None:
    path = draft(project, "2020-10").path
    text = path.read_text()
    lines = text.splitlines(keepends=True)
    # Hand edits: subject, an override, a comment, a pin, a deleted story, a reordered one.
    text = text.replace(
        "subject: October story 5 | Test News, October 2020",
        "subject: Our own subject line  # written by hand",
    )
    text = text.replace(
        "        title: October story 4\n",
        "        title: October story 4\n        overrides:\n          title: A better title\n"
        "        pin: true\n",
    )
    text = text.replace("intro: ''", "intro: |\n  Dear members,\n\n  welcome.")
    stories = _story_blocks(text)
    deleted = stories[2]
    text = text.replace(deleted, "")
    text = text.replace(stories[0], "@@").replace(stories[1], stories[0]).replace("@@", stories[1])
    assert text != "".join(lines)
    path.write_text(text)

    unchanged = draft(project, "2020-10")
    assert not unchanged.changed and path.read_text() == text

    store(project, item("Fresh news", "2020-10-30T09:00:00"))
    result = draft(project, "2020-10")
    assert result.changed and not result.created
    after = path.read_text()
    added = only_additions(text, after)
    assert "    title: Fresh news" in added
    assert any(line.strip().startswith("# ") and "Cluster" in line for line in added)
    issue = load_issue(path)
    assert issue.subject == "Our own subject line"
    assert issue.intro == "Dear members,\n\nwelcome."
    assert [s.title for s in issue.stories()][:2] == ["A better title", "October story 5"]
    deleted_id = next(ln for ln in deleted.splitlines() if "- id:" in ln).split()[-1].strip("'")
    assert deleted_id not in {s.id for s in issue.stories() + issue.alternates}
    assert issue.alternates[-1].title == "Fresh news"
    assert issue.stories()[0].pin is True


def _story_blocks(text: str) -> list[str]:
    """The text blocks of the stories in the first section, in order."""
    body = text.split("    stories:\n", 1)[1].split("\n# Runner-up", 1)[0]
    blocks = body.split("      - id:")[1:]
    return ["      - id:" + b.split("\n  - title:")[0].rstrip("\n") + "\n" for b in blocks]


def test_an_offered_id_removed_by_hand_is_suggested_again(project: Project) -> None:
    path = draft(project, "2020-10").path
    issue = load_issue(path)
    dropped = issue.alternates[0].id
    text = path.read_text()
    start = text.index("alternates:\n")
    path.write_text(text[:start] + "offered:\n" + "".join(
        f"  - {i}\n" for i in issue.offered if i != dropped
    ))  # fmt: skip
    result = draft(project, "2020-10")
    assert result.added == [dropped]


def test_the_sample_issue_keeps_its_edits(sample_project: Path) -> None:
    """The committed 2020-10 issue (hand-written subject, intro, alt text, order)."""
    project = Project.at(sample_project)
    path = project.issue_path("2020-10")
    original = path.read_text()
    issue = load_issue(path, resolve=False)
    snapshots = [
        NewsItem.model_validate(
            {**s.model_dump(exclude={"pin", "overrides", "cta"}), "summary": s.summary}
        )
        for s in issue.stories()
    ]
    new = item("Cluster welcomes new members", "2020-10-21T09:00:00", "Oslo Cancer Cluster")
    store(project, *snapshots)
    assert not draft(project, "2020-10").changed
    assert path.read_text() == original

    store(project, new)
    result = draft(project, "2020-10")
    assert result.added == [new.id]
    added = only_additions(original, path.read_text())
    assert "    title: Cluster welcomes new members" in added
    again = load_issue(path)
    assert again.subject == issue.subject and again.intro == issue.intro
    assert [s.id for s in again.stories()] == [s.id for s in issue.stories()]
    assert again.stories()[0].image == issue.stories()[0].image


def test_stories_added_by_id_get_their_snapshot(project: Project) -> None:
    path = draft(project, "2020-10").path
    extra = item("Staff pick from September", "2020-09-20T09:00:00", kind=Kind.event,
                 event_date=date(2020, 11, 20))  # fmt: skip
    store(project, extra)
    text = path.read_text().replace(
        "    stories:\n",
        f"    stories:\n      - {{id: {extra.id}, pin: true}}\n      - id: nope\n",
        1,
    )
    path.write_text(text)
    result = draft(project, "2020-10")
    assert result.filled == [extra.id]
    nope_line = next(n for n, ln in enumerate(path.read_text().splitlines(), 1) if "nope" in ln)
    assert result.warnings == [
        f"{path}: line {nope_line}, sections.0.stories.1: story nope is not in the store, so its "
        "title and link cannot be filled in; add them by hand"
    ]
    data = YAML(typ="safe").load(path.read_text())
    first = data["sections"][0]["stories"][0]
    assert list(first)[:4] == ["id", "pin", "title", "url"]
    assert first["title"] == "Staff pick from September" and first["kind"] == "event"
    assert result.report is not None
    assert [p.key for p in result.report.errors] == [
        "sections.0.stories.1.title", "sections.0.stories.1.url",
    ]  # fmt: skip


def test_force_starts_over_but_keeps_pinned_stories(project: Project) -> None:
    path = draft(project, "2020-10").path
    issue = load_issue(path)
    last = issue.stories()[-1]
    text = path.read_text().replace("subject: ", "subject: Hand written ", 1)
    text = text.replace(f"- id: '{last.id}'\n", f"- id: '{last.id}'\n        pin: true\n", 1)
    path.write_text(text)
    result = draft(project, "2020-10", force=True, max_stories=2)
    again = load_issue(path)
    assert result.created and not again.subject.startswith("Hand written")
    assert [s.id for s in again.stories()] == [s.id for s in issue.stories()[:2]] + [last.id]
    assert again.stories()[-1].pin is True
    assert last.id not in {s.id for s in again.alternates}


def test_a_malformed_file_is_never_overwritten(project: Project) -> None:
    path = project.issue_path("2020-10")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("month: 2020-10\nsubject: [oops\n")
    with pytest.raises(IssueFileError, match=r"2020-10.yaml:\d+: malformed YAML") as info:
        draft(project, "2020-10")
    assert "--force" in (info.value.hint or "")
    assert path.read_text() == "month: 2020-10\nsubject: [oops\n"
    result = draft(project, "2020-10", force=True)
    assert result.created and "starting over" in result.warnings[0]


def test_a_hand_typed_send_date_in_the_wrong_format(project: Project) -> None:
    path = draft(project, "2020-10").path
    path.write_text(path.read_text().replace("send_at: 2020-11-01", "send_at: 1.11.2020"))
    line = next(n for n, ln in enumerate(path.read_text().splitlines(), 1) if "1.11.2020" in ln)
    with pytest.raises(IssueFileError, match=f"line {line}, send_at: '1.11.2020' is not a date"):
        draft(project, "2020-10")
    # An explicit --send-date replaces it.
    draft(project, "2020-10", send_date=date(2020, 11, 3))
    assert load_issue(path).send_date == date(2020, 11, 3)


def test_earlier_issues_hold_back_their_stories(tmp_path: Path) -> None:
    project = make_project(tmp_path, SECTION_RULES)
    call = item("Open call", "2020-10-20T09:00:00", "Institute", kind=Kind.call,
                deadline=date(2020, 12, 15))  # fmt: skip
    store(project, call, item("October news", "2020-10-10T09:00:00"))
    assert draft(project, "2020-10", send_date=date(2020, 11, 3)).stories == 2
    store(project, item("November news", "2020-11-10T09:00:00"))
    result = draft(project, "2020-11")
    issue = load_issue(result.path)
    assert [s.title for s in issue.stories()] == ["November news"]
    assert "already in the 2020-10 issue" in result.selection.decision(call.id).reason  # type: ignore[union-attr]


def test_the_command_line(tmp_path: Path) -> None:
    project = make_project(tmp_path, SECTION_RULES)
    store(
        project,
        item("Call: UiO Growth House seed funding", "2024-03-04T09:00:00", "Institute",
             kind=Kind.call, deadline=date(2024, 4, 4)),
        item("Nominate a scientist", "2024-03-01T09:00:00", "Institute", kind=Kind.award,
             deadline=date(2024, 3, 6)),
    )  # fmt: skip
    run = cli("draft", "2024-03", "--send-date", "2024-03-10", "--explain", cwd=project.root)
    assert run.returncode == 0, run.stderr
    assert "dropped: deadline 2024-03-06 is before the send date 2024-03-10" in run.stdout
    assert "chosen → Calls & deadlines" in run.stdout
    assert "with 1 story and 0 alternates" in run.stdout

    run = cli("validate", "2024-03", cwd=project.root)
    assert run.returncode == 0 and "ok:" in run.stdout, run.stdout + run.stderr

    path = project.issue_path("2024-03")
    path.write_text(path.read_text().replace("send_at: 2024-03-10", "send_at: 2024-04-10"))
    run = cli("validate", "2024-03", cwd=project.root)
    assert run.returncode == 5 and "Traceback" not in run.stderr
    assert "2024-03.yaml: 1 problem(s)" in run.stderr
    assert "sections.0.stories.0.deadline: deadline 2024-04-04 is in the past" in run.stderr
    run = cli("build", "2024-03", cwd=project.root)
    assert run.returncode == 5 and "deadline 2024-04-04 is in the past" in run.stderr

    run = cli("draft", "2024-03", "--send-date", "10/03/2024", cwd=project.root)
    assert run.returncode == 2 and "is not a date; write it as YYYY-MM-DD" in run.stderr
    assert "Traceback" not in run.stderr


def test_items_shows_scores_for_a_month(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    store(project, item("Scored story", "2020-10-10T09:00:00"))
    run = cli("items", "--month", "2020-10", cwd=project.root)
    assert run.returncode == 0, run.stderr
    scores = score_month(project.config, "2020-10", [item("Scored story", "2020-10-10T09:00:00")])
    row = next(line for line in run.stdout.splitlines() if "Scored story" in line)
    assert f"{next(iter(scores.values())):.2f}" in row
    assert "score" in run.stdout
