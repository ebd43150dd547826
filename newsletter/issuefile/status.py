"""An issue file's status: draft -> approved -> sent, written in the file itself.

``newsletter approve`` records who approved, when, and a digest of what they approved; a
complete send records when it went out. Both edit the round-trip tree in place, so every
comment and hand edit stays as it was. The digest covers what subscribers get and when
(everything but the status keys and the draft's suggestions), so ``send`` can tell an
issue that was changed after its approval.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap

from newsletter.errors import ApprovalError
from newsletter.issuefile.validate import load_issue
from newsletter.issuefile.yamlio import (
    SEND_KEYS,
    STATUS_COMMENT,
    dump_yaml,
    plain,
    read_yaml,
    write_text,
)
from newsletter.models import Issue, IssueStatus

STATUS_KEYS = ("status", "approved_by", "approved_at", "approved_digest", "sent_at")
# The draft's suggestions: they never reach a subscriber, and `newsletter draft` adds to
# them after an approval.
UNSENT_KEYS = ("alternates", "offered")


def content_digest(tree: Any) -> str:
    """What an approval covers: the file's values, not its comments or layout."""
    values = plain(tree) if isinstance(tree, dict) else {}
    kept = {k: v for k, v in values.items() if k not in STATUS_KEYS + UNSENT_KEYS}
    text = json.dumps(kept, sort_keys=True, ensure_ascii=False, default=str)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _set(tree: CommentedMap, key: str, value: object) -> None:
    """Set a status key in place; a new one goes with the others, after the send time."""
    if key in tree:
        tree[key] = value
        if key == "status":
            _status_comment(tree, str(value))
        return
    keys = list(tree)
    before = [k for k in (*SEND_KEYS, *STATUS_KEYS) if k in keys]
    anchor = STATUS_KEYS[: STATUS_KEYS.index(key)]
    after = [k for k in before if k in anchor] or [k for k in before if k in SEND_KEYS]
    if after:
        position = max(keys.index(k) for k in after) + 1
    else:
        position = next((keys.index(k) + 1 for k in ("preheader", "subject") if k in keys), 0)
    tree.insert(position, key, value)
    if key == "status":
        _status_comment(tree, str(value))


def _status_comment(tree: CommentedMap, value: str) -> None:
    """Our reminder of the way out beside ``status``, never over a comment staff wrote."""
    token = tree.ca.items.get("status", [None, None, None])[2]
    if token is None or STATUS_COMMENT in token.value:
        tree.ca.items.pop("status", None)
        tree.yaml_add_eol_comment(STATUS_COMMENT, "status", column=len(f"status: {value}  "))


def _write_status(path: Path, changes: dict[str, object]) -> Issue:
    tree = read_yaml(path)
    for key, value in changes.items():
        if value is None:
            tree.pop(key, None)
        else:
            _set(tree, key, value)
    write_text(path, dump_yaml(tree))
    return load_issue(path, resolve=False)


def record_approval(path: Path, by: str, at: datetime) -> Issue:
    """Mark the issue in ``path`` approved by ``by`` at ``at`` (checks are the caller's)."""
    load_issue(path)  # only a valid file is approved
    digest = content_digest(read_yaml(path))
    return _write_status(
        path,
        {"status": IssueStatus.approved.value, "approved_by": by, "approved_at": at,
         "approved_digest": digest, "sent_at": None},
    )  # fmt: skip


def record_sent(path: Path, at: datetime) -> Issue:
    """Mark the issue in ``path`` sent at ``at``."""
    return _write_status(path, {"status": IssueStatus.sent.value, "sent_at": at})


def require_approved(path: Path) -> Issue:
    """The issue in ``path`` if it may be sent: approved (or sent) and unchanged since."""
    month = path.name.split(".")[0]  # YYYY-MM.yaml, or an edition's YYYY-MM.<code>.yaml
    issue = load_issue(path, resolve=False)
    again = f"check it (`newsletter check {month}`) and approve it: `newsletter approve {month}`"
    proof = f"a proof needs no approval: `newsletter send {month} --test-to you@example.org`"
    if issue.status is IssueStatus.draft:
        raise ApprovalError(
            f"{path}: {month} is a draft; only an approved issue is sent",
            hint=f"{again}; {proof}",
        )
    if issue.approved_digest is None:
        raise ApprovalError(
            f"{path}: status is {issue.status.value}, but the file records no approval "
            "(approved_by, approved_at, approved_digest)",
            hint=again,
        )
    if content_digest(read_yaml(path)) != issue.approved_digest:
        who = f" by {issue.approved_by}" if issue.approved_by else ""
        when = f" on {issue.approved_at:%Y-%m-%d %H:%M %Z}" if issue.approved_at else ""
        raise ApprovalError(
            f"{path}: the issue was changed after it was approved{who}{when}",
            hint=f"review the changes and approve it again: `newsletter approve {month}`",
        )
    return issue
