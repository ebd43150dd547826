"""Issue files: ``issues/YYYY-MM.yaml``, read, checked and written with ruamel.yaml.

The file is self-contained (every story is a snapshot), readable in a pull-request diff,
and edited by hand. It is read as a round-trip tree, so ``newsletter draft`` can add to it
without disturbing order, comments, quoting or anything staff wrote. ``validate_issue`` is
the one place that checks a file; ``load_issue`` (used by build, check and export) runs it.
Every problem names the file, the line and the key.
"""

from __future__ import annotations

import difflib
import io
import re
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarstring import LiteralScalarString

from newsletter.errors import IssueFileError
from newsletter.models import Issue, Kind, Story

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
SUBJECT_LIMIT = 150


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
        raise IssueFileError(
            f"{where}: malformed YAML: {exc.problem or exc.context}",
            hint="check the indentation and quoting on that line (or the one before it)",
        ) from exc
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


# ---------------------------------------------------------------------------- validation


class Level(StrEnum):
    error = "error"
    warning = "warning"


@dataclass
class Problem:
    level: Level
    key: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}, " if self.line else ""
        return f"{where}{self.key}: {self.message}"


@dataclass
class IssueReport:
    """What ``validate_issue`` found: the issue (when it validates) and every problem."""

    path: Path
    issue: Issue | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level is Level.error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.level is Level.warning]

    def add(self, level: Level, loc: tuple[int | str, ...], message: str, data: Any) -> None:
        key = ".".join(str(p) for p in loc) or "(top level)"
        self.problems.append(Problem(level, key, message, line_of(data, loc)))

    def message(self, level: Level = Level.error) -> str:
        found = [p for p in self.problems if p.level is level]
        noun = "problem" if level is Level.error else "warning"
        lines = [f"{self.path}: {len(found)} {noun}(s)"]
        lines += [f"  - {p}" for p in found]
        return "\n".join(lines)


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model class that validates the mapping at ``loc`` (for unknown-key hints)."""
    model: type[BaseModel] = Issue
    for part in loc:
        if isinstance(part, int):
            continue
        info = model.model_fields.get(str(part))
        if info is None:
            return None
        inner = _model_in(info.annotation)
        if inner is None:
            return None
        model = inner
    return model


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is not None:
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found:
                return found
    return None


def _friendly(err: Any) -> str:
    """A pydantic error as a sentence a non-programmer can act on."""
    kind: str = err["type"]
    loc = tuple(err["loc"])
    key = str(loc[-1]) if loc else ""
    value = err.get("input")
    if kind == "missing":
        if key == "subject":
            return "missing: every issue needs a subject line"
        if key in ("title", "url"):
            return (
                f"missing: every story needs a {key} (`newsletter draft` fills in the "
                "snapshot of a story that is in the store)"
            )
        return "missing"
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        known = list(model.model_fields) if model else []
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.5)
        if close:
            return f"unknown key {key!r}; did you mean {close[0]!r}?"
        return f"unknown key {key!r}" + (f"; known keys: {', '.join(known)}" if known else "")
    if kind == "string_too_long" and key == "subject":
        return (
            f"is {len(str(value))} characters; keep it at most {SUBJECT_LIMIT} "
            "(inboxes show about 60-78)"
        )
    if kind in ("string_too_short", "too_short"):
        return "is empty"
    if kind == "timezone_aware":
        return f"{value!s} has no time zone; write it like 2020-10-13 07:30:00+00:00"
    if kind.startswith(("date_", "datetime_")):
        if key == "published":
            return f"{value!r} is not a date and time; write it like 2020-10-13 07:30:00+00:00"
        return f"{value!r} is not a date; write it as YYYY-MM-DD, for example 2024-03-10"
    if key == "month":
        return f"{value!r} is not a month; write it as YYYY-MM, for example 2024-03"
    return str(err["msg"]).removeprefix("Value error, ")


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def _stories(data: Any, key: str = "sections") -> Iterator[tuple[tuple[int | str, ...], Any]]:
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


def _links(story: Any) -> Iterator[tuple[tuple[str, ...], str]]:
    if isinstance(story.get("url"), str):
        yield ("url",), story["url"]
    image = story.get("image")
    if isinstance(image, dict) and isinstance(image.get("url"), str):
        yield ("image", "url"), image["url"]
    overrides = story.get("overrides")
    if isinstance(overrides, dict) and isinstance(overrides.get("image"), str):
        yield ("overrides", "image"), overrides["image"]


_HTTP_LINK = re.compile(r"\bhttp://[^\s)>\]]+")


def validate_tree(
    path: Path, data: Any, *, known: Callable[[str], bool] | None = None
) -> IssueReport:
    """Check an issue file's YAML tree; ``known`` tells whether a story id is in the store."""
    report = IssueReport(path)
    if not isinstance(data, dict):
        report.add(Level.error, (), "expected a mapping with month, subject and sections", data)
        return report
    bad: set[tuple[int | str, ...]] = set()
    try:
        report.issue = Issue.model_validate(_plain(data))
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            bad.add(loc)
            report.add(Level.error, loc, _friendly(err), data)
    issue = report.issue
    if issue is not None and issue.month != path.stem:
        report.add(
            Level.error, ("month",),
            f"is {issue.month} but the file is named {path.name}; rename the file or fix the month",
            data,
        )  # fmt: skip
    _check_stories(report, data, bad, known)
    intro = data.get("intro")
    if isinstance(intro, str):
        for link in _HTTP_LINK.findall(intro):
            report.add(Level.warning, ("intro",), f"link is not https: {link}", data)
    if issue is not None and not issue.stories():
        report.add(
            Level.warning, ("sections",),
            "the issue has no stories; the email will say there is no news this month",
            data,
        )  # fmt: skip
    report.problems.sort(key=lambda p: p.line or 0)  # in file order, as an editor reads it
    return report


def _check_stories(
    report: IssueReport,
    data: Any,
    bad: set[tuple[int | str, ...]],
    known: Callable[[str], bool] | None,
) -> None:
    send = _as_date(data.get("send_date"))
    seen: dict[str, int | None] = {}
    for loc, story in _stories(data):
        story_id = story.get("id")
        if story_id is not None:
            sid = str(story_id)
            if sid in seen:
                where = f" (line {seen[sid]})" if seen[sid] else ""
                report.add(
                    Level.error, (*loc, "id"),
                    f"duplicate story: {sid} is already in this issue{where}; delete one",
                    data,
                )  # fmt: skip
            else:
                seen[sid] = line_of(data, loc)
            if known is not None and not known(sid):
                report.add(
                    Level.warning, (*loc, "id"),
                    f"story {sid} is not in the store; the snapshot in this file is used",
                    data,
                )  # fmt: skip
        title = story.get("title")
        if isinstance(title, str) and not title.strip() and (*loc, "title") not in bad:
            report.add(Level.error, (*loc, "title"), "is empty", data)
        for sub, link in _links(story):
            if (*loc, *sub) not in bad and not link.strip().lower().startswith("https://"):
                report.add(Level.warning, (*loc, *sub), f"link is not https: {link}", data)
        if send is None:
            continue
        deadline = _as_date(story.get("deadline"))
        if deadline and deadline < send:
            report.add(
                Level.error, (*loc, "deadline"),
                f"deadline {deadline} is in the past on the send date {send}; remove the "
                "story or change send_date",
                data,
            )  # fmt: skip
        event = _as_date(story.get("event_date"))
        if story.get("kind") == Kind.event.value and event and event < send:
            report.add(
                Level.error, (*loc, "event_date"),
                f"the event on {event} is over by the send date {send}; remove the story or "
                "change send_date",
                data,
            )  # fmt: skip
    for loc, story in _stories(data, "alternates"):
        if str(story.get("id")) in seen:
            report.add(
                Level.warning, (*loc, "id"),
                f"story {story.get('id')} is in a section too; delete this alternate",
                data,
            )  # fmt: skip


def validate_issue(path: Path, *, known: Callable[[str], bool] | None = None) -> IssueReport:
    """Read and check an issue file. Malformed YAML raises; everything else is reported."""
    return validate_tree(path, read_yaml(path), known=known)


def load_issue(path: Path, *, resolve: bool = True) -> Issue:
    """The issue in ``path``, validated; raise IssueFileError listing every error.

    With ``resolve`` (the default, for building), each story carries its overrides applied,
    so templates read ``story.title`` and get what staff wrote.
    """
    report = validate_issue(path)
    if report.errors or report.issue is None:
        raise IssueFileError(
            report.message(),
            hint=f"fix the lines above; `newsletter validate {path.stem}` checks again",
        )
    return report.issue.resolved() if resolve else report.issue


# ---------------------------------------------------------------------------- writing

DATE_KEYS = {"published": datetime.fromisoformat, "deadline": date.fromisoformat,
             "event_date": date.fromisoformat, "send_date": date.fromisoformat}  # fmt: skip
_KEEP_EMPTY = ("sections", "stories", "subject")


def _to_tree(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        tree = CommentedMap()
        for k, v in value.items():
            if (v in (None, [], "") and k not in _KEEP_EMPTY) or (k == "pin" and v is False):
                continue
            tree[k] = _to_tree(v, k)
        return tree
    if isinstance(value, list):
        return CommentedSeq(_to_tree(v) for v in value)
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


def save_issue(issue: Issue, path: Path) -> None:
    write_text(path, dump_yaml(issue_to_yaml(issue)))


# ---------------------------------------------------------------------------- round trip
# `newsletter draft` on an existing file edits the tree in place: it only appends
# alternates and offered ids, fills in the snapshot of stories staff added by id, and sets
# send_date when asked. Everything else staff wrote is left exactly as it was.


def story_ids(tree: Any, *keys: str) -> list[str]:
    """Ids of the stories in ``keys`` (default: the sections, then the alternates)."""
    return [
        str(story["id"])
        for key in keys or ("sections", "alternates")
        for _, story in _stories(tree, key)
        if story.get("id") is not None
    ]


def offered_ids(tree: Any) -> list[str]:
    offered = tree.get("offered")
    return [str(i) for i in offered] if isinstance(offered, list) else []


def incomplete_stories(tree: Any) -> list[tuple[tuple[int | str, ...], CommentedMap]]:
    """Stories staff added by id only (no title or url yet), for the draft to fill in."""
    return [
        (loc, story)
        for key in ("sections", "alternates")
        for loc, story in _stories(tree, key)
        if story.get("id") is not None and not (story.get("title") and story.get("url"))
    ]


def fill_snapshot(node: CommentedMap, story: Story) -> None:
    """Add the snapshot keys ``node`` lacks, after what staff wrote; keep what it has."""
    if hasattr(node, "fa"):
        node.fa.set_block_style()
    for key, value in story_tree(story).items():
        if key not in node:
            node[key] = value


def _top_level_seq(tree: CommentedMap, key: str, comment: str, before: str | None) -> Any:
    seq = tree.get(key)
    if isinstance(seq, list):
        return seq
    if seq is not None:
        raise IssueFileError(
            f"line {line_of(tree, (key,))}, {key}: expected a list",
            hint="fix it, or pass --force to draft the issue over",
        )
    seq = CommentedSeq()
    keys = list(tree)
    if before in keys:
        tree.insert(keys.index(before), key, seq)
    else:
        tree[key] = seq
    tree.yaml_set_comment_before_after_key(key, before=comment)
    return seq


def add_alternates(tree: CommentedMap, stories: list[tuple[Story, str]]) -> None:
    """Append stories (each with a one-line note) to the alternates."""
    if not stories:
        return
    seq = _top_level_seq(tree, "alternates", ALTERNATES_COMMENT, before="offered")
    for story, note in stories:
        seq.append(story_tree(story))
        seq.yaml_set_comment_before_after_key(len(seq) - 1, before=note, indent=2)


def annotate_alternates(tree: CommentedMap, notes: list[str]) -> None:
    """Put a one-line note (score, source, why not chosen) above each alternate."""
    seq = tree.get("alternates")
    for index, note in enumerate(notes[: len(seq) if isinstance(seq, list) else 0]):
        seq.yaml_set_comment_before_after_key(index, before=note, indent=2)


def record_offered(tree: CommentedMap, ids: list[str]) -> None:
    known = set(offered_ids(tree))
    new = [i for i in dict.fromkeys(ids) if i not in known]
    if new:
        _top_level_seq(tree, "offered", OFFERED_COMMENT, before=None).extend(new)


def set_send_date(tree: CommentedMap, send_date: date) -> None:
    if _as_date(tree.get("send_date")) == send_date:
        return
    if "send_date" in tree:
        tree["send_date"] = send_date
    else:
        keys = list(tree)
        position = keys.index("preheader") + 1 if "preheader" in keys else min(len(keys), 2)
        tree.insert(position, "send_date", send_date)


def tree_send_date(path: Path, tree: Any) -> date | None:
    """The send date written in the file; a hand-typed date in another format is an error."""
    value = tree.get("send_date") if isinstance(tree, dict) else None
    if value is None:
        return None
    found = _as_date(value)
    if found is None:
        raise IssueFileError(
            f"{path}: line {line_of(tree, ('send_date',))}, send_date: {value!r} is not a "
            "date; write it as YYYY-MM-DD, for example 2024-03-10"
        )
    return found
