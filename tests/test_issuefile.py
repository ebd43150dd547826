from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsletter.errors import IssueFileError
from newsletter.issuefile import load_issue, save_issue
from newsletter.models import Issue, Section, Story


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


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "2020-10.yaml"
    save_issue(sample_issue(), path)
    assert load_issue(path) == sample_issue()
    text = path.read_text()
    assert "intro: |" in text and "published: 2020-10-05 08:00:00+00:00" in text


def test_validation_error_names_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / "2020-10.yaml"
    save_issue(sample_issue(), path)
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


def test_month_must_match_file_name(tmp_path: Path) -> None:
    path = tmp_path / "2020-11.yaml"
    save_issue(sample_issue(), path)
    with pytest.raises(IssueFileError, match="month is 2020-10"):
        load_issue(path)
