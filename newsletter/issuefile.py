"""Issue files: ``issues/YYYY-MM.yaml``, read and written with ruamel.yaml.

The file is self-contained (every story is a snapshot), readable in a pull-request diff,
and edited by hand. Validation errors name the file, the line and the key.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarstring import LiteralScalarString

from newsletter.errors import IssueFileError
from newsletter.models import Issue

HEADER = """\
Newsletter issue {month}. This file is yours to edit: reorder, delete or rewrite stories,
change the subject and intro. `newsletter build {month}` renders it; `newsletter draft {month}`
adds new candidates without touching your edits.
"""


def _yaml() -> YAML:
    yaml = YAML()  # round-trip: keeps comments, order and formatting of hand edits
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096  # long URLs and summaries stay on one line each, for readable diffs
    yaml.preserve_quotes = True
    return yaml


def read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise IssueFileError(f"{path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise IssueFileError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    try:
        return _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise IssueFileError(f"{where}: malformed YAML: {exc.problem or exc.context}") from exc
    except YAMLError as exc:
        raise IssueFileError(f"{path}: malformed YAML: {exc}") from exc


def _plain(node: Any) -> Any:
    """ruamel's round-trip nodes to plain Python values for validation."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, datetime):
        return datetime.fromisoformat(node.isoformat()) if node.tzinfo else node
    if isinstance(node, str):
        return str(node)
    return node


def line_of(data: Any, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the deepest node on ``loc`` that the YAML tree knows."""
    line = None
    node = data
    for key in loc:
        try:
            if isinstance(node, CommentedMap) and key in node:
                line = node.lc.key(key)[0] + 1
            elif isinstance(node, CommentedSeq) and isinstance(key, int) and key < len(node):
                line = node.lc.item(key)[0] + 1
            else:
                break
            node = node[key]
        except (KeyError, IndexError, TypeError, AttributeError):
            break
    return line


def validation_message(path: Path, data: Any, exc: ValidationError) -> str:
    lines = [f"{path}: {exc.error_count()} problem(s)"]
    for err in exc.errors():
        loc = tuple(err["loc"])
        line = line_of(data, loc)
        key = ".".join(str(p) for p in loc) or "(top level)"
        where = f"line {line}, " if line else ""
        lines.append(f"  - {where}{key}: {err['msg']}")
    return "\n".join(lines)


def load_issue(path: Path) -> Issue:
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise IssueFileError(f"{path}: expected a mapping with month, subject and sections")
    try:
        issue = Issue.model_validate(_plain(data))
    except ValidationError as exc:
        raise IssueFileError(validation_message(path, data, exc)) from exc
    if issue.month != path.stem:
        raise IssueFileError(
            f"{path}:{line_of(data, ('month',)) or 1}: month is {issue.month} but the file is "
            f"named {path.name}",
            hint="rename the file or fix the month",
        )
    return issue


def issue_to_yaml(issue: Issue) -> CommentedMap:
    """The issue as a YAML tree: None values dropped, the intro as a literal block."""
    data = issue.model_dump(mode="json", exclude_none=True, exclude_defaults=False)
    tree: CommentedMap = _to_tree(data)
    if issue.intro:
        tree["intro"] = LiteralScalarString(issue.intro.rstrip() + "\n")
    tree.yaml_set_start_comment(HEADER.format(month=issue.month))
    return tree


DATE_KEYS = {"published": datetime.fromisoformat, "deadline": date.fromisoformat,
             "event_date": date.fromisoformat, "send_date": date.fromisoformat}  # fmt: skip


def _to_tree(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        tree = CommentedMap()
        for k, v in value.items():
            if v in (None, [], "") and k not in ("sections", "stories", "subject"):
                continue
            tree[k] = _to_tree(v, k)
        return tree
    if isinstance(value, list):
        return CommentedSeq(_to_tree(v) for v in value)
    if isinstance(value, str) and key in DATE_KEYS:
        # dates stay YAML timestamps, not quoted strings, so they read naturally
        return DATE_KEYS[key](value)
    return value


def dump_yaml(tree: Any) -> str:
    buffer = io.StringIO()
    _yaml().dump(tree, buffer)
    return buffer.getvalue()


def save_issue(issue: Issue, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(dump_yaml(issue_to_yaml(issue)), encoding="utf-8")
    tmp.replace(path)
