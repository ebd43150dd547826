"""What a collect run tells the user: per source, new, updated, merged, unchanged or why not."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SourceReport:
    name: str
    kind: str = "feed"
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0
    error: str | None = None
    hint: str | None = None
    not_modified: bool = False
    moved_to: str | None = None
    notices: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class CollectReport:
    sources: list[SourceReport] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> list[SourceReport]:
        return [s for s in self.sources if not s.ok]
