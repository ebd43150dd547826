"""The suppression list: addresses that must never get an issue (unsubscribed, bounced...).

Kept in the project's store file, compared case-insensitively, and honoured by every export
and send. ``newsletter suppress add|list|import|remove`` manages it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, get_args

from newsletter.deliver.audience import Rejection, check_address
from newsletter.deliver.csvfile import read_address_list
from newsletter.errors import ProjectError
from newsletter.store.db import Database

Reason = Literal["unsubscribed", "bounced", "complained", "manual", "erased"]
REASONS: tuple[str, ...] = get_args(Reason)

SCHEMA = """
CREATE TABLE IF NOT EXISTS suppressions (
    email   TEXT PRIMARY KEY,               -- lower-cased
    reason  TEXT NOT NULL,
    source  TEXT,
    added   TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Suppression:
    email: str
    reason: str
    source: str | None
    added: str


@dataclass
class AddResult:
    added: int = 0
    already: int = 0
    rejected: list[Rejection] = field(default_factory=list)


def erased_key(email: str) -> str:
    """What an erased address leaves on the list: a hash of it, never the address."""
    return "sha256:" + hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


class Suppressed(frozenset[str]):
    """The suppressed addresses; also matches an erased address by its hash."""

    def __contains__(self, email: object) -> bool:
        if not isinstance(email, str):
            return False
        key = email.lower()
        return frozenset.__contains__(self, key) or frozenset.__contains__(self, erased_key(key))


class SuppressionList(Database):
    def __init__(self, path: Path) -> None:
        super().__init__(path, SCHEMA, durable=True, what="the suppression list")

    def emails(self) -> Suppressed:
        return Suppressed(e for (e,) in self.db.execute("SELECT email FROM suppressions"))

    def __contains__(self, email: object) -> bool:
        if not isinstance(email, str):
            return False
        keys = (email.lower(), erased_key(email))
        row = self.db.execute("SELECT 1 FROM suppressions WHERE email IN (?, ?)", keys)
        return row.fetchone() is not None

    def add_hashed(self, key: str, source: str | None = None) -> None:
        """Keep an erased person off every list without keeping their address."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self.transaction("add to the suppression list"):
            self.db.execute(
                "INSERT INTO suppressions VALUES (?, 'erased', ?, ?) ON CONFLICT(email) DO NOTHING",
                (key, source, now),
            )

    def entries(self) -> list[Suppression]:
        return [
            Suppression(*row)
            for row in self.db.execute(
                "SELECT email, reason, source, added FROM suppressions ORDER BY added, email"
            )
        ]

    def add(
        self, emails: Iterable[tuple[int, str]], reason: str, source: str | None = None
    ) -> AddResult:
        """Add ``(line, address)`` pairs; invalid ones come back as rejections, never lost."""
        if reason not in REASONS:
            raise ProjectError(
                f"unknown suppression reason {reason!r}", hint=f"one of: {', '.join(REASONS)}"
            )
        result = AddResult()
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self.transaction("add to the suppression list"):
            for line, raw in emails:
                try:
                    email = check_address(raw.strip())
                except ValueError as exc:
                    result.rejected.append(Rejection(line, raw, f"not an email address: {exc}"))
                    continue
                cursor = self.db.execute(
                    "INSERT INTO suppressions VALUES (?, ?, ?, ?) ON CONFLICT(email) DO NOTHING",
                    (email.lower(), reason, source, now),
                )
                if cursor.rowcount:
                    result.added += 1
                else:
                    result.already += 1
        return result

    def remove(self, emails: Iterable[str]) -> int:
        removed = 0
        with self.transaction("remove from the suppression list"):
            for email in emails:
                cursor = self.db.execute(
                    "DELETE FROM suppressions WHERE email = ?", (email.strip().lower(),)
                )
                removed += cursor.rowcount
        return removed

    def import_file(self, path: Path, reason: str) -> AddResult:
        """A CSV with an email column (any delimiter), or plain text with one address per line."""
        return self.add(read_address_list(path), reason, source=path.name)
