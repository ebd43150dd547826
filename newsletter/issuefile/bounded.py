"""Reading issue files with bounded cost, whoever wrote them.

Issue files come from pull requests too, so a file must never tie up a command: its size
and nesting depth are capped and YAML aliases are refused (an alias bomb of a few hundred
bytes expands to billions of nodes). Nobody writes aliases in an issue file by hand, and
refusing them outright is simpler to explain than a cap on what they expand to.

Story ids are always read as strings, even when they look like numbers
(``564729e573423053`` is a float in YAML, and would be rewritten as ``.inf``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.composer import Composer
from ruamel.yaml.constructor import RoundTripConstructor, SafeConstructor
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    ScalarEvent,
)
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode
from ruamel.yaml.resolver import VersionedResolver

from newsletter.errors import IssueFileError

MAX_BYTES = 1_000_000
"""An issue of a few dozen stories is some 50 KB; anything near this is not an issue file."""
MAX_DEPTH = 20
"""Nesting levels (mappings, lists and the values in them); an issue file needs 7."""
ID_KEYS = ("id",)
ID_LISTS = ("offered",)
_STR = "tag:yaml.org,2002:str"


class Refused(Exception):
    """A YAML construct an issue file may not use, with the 1-based line it is on."""

    def __init__(self, line: int, message: str, hint: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.hint = hint


def _alias(line: int, anchor: str) -> Refused:
    return Refused(
        line,
        f"YAML aliases (*{anchor}) are not allowed in an issue file",
        "write the value out in full; issue files use no anchors (&) or aliases (*)",
    )


def _too_deep(line: int) -> Refused:
    return Refused(
        line,
        f"nested more than {MAX_DEPTH} levels deep (a story's image is 6 levels down)",
        "check the brackets and indentation from this line on",
    )


def read_issue_text(path: Path) -> str:
    """The file's text: at most MAX_BYTES, UTF-8 (a bad byte is reported with its line)."""
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise IssueFileError(f"{path}: cannot read: {exc.strerror}") from exc
    if len(data) > MAX_BYTES:
        raise IssueFileError(
            f"{path}: is larger than {MAX_BYTES // 1_000_000} MB; an issue file holds a few "
            "dozen stories (some 50 KB)",
            hint="this is not an issue file; check what wrote it",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise IssueFileError(
            f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x} at column {column})",
            hint="save the file as UTF-8 (most editors: 'Save with encoding', UTF-8)",
        ) from exc


class BoundedComposer(Composer):
    """ruamel's composer, refusing aliases and deep nesting before they cost anything."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.parser.peek_event()
        if isinstance(event, AliasEvent):
            raise _alias(event.start_mark.line + 1, event.anchor)
        if self.depth >= MAX_DEPTH:
            raise _too_deep(event.start_mark.line + 1)
        return super().compose_node(parent, index)

    def compose_document(self) -> Any:
        node = super().compose_document()
        ids_as_strings(node)
        return node


def ids_as_strings(root: Any) -> None:
    """Retag the plain scalars that hold story ids as strings, whatever they look like."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, MappingNode):
            for key, value in node.value:
                if isinstance(key, ScalarNode) and _plain(value):
                    if key.value in ID_KEYS:
                        value.tag = _STR
                elif (
                    isinstance(key, ScalarNode)
                    and key.value in ID_LISTS
                    and isinstance(value, SequenceNode)
                ):
                    for item in value.value:
                        if _plain(item):
                            item.tag = _STR
                stack.append(value)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)


def _plain(node: Any) -> bool:
    """An untagged, unquoted scalar: the only kind YAML may read as a number."""
    return isinstance(node, ScalarNode) and node.style is None and node.tag != _STR


class _ValueErrors:
    """A value YAML cannot build (a 13th month, an int of 5000 digits) named by its line."""

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)  # type: ignore[misc]
        except (ValueError, OverflowError) as exc:
            shown = node.value if isinstance(node.value, str) else ""
            shown = f"{shown[:40]}…" if len(shown) > 40 else shown
            why = "too many digits" if "digits" in str(exc) else str(exc)
            raise Refused(
                node.start_mark.line + 1,
                f"cannot read the value {shown!r}: {why}",
                "fix the value, or quote it to keep it as text",
            ) from None


class BoundedConstructor(_ValueErrors, RoundTripConstructor):
    pass


class _BoundedSafeConstructor(_ValueErrors, SafeConstructor):
    pass


def round_trip_yaml() -> YAML:
    yaml = YAML()  # round-trip: keeps comments, order and formatting of hand edits
    yaml.Composer = BoundedComposer
    yaml.Constructor = BoundedConstructor
    return yaml


def check_events(events: Iterable[Any]) -> None:
    """Refuse aliases and deep nesting from a stream of parse events (flat, never recursive)."""
    depth = 0
    for event in events:
        if isinstance(event, AliasEvent):
            raise _alias(event.start_mark.line + 1, event.anchor)
        if isinstance(event, CollectionStartEvent | ScalarEvent) and depth >= MAX_DEPTH:
            raise _too_deep(event.start_mark.line + 1)
        if isinstance(event, CollectionStartEvent):
            depth += 1
        elif isinstance(event, CollectionEndEvent):
            depth -= 1


class _NoNumbers(VersionedResolver):
    """The YAML resolver without ints and floats: ids stay strings in a quick read."""

    @property
    def versioned_resolver(self) -> Any:
        table = super().versioned_resolver
        filtered = self.__dict__.setdefault("_filtered", {})
        if id(table) not in filtered:
            filtered[id(table)] = {
                first: [(tag, rx) for tag, rx in found if not tag.endswith((":int", ":float"))]
                for first, found in table.items()
            }
        return filtered[id(table)]


def _checked_safe(text: str) -> YAML:
    """libyaml's quick reader (same YAML 1.2 rules), once the text has no alias or deep nest."""
    safe = YAML(typ="safe")
    check_events(safe.parse(text))
    safe.Constructor = _BoundedSafeConstructor
    return safe


def quick_load(path: Path) -> Any:
    """Plain Python data from an issue file, fast (libyaml), for reading ids and dates only.

    Bounded like the round-trip read; numbers are read as strings.
    """
    text = read_issue_text(path)
    try:
        safe = _checked_safe(text)
        safe.Resolver = _NoNumbers
        return safe.load(text)
    except Refused as exc:
        raise refused(path, exc) from None


def fast_values(path: Path) -> Any | None:
    """The file's plain values for building, or None when only the round-trip read can say.

    The round-trip read is pure Python (some 20 ms for a sample issue, most of a preview
    rebuild); this one takes about 2 ms. It is trusted only where it cannot mean anything
    else: on any error, or a key or story id that it did not read as text, it gives up, and
    the round-trip read, the authority, decides and words every problem with its line.
    """
    text = read_issue_text(path)
    try:
        data = _checked_safe(text).load(text)
    except Exception:  # whatever this read cannot take, the round-trip read reports
        return None
    return data if _means_the_same(data) else None


def _means_the_same(data: Any) -> bool:
    """True when every key, id and offered id is a string. The round-trip read keeps a plain
    id such as ``564729e573423053`` as written, and a key such as ``1:`` as text, where this
    read makes each a number."""
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if not isinstance(key, str):
                    return False
                if key in ID_KEYS and not isinstance(value, str):
                    return False
                if (
                    key in ID_LISTS
                    and isinstance(value, list)
                    and not all(isinstance(item, str) for item in value)
                ):
                    return False
                stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
    return True


def refused(path: Path, exc: Refused) -> IssueFileError:
    return IssueFileError(f"{path}:{exc.line}: {exc.message}", hint=exc.hint)
