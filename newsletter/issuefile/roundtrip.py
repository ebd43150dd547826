"""The round trip: what ``newsletter draft`` changes in an existing issue file.

It edits the tree in place: it only appends alternates and offered ids, fills in the
snapshot of stories staff added by id, and sets the send date when asked. Everything else
staff wrote is left exactly as it was.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from newsletter.errors import IssueFileError
from newsletter.issuefile.yamlio import (
    ALTERNATES_COMMENT,
    OFFERED_COMMENT,
    iter_stories,
    line_of,
    plain,
    quoted_id,
    send_day_of,
    send_key,
    story_tree,
)
from newsletter.models import Story


def story_ids(tree: Any, *keys: str) -> list[str]:
    """Ids of the stories in ``keys`` (default: the sections, then the alternates)."""
    return [
        str(story["id"])
        for key in keys or ("sections", "alternates")
        for _, story in iter_stories(tree, key)
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
        for loc, story in iter_stories(tree, key)
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
        _top_level_seq(tree, "offered", OFFERED_COMMENT, before=None).extend(map(quoted_id, new))


def set_send_date(tree: CommentedMap, send_date: date) -> None:
    """Write the day it goes out, under the key the file already uses (new: ``send_at``)."""
    key = send_key(tree)
    if send_day_of(tree) == send_date and not isinstance(plain(tree.get(key)), datetime):
        return
    if key is not None:
        tree[key] = send_date
    else:
        keys = list(tree)
        position = keys.index("preheader") + 1 if "preheader" in keys else min(len(keys), 2)
        tree.insert(position, "send_at", send_date)


def tree_send_date(path: Path, tree: Any) -> date | None:
    """The day the file says it goes out; a hand-typed value in another format is an error."""
    key = send_key(tree)
    if key is None or tree[key] is None:
        return None
    found = send_day_of(tree)
    if found is None:
        raise IssueFileError(
            f"{path}: line {line_of(tree, (key,))}, {key}: {tree[key]!r} is not a "
            "date; write it as YYYY-MM-DD, for example 2024-03-10"
        )
    return found
