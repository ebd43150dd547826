"""Issue files on disk: ruamel.yaml round-trip reading and writing, and line numbers.

Read as a round-trip tree, a file keeps its order, comments and quoting, so the draft can
add to it without disturbing anything staff wrote; written trees are one field per line,
so a pull request shows exactly what changed.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarstring import LiteralScalarString, SingleQuotedScalarString

from newsletter.errors import IssueFileError
from newsletter.issuefile.bounded import (
    ID_KEYS,
    ID_LISTS,
    Refused,
    read_issue_text,
    refused,
    round_trip_yaml,
)
from newsletter.models import Issue, Story
from newsletter.sendtime import check_send_at, send_day

HEADER = """\
Newsletter issue {month}. This file is yours to edit: reorder, delete or rewrite stories,
change the subject and intro. `newsletter build {month}` renders it; `newsletter draft {month}`
adds new candidates as alternates without touching your edits.
Per story, `overrides:` (title, summary, image, alt, cta) wins over the source's text, and
`pin: true` keeps the story even through `newsletter draft --force`.
"""
# A leading newline leaves a blank line above the comment, which sets the blocks apart.
INTRO_COMMENT = "\nOptional: a short welcome in Markdown, shown above the stories."
ALTERNATES_COMMENT = (
    "\nRunner-up stories, best first. To use one, move its block into a section's stories."
)
OFFERED_COMMENT = (
    "\nStories the draft has suggested; it will not suggest them again (delete an id to undo)."
)


def _yaml() -> YAML:
    yaml = round_trip_yaml()  # keeps comments, order and formatting of hand edits
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096  # long URLs and summaries stay on one line each, for readable diffs
    yaml.preserve_quotes = True
    return yaml


def read_yaml(path: Path) -> Any:
    """The file as a round-trip tree; refused when unsafe to read (see ``bounded``)."""
    text = read_issue_text(path)
    try:
        return _yaml().load(text)
    except Refused as exc:
        raise refused(path, exc) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise IssueFileError(
            f"{where}: malformed YAML: {exc.problem or exc.context}",
            hint="check the indentation and quoting on that line (or the one before it)",
        ) from exc
    except YAMLError as exc:
        raise IssueFileError(f"{path}: malformed YAML: {exc}") from exc


def plain(node: Any) -> Any:
    """ruamel's round-trip nodes to plain Python values for validation."""
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, datetime):
        return datetime.fromisoformat(node.isoformat()) if node.tzinfo else node
    if isinstance(node, str):
        return str(node)
    return node


def line_of(data: Any, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of ``loc``, or of the deepest node on it that the file has."""
    line = None
    node = data
    for key in loc:
        try:
            if isinstance(node, CommentedMap) and key in node:
                line = node.lc.key(key)[0] + 1
            elif isinstance(node, CommentedSeq) and isinstance(key, int) and key < len(node):
                line = node.lc.item(key)[0] + 1
            else:
                if line is None and isinstance(node, CommentedMap | CommentedSeq):
                    line = _start_line(node)
                break
            node = node[key]
        except (KeyError, IndexError, TypeError, AttributeError):
            break
    if line is None and isinstance(data, CommentedMap | CommentedSeq):
        line = _start_line(data)
    return line


def _start_line(node: CommentedMap | CommentedSeq) -> int | None:
    """Where a node starts; None for a tree built in memory rather than read from a file."""
    line = node.lc.line
    return line + 1 if isinstance(line, int) else None


def as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def send_key(data: Any) -> str | None:
    """The key the file writes its send time under (``send_at``, or the older ``send_date``)."""
    if not isinstance(data, dict):
        return None
    return next((key for key in SEND_KEYS if key in data), None)


def send_day_of(data: Any) -> date | None:
    """The day a file says it goes out; None when it has none or it is not a date."""
    key = send_key(data)
    try:
        return send_day(check_send_at(plain(data[key]))) if key else None
    except ValueError:
        return None


def iter_stories(data: Any, key: str = "sections") -> Iterator[tuple[tuple[int | str, ...], Any]]:
    """(loc, story node) for every story mapping in the sections (or the alternates)."""
    if key == "alternates":
        items = data.get("alternates")
        if isinstance(items, list):
            for j, story in enumerate(items):
                if isinstance(story, dict):
                    yield ("alternates", j), story
        return
    sections = data.get("sections")
    if not isinstance(sections, list):
        return
    for i, section in enumerate(sections):
        stories = section.get("stories") if isinstance(section, dict) else None
        if isinstance(stories, list):
            for j, story in enumerate(stories):
                if isinstance(story, dict):
                    yield ("sections", i, "stories", j), story


DATE_KEYS = {"published": datetime.fromisoformat, "deadline": date.fromisoformat,
             "event_date": date.fromisoformat, "send_at": check_send_at,
             "approved_at": datetime.fromisoformat, "sent_at": datetime.fromisoformat}  # fmt: skip
# ``send_date`` is the old name of ``send_at`` (a day only): files that have it keep it.
SEND_KEYS = ("send_at", "send_date")
STATUS_COMMENT = "draft -> approved (newsletter approve) -> sent (newsletter send)"
_KEEP_EMPTY = ("sections", "stories", "subject")


def quoted_id(value: object) -> Any:
    """An id as written: always quoted, so no YAML reader takes ``564729e5734`` for a number."""
    return SingleQuotedScalarString(str(value))


def _to_tree(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        tree = CommentedMap()
        for k, v in value.items():
            if (v in (None, [], "") and k not in _KEEP_EMPTY) or (k == "pin" and v is False):
                continue
            tree[k] = _to_tree(v, k)
        return tree
    if isinstance(value, list):
        if key in ID_LISTS:
            return CommentedSeq(quoted_id(v) for v in value)
        return CommentedSeq(_to_tree(v) for v in value)
    if key in ID_KEYS and isinstance(value, str):
        return quoted_id(value)
    if isinstance(value, str) and key in DATE_KEYS:
        # dates stay YAML timestamps, not quoted strings, so they read naturally
        return DATE_KEYS[key](value)
    return value


def story_tree(story: Story) -> CommentedMap:
    tree: CommentedMap = _to_tree(story.model_dump(mode="json", exclude_none=True))
    return tree


def issue_to_yaml(issue: Issue) -> CommentedMap:
    """The issue as a YAML tree: None values dropped, the intro as a literal block."""
    data = issue.model_dump(mode="json", exclude_none=True, exclude_defaults=False)
    tree: CommentedMap = _to_tree(data)
    keys = list(tree)
    position = keys.index("language") + 1 if "language" in keys else len(keys)
    if issue.intro:
        tree.insert(position, "intro", LiteralScalarString(issue.intro.rstrip() + "\n"))
    else:
        tree.insert(position, "intro", "")
        tree.yaml_set_comment_before_after_key("intro", before=INTRO_COMMENT)
    if issue.alternates:
        tree.yaml_set_comment_before_after_key("alternates", before=ALTERNATES_COMMENT)
    if issue.offered:
        tree.yaml_set_comment_before_after_key("offered", before=OFFERED_COMMENT)
    tree.yaml_add_eol_comment(STATUS_COMMENT, "status")
    tree.yaml_set_start_comment(HEADER.format(month=issue.month))
    return tree


def dump_yaml(tree: Any) -> str:
    buffer = io.StringIO()
    _yaml().dump(tree, buffer)
    return buffer.getvalue()


def write_text(path: Path, text: str) -> None:
    """Replace ``path`` atomically, so an interrupted write never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
