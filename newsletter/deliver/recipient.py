"""One person an issue goes to: what the audience file says about them."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Recipient:
    email: str
    name: str = ""
    language: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    line: int = 0

    @property
    def key(self) -> str:
        """The address as compared and logged: case-insensitive."""
        return self.email.lower()
