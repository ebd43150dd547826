"""One exception tree for every stage.

Each message says what went wrong *and* what to do next. The CLI maps each class to an
exit code and prints only the message; the traceback appears with ``--debug``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class NewsletterError(Exception):
    """Base class of every error the tool reports to a user."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class ConfigError(NewsletterError):
    """newsletter.toml is missing or invalid."""

    exit_code = 2


class ProjectError(NewsletterError):
    """The project folder is not usable (missing files, unknown month...)."""

    exit_code = 2


class CollectError(NewsletterError):
    """A source could not be fetched or parsed."""

    exit_code = 3


class StoreError(NewsletterError):
    """The store (SQLite or PostgreSQL) could not be opened, read or written."""

    exit_code = 4


class IssueFileError(NewsletterError):
    """An issue file is malformed or does not validate."""

    exit_code = 5


class RenderError(NewsletterError):
    """A template or the generated MJML could not be rendered."""

    exit_code = 6


class ExportError(NewsletterError):
    """An export could not be written."""

    exit_code = 7


class SendError(NewsletterError):
    """Sending failed."""

    exit_code = 8


class PreviewError(NewsletterError):
    """A preview could not be served or photographed."""

    exit_code = 9


class ApprovalError(NewsletterError):
    """An issue is not approved (or was changed since), or cannot be approved yet."""

    exit_code = 10


def format_validation_error(source: str, exc: object) -> str:
    """Format a pydantic ``ValidationError`` as one line per problem, naming its key."""
    from pydantic import ValidationError

    if not isinstance(exc, ValidationError):
        return f"{source}: {exc}"
    lines = [f"{source}: {exc.error_count()} problem(s)"]
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"  - {loc}: {pydantic_message(err)}")
    return "\n".join(lines)


def pydantic_message(err: Mapping[str, Any]) -> str:
    """A pydantic error's message without the "Value error, " its validators' errors carry."""
    message = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message
