"""Audiences: who gets an issue, read from a CSV file.

Columns: ``email`` (required), optional ``name`` and ``language``; every other column is a
custom merge field (``%%column%%`` in the issue). Each address is checked for syntax only
(email-validator, no DNS). Addresses are compared case-insensitively, so the second
``Ann@Example.org`` is a duplicate of ``ann@example.org``; suppressed addresses (unsubscribed,
bounced) are left out. Every row that is left out is reported with its line number, its value
and the reason: nothing is dropped silently.

Reading streams: recipients are yielded as they are read, so an export never holds the
whole audience; only the set of addresses seen so far is kept, to find duplicates.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Container, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from newsletter.deliver.csvfile import (
    EMAIL_COLUMNS,
    FIRST_NAME,
    LANGUAGE_COLUMNS,
    LAST_NAME,
    NAME_COLUMNS,
    column_name,
    find_column,
    not_utf8,
    sniff_file,
)
from newsletter.deliver.merge import FIELD_NAME_RE, HTML_SUFFIX
from newsletter.deliver.recipient import Recipient as Recipient
from newsletter.errors import ProjectError

RESERVED = ("email", "name", "language")
MAX_NAME = 200
MAX_FIELD = 1000
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")

RejectKind = Literal["invalid", "duplicate", "suppressed"]


@dataclass(frozen=True, slots=True)
class Rejection:
    line: int
    value: str
    reason: str
    kind: RejectKind = "invalid"

    def as_dict(self) -> dict[str, object]:
        return {"line": self.line, "value": self.value, "reason": self.reason, "kind": self.kind}


@dataclass
class AudienceReport:
    path: Path
    columns: list[str] = field(default_factory=list)  # the custom merge fields
    accepted: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    def count(self, kind: RejectKind) -> int:
        return sum(1 for r in self.rejected if r.kind == kind)

    def as_dict(self) -> dict[str, object]:
        return {
            "file": str(self.path),
            "columns": self.columns,
            "accepted": self.accepted,
            "invalid": self.count("invalid"),
            "duplicates": self.count("duplicate"),
            "suppressed": self.count("suppressed"),
            "rejected": [r.as_dict() for r in self.rejected],
        }


def check_address(value: str) -> str:
    """The normalised address, or ValueError saying why it is not one (syntax only)."""
    from email_validator import EmailNotValidError, validate_email

    try:
        result = validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None
    return result.ascii_email or result.normalized


class AudienceSource(Protocol):
    """Who gets an issue: an audience file, or the confirmed subscribers."""

    report: AudienceReport

    @property
    def columns(self) -> list[str]: ...

    def __iter__(self) -> Iterator[Recipient]: ...


class Audience:
    """A CSV audience, read lazily. Iterate for recipients; ``report`` fills in as you go."""

    def __init__(self, path: Path, suppressed: Container[str] = frozenset()) -> None:
        self.path = path
        self.suppressed = suppressed
        self.report = AudienceReport(path)
        self.delimiter = ","
        self._header = self._read_header()
        self.report.columns = [c for c in self._header if c not in RESERVED]

    @property
    def columns(self) -> list[str]:
        return self.report.columns

    def _open(self) -> Generator[list[str], None, None]:
        try:
            with self.path.open(encoding="utf-8-sig", newline="") as fh:
                reader = csv.reader(fh, delimiter=self.delimiter)
                self._reader = reader
                yield from reader
        except FileNotFoundError:
            raise ProjectError(
                f"{self.path}: audience file not found",
                hint="pass a CSV file with an 'email' column: --audience subscribers.csv",
            ) from None
        except UnicodeDecodeError:
            # The reader decodes ahead of the row it is on; the file itself says where.
            raise not_utf8(self.path, "the audience") from None
        except csv.Error as exc:
            line = getattr(self, "_reader", None)
            where = f"{self.path}:{line.line_num}" if line else str(self.path)
            raise ProjectError(f"{where}: malformed CSV: {exc}") from None
        except OSError as exc:
            raise ProjectError(f"{self.path}: cannot read the audience: {exc.strerror}") from None

    def _read_header(self) -> list[str]:
        try:
            self.delimiter = sniff_file(self.path)
        except FileNotFoundError:
            pass  # reported by _open, with the hint
        except OSError as exc:
            raise ProjectError(f"{self.path}: cannot read the audience: {exc.strerror}") from None
        rows = self._open()
        try:
            first = next(rows, None)
        finally:
            rows.close()
        if not first:
            raise ProjectError(
                f"{self.path}:1: the audience is empty; it needs a header row",
                hint="the first line names the columns, e.g. email,name,language",
            )
        header = _standard_names([column_name(c) for c in first])
        problems = []
        if "email" not in header:
            shown = (";" if self.delimiter == ";" else ",").join(first)
            problems.append(f"no 'email' column (found: {shown})")
        for name in header:
            if not FIELD_NAME_RE.match(name) or name.endswith(HTML_SUFFIX):
                problems.append(f"column {name!r} is not a usable field name")
        dupes = sorted({n for n in header if header.count(n) > 1})
        if dupes:
            problems.append(f"duplicate column(s) {', '.join(dupes)}")
        if problems:
            raise ProjectError(
                f"{self.path}:1: bad header: {'; '.join(problems)}",
                hint="use lower-case names of letters, digits and '_' (a letter first), "
                "e.g. email,name,language,city",
            )
        return header

    def __iter__(self) -> Iterator[Recipient]:
        header = self._header
        width = len(header)
        at = {name: i for i, name in enumerate(header)}
        custom = [(name, at[name]) for name in self.columns]
        seen: dict[str, int] = {}
        report = self.report
        rows = self._open()
        next(rows)  # the header
        line = 1
        for row in rows:
            start, line = line + 1, self._reader.line_num
            if not row:
                continue  # a blank line holds no data
            if len(row) > width:
                report.rejected.append(
                    Rejection(
                        start,
                        self.delimiter.join(row),
                        f"{len(row)} fields, the header has {width}",
                    )
                )
                continue
            row = row + [""] * (width - len(row))
            raw_email = row[at["email"]].strip()
            rejection = self._check_row(start, row, at, raw_email)
            if rejection:
                report.rejected.append(rejection)
                continue
            try:
                email = check_address(raw_email)
            except ValueError as exc:
                reason = f"not an email address: {exc}" if raw_email else "the email is empty"
                report.rejected.append(Rejection(start, raw_email, reason))
                continue
            key = email.lower()
            if key in seen:
                report.rejected.append(
                    Rejection(start, raw_email, f"duplicate of line {seen[key]}", "duplicate")
                )
                continue
            seen[key] = start
            if key in self.suppressed:
                report.rejected.append(
                    Rejection(start, raw_email, "on the suppression list", "suppressed")
                )
                continue
            report.accepted += 1
            yield Recipient(
                email=email,
                name=_name(row, at),
                language=row[at["language"]].strip().lower() if "language" in at else "",
                fields={name: row[i].strip() for name, i in custom},
                line=start,
            )

    def require_recipients(self) -> None:
        """Refuse an audience that leaves nobody to send to, saying why each row was left out.

        It reads only as far as the first recipient, with a reader of its own, so ``report``
        is left for the export or send to fill in.
        """
        probe = Audience(self.path, self.suppressed)
        if next(iter(probe), None) is not None:
            return
        report = probe.report
        if not report.rejected:
            raise ProjectError(
                f"{self.path}: the audience has a header but no rows: nobody to send to",
                hint="add one row per recipient under the header",
            )
        counts = ", ".join(
            f"{n} {label}"
            for n, label in (
                (report.count("invalid"), "invalid"),
                (report.count("duplicate"), "duplicate"),
                (report.count("suppressed"), "suppressed"),
            )
            if n
        )
        listed = "".join(
            f"\n  - line {r.line}: {r.value!r}: {r.reason}" for r in report.rejected[:5]
        )
        more = f"\n  … and {len(report.rejected) - 5} more" if len(report.rejected) > 5 else ""
        raise ProjectError(
            f"{self.path}: nobody to send to: every row is left out ({counts}){listed}{more}",
            hint="fix the rows above; suppressed (unsubscribed, bounced) addresses never get mail",
        )

    @staticmethod
    def _check_row(line: int, row: list[str], at: dict[str, int], email: str) -> Rejection | None:
        """Problems with the row's other fields; the value reported is the row's address."""
        for name, i in at.items():
            value = row[i]
            if _CONTROL.search(value.strip() if name == "email" else value):
                return Rejection(
                    line, email, f"{name} {_show(value)} contains a line break or control "
                    "character (refused: it could inject mail headers)"
                )  # fmt: skip
        if len(_name(row, at)) > MAX_NAME:
            return Rejection(line, email, f"the name is longer than {MAX_NAME} characters")
        for name, i in at.items():
            if len(row[i]) > MAX_FIELD:
                return Rejection(line, email, f"{name} is longer than {MAX_FIELD} characters")
        if "language" in at:
            language = row[at["language"]].strip()
            if language and not _LANGUAGE.match(language):
                return Rejection(
                    line, email, f"language {_show(language)} is not a code like en or nb"
                )
        return None


def _standard_names(header: list[str]) -> list[str]:
    """The header with the usual other names for email, name and language renamed."""
    header = list(header)
    for standard, names in (
        ("email", EMAIL_COLUMNS),
        ("name", NAME_COLUMNS),
        ("language", LANGUAGE_COLUMNS),
    ):
        found = find_column(header, names)
        if found is not None and standard not in header:
            header[found] = standard
    return header


def _name(row: list[str], at: dict[str, int]) -> str:
    """The name column, or Mailchimp's First Name and Last Name when there is none."""
    if "name" in at:
        return row[at["name"]].strip()
    parts = (row[at[key]].strip() for key in (FIRST_NAME, LAST_NAME) if key in at)
    return " ".join(p for p in parts if p)


def _show(value: str, limit: int = 60) -> str:
    """A value quoted for a message, control characters escaped so they cannot act."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


def load_audience(
    path: Path, suppressed: Container[str] = frozenset()
) -> tuple[list[Recipient], AudienceReport]:
    """Every accepted recipient, in file order, and the report of the rows left out."""
    audience = Audience(path, suppressed)
    recipients = list(audience)
    return recipients, audience.report
