"""Issue files nobody here wrote: alias bombs, deep nesting, huge or non-UTF-8 files, ids that
look like numbers. Each is refused (or read correctly) with a message naming file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.editor import draft
from newsletter.errors import IssueFileError
from newsletter.issuefile import (
    MAX_BYTES,
    MAX_DEPTH,
    load_issue,
    quick_load,
    read_yaml,
    validate_issue,
)
from newsletter.project import Project
from tests.clirun import CliResult, cli, cli_process
from tests.factories import draft_project as make_project
from tests.factories import news_item as item
from tests.factories import store_items as store

BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
month: 2024-05
subject: Hello
"""


def aliased_stories() -> str:
    """An ordinary-looking issue (some 11 KB) whose later sections nest aliases of its stories."""
    summary = "A paragraph about the story, as a source would publish it. " * 3
    stories = "".join(
        f"      - id: s{n}\n        title: Story {n}\n"
        f"        url: https://example.org/{n}\n        summary: {summary}\n"
        for n in range(30)
    )
    text = "month: 2024-05\nsubject: Hello\nsections:\n  - title: First\n    stories: &l0\n"
    text += stories
    for n in range(1, 9):
        refs = ", ".join([f"*l{n - 1}"] * 9)
        text += f"  - title: Section {n}\n    stories: &l{n} [{refs}]\n"
    return text


def first_line(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def deep_flow(depth: int = 5000) -> str:
    return "month: 2024-05\nsubject: Hello\nsections: " + "[" * depth + "]" * depth + "\n"


def deep_block(depth: int = 300) -> str:
    lines = ["month: 2024-05", "subject: Hello"]
    lines += [" " * level + f"k{level}:" for level in range(depth)]
    return "\n".join(lines) + " x\n"


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_project(tmp_path)


def write(project: Project, text: str | bytes, month: str = "2024-05") -> Path:
    path = project.issue_path(month)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def run(project: Project, *args: str, process: bool = False) -> CliResult:
    """The command line; as a real process (``process``), a hang fails on its timeout."""
    if process:
        return cli_process(*args, cwd=project.root, timeout=60)
    return cli(*args, cwd=project.root)


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        (BILLION_LAUGHS, 2, "YAML aliases (*a) are not allowed"),
        (aliased_stories(), first_line(aliased_stories(), "[*l0"), "aliases (*l0) are not"),
        (deep_flow(), 3, f"nested more than {MAX_DEPTH} levels deep"),
        (deep_block(), MAX_DEPTH + 2, f"nested more than {MAX_DEPTH} levels deep"),
    ],
    ids=["billion-laughs", "aliased-stories", "deep-flow", "deep-block"],
)
def test_hostile_yaml_is_refused_by_every_reader(
    project: Project, text: str, line: int, needle: str
) -> None:
    path = write(project, text)
    for read in (read_yaml, quick_load, validate_issue, load_issue):
        with pytest.raises(IssueFileError) as caught:
            read(path)
        assert caught.value.message.startswith(f"{path}:{line}: "), read
        assert needle in caught.value.message
    with pytest.raises(IssueFileError, match=r"not allowed|levels deep"):
        draft(project, "2024-05")


@pytest.mark.parametrize("command", ["validate", "build", "draft", "check"])
def test_the_billion_laughs_file_is_refused_by_each_command(project: Project, command: str) -> None:
    path = write(project, BILLION_LAUGHS)
    result = run(project, command, "2024-05", process=command == "validate")
    assert result.returncode == IssueFileError.exit_code, result.stderr
    assert f"{path}:2: YAML aliases (*a) are not allowed in an issue file" in result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


def test_deep_nesting_is_refused_by_the_command_line(project: Project) -> None:
    write(project, deep_flow(20000))
    result = run(project, "validate", "2024-05", process=True)
    assert result.returncode == IssueFileError.exit_code, result.stderr
    assert "nested more than" in result.stderr and "RecursionError" not in result.stderr


def test_an_earlier_hostile_issue_only_warns_the_next_draft(project: Project) -> None:
    """Drafting reads earlier issues for the stories they used; a bomb there is skipped."""
    write(project, BILLION_LAUGHS.replace("2024-05", "2020-09"), month="2020-09")
    store(project, item("October news", "2020-10-05T09:00:00"))
    result = draft(project, "2020-10")
    assert result.stories == 1
    assert any("2020-09.yaml:2: YAML aliases" in w for w in result.warnings), result.warnings


def test_a_file_over_the_size_cap_is_refused(project: Project) -> None:
    path = write(project, "month: 2024-05\nsubject: Hello\n" + "# padding\n" * (MAX_BYTES // 10))
    with pytest.raises(IssueFileError, match="is larger than 1 MB"):
        validate_issue(path)


@pytest.mark.parametrize(
    ("value", "why"),
    [("2024-13-45", "month must be in 1..12"), ("1" * 5000, "too many digits")],
)
def test_a_value_yaml_cannot_build_names_its_line(project: Project, value: str, why: str) -> None:
    path = write(project, f"month: 2024-05\nsubject: Hello\nsend_date: {value}\n")
    with pytest.raises(IssueFileError) as caught:
        validate_issue(path)
    assert caught.value.message.startswith(f"{path}:3: cannot read the value ")
    assert why in caught.value.message


def test_a_non_utf8_issue_file_names_its_line(project: Project) -> None:
    path = write(project, b"month: 2024-05\nsubject: Hello\nintro: Caf\xe9 society\n")
    expected = f"{path}:3: not UTF-8 text (byte 0xe9 at column 11)"
    for read in (read_yaml, quick_load, validate_issue):
        with pytest.raises(IssueFileError) as caught:
            read(path)
        assert caught.value.message == expected
    for command in ("validate", "draft"):
        result = run(project, command, "2024-05")
        assert result.returncode == IssueFileError.exit_code, (command, result.stderr)
        assert f"error: {expected}\n" in result.stderr and "internal error" not in result.stderr


NUMERIC_ID = "564729e573423053"  # a float in YAML: 564729 x 10^573423053, that is .inf


def test_ids_that_look_like_numbers_are_read_as_strings_and_kept(project: Project) -> None:
    news = item("October news", "2020-10-05T09:00:00")
    store(project, news)
    path = write(
        project,
        "month: 2020-10\nsubject: Hello\nsections:\n  - title: News\n    stories:\n"
        f"      - id: {NUMERIC_ID}\n        title: Hand written\n"
        "        url: https://example.org/hand\n      - id: 0012\n        title: Another\n"
        f"        url: https://example.org/other\noffered:\n  - {NUMERIC_ID}\n  - 1e5\n",
        month="2020-10",
    )
    issue = load_issue(path)
    assert [s.id for s in issue.stories()] == [NUMERIC_ID, "0012"]
    assert issue.offered == [NUMERIC_ID, "1e5"]
    data = quick_load(path)
    assert [s["id"] for s in data["sections"][0]["stories"]] == [NUMERIC_ID, "0012"]

    draft(project, "2020-10")  # rewrites the file: the new alternate and offered id
    text = path.read_text()
    assert ".inf" not in text and "id: 12" not in text
    again = load_issue(path)
    assert [s.id for s in again.stories()] == [NUMERIC_ID, "0012"]
    assert again.offered[:2] == [NUMERIC_ID, "1e5"] and news.id in again.offered
    assert f"- id: '{news.id}'\n" in text and f"  - '{news.id}'\n" in text  # written: quoted


def test_draft_exits_non_zero_when_the_file_has_errors(project: Project) -> None:
    store(project, item("October news", "2020-10-05T09:00:00"))
    path = write(
        project,
        "month: 2020-10\nsubject: Hello\nsections:\n  - title: News\n    stories:\n"
        "      - id: not-in-the-store\n",
        month="2020-10",
    )
    result = run(project, "draft", "2020-10")
    assert result.returncode == IssueFileError.exit_code, result.stdout
    assert f"error: {path}: 2 problems (listed above)" in result.stderr
    assert "error:" in result.stdout and "sections.0.stories.0.title" in result.stdout
    assert "October news" in path.read_text()  # the draft still wrote what it could
