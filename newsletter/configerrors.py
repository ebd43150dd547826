"""newsletter.toml problems with their line and, for a misspelt key, the key that was meant.

tomllib keeps no positions, so ``key_lines`` scans the text itself: table headers
(``[brand]``, ``[[sources]]``, ``[sources.selectors]``) and ``key = value`` lines, skipping
multi-line strings and arrays. It is deliberately light: a key it cannot place is reported
with its table's line, or without a line.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from newsletter.errors import pydantic_message

Loc = tuple[str | int, ...]
_KEY = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')"""
_DOTTED = rf"{_KEY}(?:[ \t]*\.[ \t]*{_KEY})*"
_ARRAY = re.compile(rf"^[ \t]*\[\[[ \t]*({_DOTTED})[ \t]*\]\][ \t]*(?:#.*)?$")
_TABLE = re.compile(rf"^[ \t]*\[[ \t]*({_DOTTED})[ \t]*\][ \t]*(?:#.*)?$")
_KEYVAL = re.compile(rf"^[ \t]*({_DOTTED})[ \t]*=[ \t]*(.*)$")
_INLINE_KEY = re.compile(rf"[{{,][ \t]*({_DOTTED})[ \t]*=")


def _parts(dotted: str) -> tuple[str, ...]:
    return tuple(p[1:-1] if p[:1] in "\"'" else p for p in re.findall(_KEY, dotted))


def _open_brackets(value: str) -> tuple[int, str | None]:
    """How many [ or { the value leaves open, and the multi-line string it leaves open."""
    depth, i = 0, 0
    while i < len(value):
        if value.startswith(('"""', "'''"), i):
            quote = value[i : i + 3]
            end = value.find(quote, i + 3)
            if end == -1:
                return depth, quote
            i = end + 3
            continue
        char = value[i]
        if char in "\"'":
            end = i + 1
            while end < len(value) and value[end] != char:
                end += 2 if char == '"' and value[end] == "\\" else 1
            i = end + 1
            continue
        if char == "#":
            break
        depth += (char in "[{") - (char in "]}")
        i += 1
    return depth, None


def key_lines(text: str) -> dict[Loc, int]:
    """The 1-based line of every table and key in ``text``, keyed like pydantic's ``loc``."""
    lines: dict[Loc, int] = {}
    arrays: dict[Loc, int] = {}  # array-of-tables path -> index of its last element
    table: Loc = ()
    depth, quote = 0, None
    for number, line in enumerate(text.splitlines(), 1):
        if quote is not None:  # inside a multi-line string
            end = line.find(quote)
            if end != -1:
                more, quote = _open_brackets(line[end + 3 :])
                depth += more
            continue
        if depth > 0:  # inside a multi-line array or inline table
            more, quote = _open_brackets(line)
            depth += more
            continue
        if match := _ARRAY.match(line):
            parts = _parts(match.group(1))
            path = (*_resolve(parts[:-1], arrays), parts[-1])
            arrays[path] = arrays.get(path, -1) + 1
            table = (*path, arrays[path])
            lines.setdefault(path, number)
            lines[table] = number
        elif match := _TABLE.match(line):
            table = _resolve(_parts(match.group(1)), arrays)
            lines.setdefault(table, number)
        elif match := _KEYVAL.match(line):
            key = (*table, *_parts(match.group(1)))
            lines.setdefault(key, number)
            value = match.group(2)
            for inner in _INLINE_KEY.finditer(value):
                lines.setdefault((*key, *_parts(inner.group(1))), number)
            depth, quote = _open_brackets(value)
    return lines


def _resolve(path: tuple[str, ...], arrays: dict[Loc, int]) -> Loc:
    """A header's path, with the index of the current element of any array of tables in it."""
    out: Loc = ()
    for part in path:
        out = (*out, part)
        if out in arrays:
            out = (*out, arrays[out])
    return out


def line_of(lines: dict[Loc, int], loc: Loc) -> int | None:
    """The line of ``loc``, or of the nearest enclosing key or table that is in the file."""
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is not None:
        for arg in typing.get_args(annotation):
            if found := _model_in(arg):
                return found
    return None


def _model_at(root: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    model = root
    for part in loc:
        if isinstance(part, int):
            continue
        info = model.model_fields.get(part)
        inner = _model_in(info.annotation) if info else None
        if inner is None:
            return None
        model = inner
    return model


def _message(root: type[BaseModel], err: Any) -> str:
    loc: Loc = tuple(err["loc"])
    key = str(loc[-1]) if loc else ""
    if err["type"] == "extra_forbidden":
        model = _model_at(root, loc[:-1])
        known = list(model.model_fields) if model else []
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        if close:
            return f"unknown key {key!r}; did you mean {close[0]!r}?"
        return f"unknown key {key!r}" + (f"; known keys: {', '.join(known)}" if known else "")
    if err["type"] == "missing":
        return "missing: this key is required"
    return pydantic_message(err)


def problems(root: type[BaseModel], text: str, exc: ValidationError) -> Iterator[str]:
    """One line per problem, in file order: ``line N, key: what is wrong``."""
    lines = key_lines(text)
    found = []
    for err in exc.errors():
        loc: Loc = tuple(err["loc"])
        line = line_of(lines, loc)
        key = ".".join(str(p) for p in loc) or "(top level)"
        where = f"line {line}, " if line else ""
        found.append((line or 0, f"{where}{key}: {_message(root, err)}"))
    for _, text_line in sorted(found, key=lambda item: item[0]):
        yield text_line


def describe(path: Path, text: str, root: type[BaseModel], exc: ValidationError) -> str:
    found = list(problems(root, text, exc))
    return "\n".join([f"{path}: {len(found)} problem(s)", *(f"  - {p}" for p in found)])
