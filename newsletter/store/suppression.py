"""The suppression list: addresses that must never get an issue (unsubscribed, bounced...).

Kept in the project's store (shared by everyone who sends from it), compared
case-insensitively, and honoured by every export and send. ``newsletter suppress
add|list|import|remove`` manages it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, get_args

from sqlalchemy import delete, select

from newsletter.deliver.audience import Rejection, check_address
from newsletter.deliver.csvfile import read_address_list
from newsletter.errors import ProjectError
from newsletter.store.db import Database, Target, chunks, insert
from newsletter.store.schema import suppressions

Reason = Literal["unsubscribed", "bounced", "complained", "manual", "erased"]
REASONS: tuple[str, ...] = get_args(Reason)


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
    def __init__(self, target: Target) -> None:
        super().__init__(target, durable=True, what="the suppression list")

    def emails(self) -> Suppressed:
        with self.read("read the suppression list") as conn:
            return Suppressed(conn.execute(select(suppressions.c.email)).scalars())

    def __contains__(self, email: object) -> bool:
        if not isinstance(email, str):
            return False
        keys = (email.lower(), erased_key(email))
        with self.read("read the suppression list") as conn:
            query = select(suppressions.c.email).where(suppressions.c.email.in_(keys)).limit(1)
            return conn.execute(query).first() is not None

    def add_hashed(self, key: str, source: str | None = None) -> None:
        """Keep an erased person off every list without keeping their address."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self.transaction("add to the suppression list") as conn:
            conn.execute(
                insert(conn, suppressions).on_conflict_do_nothing(),
                {"email": key, "reason": "erased", "source": source, "added": now},
            )

    def entries(self) -> list[Suppression]:
        query = select(suppressions).order_by(suppressions.c.added, suppressions.c.email)
        with self.read("read the suppression list") as conn:
            return [Suppression(*row) for row in conn.execute(query)]

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
        wanted: dict[str, None] = {}
        for line, raw in emails:
            try:
                email = check_address(raw.strip()).lower()
            except ValueError as exc:
                result.rejected.append(Rejection(line, raw, f"not an email address: {exc}"))
                continue
            if email in wanted:
                result.already += 1
            wanted[email] = None
        rows = [{"email": e, "reason": reason, "source": source, "added": now} for e in wanted]
        with self.transaction("add to the suppression list") as conn:
            stmt = insert(conn, suppressions).on_conflict_do_nothing()
            for part in chunks(rows):
                added = len(conn.execute(stmt.returning(suppressions.c.email), part).all())
                result.added += added
                result.already += len(part) - added
        return result

    def remove(self, emails: Iterable[str], *, reason: str | None = None) -> int:
        """Take addresses off the list (only those suppressed for ``reason``, when given)."""
        keys = sorted({email.strip().lower() for email in emails})
        removed = 0
        with self.transaction("remove from the suppression list") as conn:
            for part in chunks(keys):
                query = delete(suppressions).where(suppressions.c.email.in_(part))
                if reason is not None:
                    query = query.where(suppressions.c.reason == reason)
                removed += conn.execute(query).rowcount
        return removed

    def import_file(self, path: Path, reason: str) -> AddResult:
        """A CSV with an email column (any delimiter), or plain text with one address per line."""
        return self.add(read_address_list(path), reason, source=path.name)
