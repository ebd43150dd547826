"""Issue files: round trip, validation with file/line/key, overrides."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from newsletter.errors import IssueFileError
from newsletter.issuefile import (
    Level,
    dump_yaml,
    issue_to_yaml,
    load_issue,
    read_yaml,
    validate_issue,
    write_text,
)
from newsletter.models import Image, Issue, Section, Story, StoryOverrides
from tests.conftest import REPO


def sample_issue() -> Issue:
    story = Story(
        id="a1",
        title="Students met their mentors",
        url="https://example.org/a",
        published=datetime(2020, 10, 5, 8, tzinfo=UTC),
        summary="Thirty-two students.",
    )
    return Issue(
        month="2020-10",
        subject="Mentors",
        intro="Welcome to **October**.\n\nSecond paragraph.",
        sections=[Section(title="News", stories=[story])],
    )


def line_with(text: str, needle: str, start: int = 1) -> int:
    lines = text.splitlines()
    return next(i for i, line in enumerate(lines, 1) if i >= start and needle in line)


def problems(path: Path, level: Level = Level.error) -> list[str]:
    return [str(p) for p in validate_issue(path).problems if p.level is level]


SAMPLE = """\
month: 2024-03
subject: Growth House funding
send_date: 2024-03-10
sections:
  - title: Calls & deadlines
    stories:
      - id: growth
        title: 'Call: UiO Growth House seed funding'
        url: https://www.ous-research.no/home/icr/news/growth
        kind: call
        deadline: 2024-04-04
      - id: awards
        title: Nominate a scientist
        url: https://www.ous-research.no/home/icr/news/awards
        kind: award
        deadline: 2024-03-06
"""


def write(tmp_path: Path, text: str, name: str = "2024-03.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "2020-10.yaml"
    write_text(path, dump_yaml(issue_to_yaml(sample_issue())))
    assert load_issue(path) == sample_issue()
    text = path.read_text()
    assert "intro: |" in text and "published: 2020-10-05 08:00:00+00:00" in text
    assert "pin: false" not in text and "  overrides:" not in text


def test_the_edited_sample_issue_round_trips_byte_for_byte() -> None:
    path = REPO / "issues" / "2020-10.yaml"
    assert dump_yaml(read_yaml(path)) == path.read_text()
    assert validate_issue(path).problems == []


def test_validation_error_names_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / "2020-10.yaml"
    write_text(path, dump_yaml(issue_to_yaml(sample_issue())))
    text = path.read_text().replace("url: https://example.org/a", "url: javascript:alert(1)")
    path.write_text(text)
    lineno = next(i for i, line in enumerate(text.splitlines(), 1) if "javascript" in line)
    with pytest.raises(IssueFileError) as info:
        load_issue(path)
    assert f"line {lineno}, sections.0.stories.0.url" in str(info.value)


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "2020-10.yaml"
    path.write_text("month: 2020-10\nsubject: [unclosed\nsections: []\n")
    with pytest.raises(IssueFileError, match=r"2020-10.yaml:\d+: malformed YAML"):
        load_issue(path)


def test_a_duplicate_key_is_malformed_yaml_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, SAMPLE.replace("subject: Growth", "subject: A\nsubject: Growth"))
    with pytest.raises(IssueFileError, match=r"2024-03.yaml:3: malformed YAML.*duplicate key"):
        validate_issue(path)


def test_month_must_match_file_name(tmp_path: Path) -> None:
    path = tmp_path / "2020-11.yaml"
    write_text(path, dump_yaml(issue_to_yaml(sample_issue())))
    with pytest.raises(IssueFileError, match="month: is 2020-10 but the file is named 2020-11"):
        load_issue(path)


def test_a_past_deadline_is_an_error_on_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, SAMPLE)
    line = line_with(SAMPLE, "deadline: 2024-03-06")
    assert problems(path) == [
        f"line {line}, sections.0.stories.1.deadline: deadline 2024-03-06 is in the past on the "
        "send date 2024-03-10; remove the story or change send_date"
    ]
    with pytest.raises(IssueFileError, match=f"(?s)2024-03.yaml: 1 problem.*line {line}"):
        load_issue(path)
    # Sent before the 6th, it is fine.
    path.write_text(SAMPLE.replace("send_date: 2024-03-10", "send_date: 2024-03-05"))
    assert problems(path) == []


def test_a_past_event_is_an_error(tmp_path: Path) -> None:
    text = SAMPLE.replace("kind: award\n        deadline: 2024-03-06",
                          "kind: event\n        event_date: 2024-03-08")  # fmt: skip
    path = write(tmp_path, text)
    assert problems(path) == [
        f"line {line_with(text, 'event_date')}, sections.0.stories.1.event_date: the event on "
        "2024-03-08 is over by the send date 2024-03-10; remove the story or change send_date"
    ]


def test_each_problem_is_reported_with_line_and_key(tmp_path: Path) -> None:
    text = (
        SAMPLE.replace("subject: Growth House funding\n", "")
        .replace("deadline: 2024-03-06", "deadline: 2024-04-06\n        titel: typo")
        .replace("id: awards", "id: growth")
        .replace("url: https://www.ous-research.no/home/icr/news/awards",
                 "url: http://www.ous-research.no/home/icr/news/awards")
        .replace("        title: 'Call: UiO Growth House seed funding'\n", "")
    )  # fmt: skip
    path = write(tmp_path, text)
    story0 = line_with(text, "- id: growth")
    story1 = line_with(text, "- id: growth", story0 + 1)
    assert problems(path) == [
        "line 1, subject: missing: every issue needs a subject line",
        f"line {story0}, sections.0.stories.0.title: missing: every story needs a title "
        "(`newsletter draft` fills in the snapshot of a story that is in the store)",
        f"line {story1}, sections.0.stories.1.id: duplicate story: growth is already in this "
        f"issue (line {story0}); delete one",
        f"line {line_with(text, 'titel')}, sections.0.stories.1.titel: unknown key 'titel'; "
        "did you mean 'title'?",
    ]
    assert problems(path, Level.warning) == [
        f"line {line_with(text, 'http://')}, sections.0.stories.1.url: link is not https: "
        "http://www.ous-research.no/home/icr/news/awards"
    ]


def test_a_long_subject_and_unknown_keys_everywhere(tmp_path: Path) -> None:
    text = (
        SAMPLE.replace("subject: Growth House funding", "subject: " + "x" * 151 + "\nsubjct: y")
        .replace("kind: call", "kind: call\n        image:\n          url: https://e.org/i.jpg\n"
                 "          alt_text: nope\n        overrides:\n          headline: New")
    )  # fmt: skip
    path = write(tmp_path, text)
    found = problems(path)
    assert found[0] == (
        "line 2, subject: is 151 characters, more than the 150 a subject may have; inboxes cut "
        "it after about 78"
    )
    assert found[1].startswith("line 3, subjct: unknown key 'subjct'; did you mean 'subject'?")
    assert f"line {line_with(text, 'alt_text')}, sections.0.stories.0.image.alt_text: unknown " \
           "key 'alt_text'; did you mean 'alt'?" in found  # fmt: skip
    assert any(
        p.startswith(f"line {line_with(text, 'headline')}, sections.0.stories.0.overrides."
                     "headline: unknown key 'headline'; known keys: title, summary, image")
        for p in found
    )  # fmt: skip


@pytest.mark.parametrize(
    ("before", "after", "key", "message"),
    [
        ("send_date: 2024-03-10", "send_date: 10.03.2024", "send_date",
         "'10.03.2024' is not a date; write it as YYYY-MM-DD, for example 2024-03-10, or with "
         "a time of day and its offset from UTC, 2024-03-10T09:00+01:00"),
        ("send_date: 2024-03-10", "send_at: 2024-03-10T09:00", "send_at",
         "2024-03-10T09:00 has no offset from UTC; write it like 2024-03-10T09:00+01:00"),
        ("send_date: 2024-03-10", "send_at: 2024-03-10 09:00:00", "send_at",
         "2024-03-10 09:00:00 has no offset from UTC; write it like 2024-03-10T09:00+01:00"),
        ("send_date: 2024-03-10", "status: final", "status",
         "'final' is not allowed here; use 'draft', 'approved' or 'sent'"),
        ("deadline: 2024-04-04", "deadline: 4 April 2024", "sections.0.stories.0.deadline",
         "'4 April 2024' is not a date; write it as YYYY-MM-DD, for example 2024-03-10"),
        ("kind: call", "kind: call\n        published: 2024-03-04 09:00",
         "sections.0.stories.0.published",
         "2024-03-04 09:00 has no time zone; write it like 2020-10-13 07:30:00+00:00"),
        ("month: 2024-03", "month: March", "month",
         "'March' is not a month; write it as YYYY-MM, for example 2024-03"),
        ("kind: call", "kind: grant", "sections.0.stories.0.kind",
         "'grant' is not allowed here; use 'news', 'event', 'call' or 'award'"),
    ],
)  # fmt: skip
def test_hand_typed_values_in_the_wrong_format(
    tmp_path: Path, before: str, after: str, key: str, message: str
) -> None:
    text = SAMPLE.replace("        deadline: 2024-03-06\n", "        deadline: 2024-04-06\n")
    text = text.replace(before, after)
    path = write(tmp_path, text)
    line = line_with(text, after.splitlines()[-1].strip())
    assert f"line {line}, {key}: {message}" in problems(path)


def test_not_a_mapping_and_a_wrong_shape(tmp_path: Path) -> None:
    path = write(tmp_path, "- just\n- a list\n")
    assert problems(path) == [
        "line 1, (top level): expected a mapping with month, subject and sections"
    ]
    path = write(tmp_path, "month: 2024-03\nsubject: Hi\nsections: 3\n")
    assert problems(path) == ["line 3, sections: Input should be a valid list"]


def test_stories_missing_from_the_store_are_a_warning(tmp_path: Path) -> None:
    path = write(tmp_path, SAMPLE.replace("deadline: 2024-03-06", "deadline: 2024-04-06"))
    report = validate_issue(path, known=lambda story_id: story_id == "growth")
    assert report.errors == []
    assert [str(p) for p in report.warnings] == [
        f"line {line_with(SAMPLE, 'id: awards')}, sections.0.stories.1.id: story awards is not "
        "in the store; the snapshot in this file is used"
    ]
    assert report.issue is not None and len(report.issue.stories()) == 2


def test_http_links_in_the_intro_are_a_warning(tmp_path: Path) -> None:
    text = SAMPLE.replace(
        "send_date: 2024-03-10",
        "send_date: 2024-03-01\nintro: |\n  See [this](http://example.org/x).",
    )
    path = write(tmp_path, text)
    assert problems(path, Level.warning) == [
        "line 4, intro: link is not https: http://example.org/x"
    ]


def test_overrides_win_over_the_snapshot_when_built(tmp_path: Path) -> None:
    story = Story(
        id="s",
        title="Source title",
        url="https://example.org/s",
        summary="Source summary.",
        image=Image(url="https://example.org/a.jpg", alt="Old alt", credit="Photo: X"),
        overrides=StoryOverrides(title="Our title", alt="A better description", cta="Apply"),
    )
    effective = story.effective()
    assert (effective.title, effective.summary, effective.cta) == (
        "Our title", "Source summary.", "Apply",
    )  # fmt: skip
    assert effective.image == Image(
        url="https://example.org/a.jpg", alt="A better description", credit="Photo: X"
    )
    swapped = story.model_copy(
        update={"overrides": StoryOverrides(image="https://example.org/b.jpg", summary="Short.")}
    ).effective()
    assert swapped.image == Image(url="https://example.org/b.jpg", alt="")
    assert swapped.summary == "Short." and swapped.title == "Source title"

    issue = Issue(month="2020-10", subject="S", sections=[Section(title="N", stories=[story])])
    path = tmp_path / "2020-10.yaml"
    write_text(path, dump_yaml(issue_to_yaml(issue)))
    assert "overrides:\n          title: Our title" in path.read_text()
    built = load_issue(path)
    assert built.lead is built.sections[0].stories[0]
    assert built.lead is not None and built.lead.title == "Our title"
    assert load_issue(path, resolve=False).stories()[0].title == "Source title"


def test_overrides_are_validated_too(tmp_path: Path) -> None:
    text = SAMPLE.replace(
        "kind: call", "kind: call\n        overrides:\n          image: javascript:x\n"
        "          title: ''"
    ).replace("deadline: 2024-03-06", "deadline: 2024-04-06")  # fmt: skip
    path = write(tmp_path, text)
    found = problems(path)
    assert found[0].startswith(
        f"line {line_with(text, 'image: javascript')}, sections.0.stories.0.overrides.image: "
        "must be an http(s) URL"
    )
    title = line_with(text, "title: ''")
    assert found[1] == f"line {title}, sections.0.stories.0.overrides.title: is empty"


def test_a_story_can_be_pinned_and_keeps_the_send_date_type(tmp_path: Path) -> None:
    text = SAMPLE.replace("id: growth", "id: growth\n        pin: true").replace(
        "deadline: 2024-03-06", "deadline: 2024-04-06"
    )
    issue = load_issue(write(tmp_path, text))
    assert issue.stories()[0].pin is True and issue.send_date == date(2024, 3, 10)
