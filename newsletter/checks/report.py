"""The result of ``newsletter check``: findings, each an error, a warning or a note (info)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum


class Level(StrEnum):
    error = "error"
    warning = "warning"
    info = "info"  # worth knowing, never a reason to change the email (client support)


@dataclass
class Finding:
    level: Level
    rule: str
    message: str
    where: str = ""


@dataclass
class CheckReport:
    month: str
    html_bytes: int = 0
    image_bytes: int = 0  # the prepared story images, together
    image_budget: int = 0  # [images] budget_kb, in bytes (0: images not weighed)
    findings: list[Finding] = field(default_factory=list)
    edition: str | None = None  # with several editions, the one checked

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level is Level.error]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level is Level.warning]

    @property
    def notes(self) -> list[Finding]:
        return [f for f in self.findings if f.level is Level.info]

    @property
    def ok(self) -> bool:
        return not self.errors

    def add(self, level: Level, rule: str, message: str, where: str = "") -> None:
        self.findings.append(Finding(level, rule, message, where))

    def to_json(self) -> str:
        return json.dumps(
            {"month": self.month, **({"edition": self.edition} if self.edition else {}),
             "html_bytes": self.html_bytes,
             "image_bytes": self.image_bytes, "image_budget": self.image_budget,
             "errors": len(self.errors), "warnings": len(self.warnings),
             "findings": [asdict(f) for f in self.findings]},
            indent=2, ensure_ascii=False,
        )  # fmt: skip
