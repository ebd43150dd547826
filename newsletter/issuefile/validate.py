"""Validation of issue files: every problem with its file, line and key.

``validate_issue`` is the one place that checks a file; ``load_issue`` (used by build,
check, export and the archive) runs it and refuses a file with errors. Warnings (links
that are not https, stories no longer in the store) never stop a build.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from newsletter.errors import IssueFileError
from newsletter.issuefile.bounded import fast_values
from newsletter.issuefile.yamlio import (
    as_date,
    iter_stories,
    line_of,
    plain,
    read_yaml,
    send_day_of,
    send_key,
)
from newsletter.models import (
    SUBJECT_HARD_MAX,
    SUBJECT_MAX,
    DatedFields,
    Issue,
    Kind,
    subject_warning,
)


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
            f"is {len(str(value))} characters, more than the {SUBJECT_HARD_MAX} a subject may "
            f"have; inboxes cut it after about {SUBJECT_MAX}"
        )
    if kind in ("string_too_short", "too_short"):
        return "is empty"
    if kind == "timezone_aware":
        return f"{value!s} has no time zone; write it like 2020-10-13 07:30:00+00:00"
    if kind.startswith(("date_", "datetime_")):
        if key == "published":
            return f"{value!r} is not a date and time; write it like 2020-10-13 07:30:00+00:00"
        return f"{value!r} is not a date; write it as YYYY-MM-DD, for example 2024-03-10"
    if kind == "enum":
        return f"{value!r} is not allowed here; use {err.get('ctx', {}).get('expected', '')}"
    if key == "month":
        return f"{value!r} is not a month; write it as YYYY-MM, for example 2024-03"
    return str(err["msg"]).removeprefix("Value error, ")


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
    values = plain(data)
    if "send_date" in values:  # the older name of send_at, read as it
        if "send_at" in values:
            report.add(
                Level.error, ("send_date",),
                "is the older name of send_at and the file has both; keep one", data,
            )  # fmt: skip
        values["send_at"] = values.pop("send_date")
    try:
        report.issue = Issue.model_validate(values)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            if loc == ("send_at",):
                loc = (send_key(data) or "send_at",)
            bad.add(loc)
            report.add(Level.error, loc, _friendly(err), data)
    issue = report.issue
    month, _, code = path.name.removesuffix(".yaml").partition(".")
    if issue is not None and issue.month != month:
        report.add(
            Level.error, ("month",),
            f"is {issue.month} but the file is named {path.name}; rename the file or fix the month",
            data,
        )  # fmt: skip
    too_long = subject_warning(issue.subject) if issue is not None else None
    if too_long:  # the words and the limit `check` uses
        report.add(Level.warning, ("subject",), too_long, data)
    if issue is not None and code and issue.language.lower() != code.lower():
        report.add(
            Level.error, ("language",),
            f"is {issue.language} but the file is named {path.name}, an edition in {code}; "
            "rename the file or fix the language",
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
    send, key = send_day_of(data), send_key(data)
    seen: dict[str, int | None] = {}
    for loc, story in iter_stories(data):
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
        dates = _dates(story)
        lapsed = dates.lapsed(send)
        if "deadline" in lapsed:
            report.add(
                Level.error, (*loc, "deadline"),
                f"deadline {dates.deadline} is in the past on the send date {send}; remove the "
                f"story or change {key}",
                data,
            )  # fmt: skip
        if "event_date" in lapsed:
            report.add(
                Level.error, (*loc, "event_date"),
                f"the event on {dates.event_date} is over by the send date {send}; remove the "
                f"story or change {key}",
                data,
            )  # fmt: skip
    for loc, story in iter_stories(data, "alternates"):
        if str(story.get("id")) in seen:
            report.add(
                Level.warning, (*loc, "id"),
                f"story {story.get('id')} is in a section too; delete this alternate",
                data,
            )  # fmt: skip


def _dates(story: Any) -> DatedFields:
    """A story node's kind and dates as the deadline rules read them (even when the node
    does not validate as a whole; an unknown kind is reported elsewhere and counts as news)."""
    kind = story.get("kind")
    return DatedFields(
        Kind(kind) if isinstance(kind, str) and kind in Kind.__members__ else Kind.news,
        as_date(story.get("deadline")),
        as_date(story.get("event_date")),
    )


def validate_issue(path: Path, *, known: Callable[[str], bool] | None = None) -> IssueReport:
    """Read and check an issue file. Malformed YAML raises; everything else is reported."""
    return validate_tree(path, read_yaml(path), known=known)


def load_issue(path: Path, *, resolve: bool = True) -> Issue:
    """The issue in ``path``, validated; raise IssueFileError listing every error.

    With ``resolve`` (the default, for building), each story carries its overrides applied,
    so templates read ``story.title`` and get what staff wrote.
    """
    values = fast_values(path)  # the quick read; the round-trip read words any problem
    report = validate_tree(path, values) if values is not None else None
    if report is None or report.errors or report.issue is None:
        report = validate_issue(path)
    if report.errors or report.issue is None:
        raise IssueFileError(
            report.message(),
            hint=f"fix the lines above; `newsletter validate {path.name.split('.')[0]}` checks "
            "again",
        )
    return report.issue.resolved() if resolve else report.issue
