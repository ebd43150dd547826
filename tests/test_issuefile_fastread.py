"""The quick first read of an issue file gives the round-trip read's values, or steps aside.

``load_issue`` builds from libyaml's read when it means the same as the round-trip read; any
doubt (an error, a number where text belongs) hands the file to the round-trip read, whose
values and messages are the authority.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.errors import IssueFileError
from newsletter.issuefile import load_issue, read_yaml, validate_issue
from newsletter.issuefile.bounded import fast_values
from newsletter.issuefile.yamlio import plain

ROOT = Path(__file__).resolve().parent.parent
ISSUE_FILES = [*sorted((ROOT / "issues").glob("*.yaml")), ROOT / "tests/golden/issues/2024-03.yaml"]

SNIPPETS = {
    "timestamp with zone": "published: 2024-03-01T09:00:00+01:00\nt: 2024-03-01 09:00:00\n",
    "YAML 1.2 words": "title: no\nb: on\nc: yes\nd: 010\ne: 1_000\nf: 1:20\ng: 0o10\nh: ~\n",
    "blocks": "a: |\n  line one\n  line two\n\nb: >-\n  folded\n  more\n",
    "dates": "month: 2024-05\nsend_date: 2024-05-02\n",
    "quoted id": 'sections:\n  - stories:\n      - id: "123"\n        offered: ["1", "2"]\n',
}


def write(tmp_path: Path, text: str, name: str = "2024-05.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("path", ISSUE_FILES, ids=lambda p: p.name)
def test_the_project_issue_files_read_the_same_both_ways(path: Path) -> None:
    assert fast_values(path) == plain(read_yaml(path))


@pytest.mark.parametrize("text", SNIPPETS.values(), ids=list(SNIPPETS))
def test_tricky_values_read_the_same_both_ways(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    assert fast_values(path) == plain(read_yaml(path))


@pytest.mark.parametrize(
    "text",
    [
        "sections:\n  - stories:\n      - id: 564729e573423053\n",
        "sections:\n  - stories:\n      - id: 12\n        offered: [1, 2]\n",
        "1: one\n",
        "a: &x 1\nb: *x\n",
        "a: 1\na: 2\n",
        "a: !python/object:os.system ls\n",
        "a: [unclosed\n",
    ],
    ids=["numeric id", "numeric offered", "number key", "alias", "duplicate", "tag", "syntax"],
)
def test_it_steps_aside_where_it_could_mean_something_else(tmp_path: Path, text: str) -> None:
    assert fast_values(write(tmp_path, text)) is None


def test_an_id_that_looks_like_a_number_is_built_as_written(tmp_path: Path) -> None:
    text = (ROOT / "issues/2024-03.yaml").read_text(encoding="utf-8")
    path = write(tmp_path, text.replace("76aada2344a4a6a0", "564729e573423053"), "2024-03.yaml")
    assert fast_values(path) is None
    issue = load_issue(path)
    assert [story.id for section in issue.sections for story in section.stories] == [
        "564729e573423053"
    ]
    assert issue.offered == ["564729e573423053"]


@pytest.mark.parametrize("path", ISSUE_FILES, ids=lambda p: p.name)
def test_building_reads_what_validation_reads(path: Path) -> None:
    report = validate_issue(path)
    assert report.issue is not None
    assert load_issue(path) == report.issue.resolved()


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("month: 2024-05\nsubject: Hi\nsend_date: 2024-13-40\nsections: []\n", ":3:"),
        ("month: 2024-05\nsubject: Hi\nsubject: Again\nsections: []\n", ":3:"),
        ("month: 2024-05\na: &x 1\nb: *x\n", ":3:"),
    ],
    ids=["bad date", "duplicate key", "alias"],
)
def test_a_broken_file_gets_the_round_trip_message(tmp_path: Path, text: str, needle: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(IssueFileError) as raised:
        load_issue(path)
    assert needle in str(raised.value)
    assert round_trip_message(path) in str(raised.value)


def round_trip_message(path: Path) -> str:
    try:
        return validate_issue(path).message()
    except IssueFileError as exc:
        return str(exc)
