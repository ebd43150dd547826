"""The list as an audience: import, export and erase subscribers, and who gets an issue.

``import_csv`` reads a CSV with a consent column (comma or semicolon separated; Mailchimp's
export with ``Email Address``, ``First Name``/``Last Name`` and ``CONFIRM_TIME``/
``OPTIN_TIME`` works as it is). A row without recorded consent is not imported: it is listed
with its line, never dropped silently.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Container, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from newsletter.deliver.audience import (
    Audience,
    AudienceReport,
    AudienceSource,
    Recipient,
    Rejection,
    check_address,
)
from newsletter.deliver.csvfile import (
    EMAIL_COLUMNS,
    FIRST_NAME,
    LANGUAGE_COLUMNS,
    LAST_NAME,
    NAME_COLUMNS,
    column_name,
    find_column,
    not_utf8,
    sniff_delimiter,
)
from newsletter.errors import ProjectError
from newsletter.project import Project
from newsletter.store.subscribers import Consent, Method, Status, Subscribers

CONSENT_HEADERS = ("consent", "confirm_time", "optin_time", "samtykke")
YES = {"yes", "y", "true", "1", "ja", "x"}
NO = {"", "no", "n", "false", "0", "nei"}
MAX_IMPORT_BYTES = 50 * 1024 * 1024


@dataclass
class ImportReport:
    path: Path
    added: int = 0
    updated: int = 0
    rejected: list[Rejection] = field(default_factory=list)


def _rows(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    try:
        if path.stat().st_size > MAX_IMPORT_BYTES:
            raise ProjectError(f"{path}: larger than {MAX_IMPORT_BYTES // 2**20} MB")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ProjectError(f"{path}: file not found") from None
    except OSError as exc:
        raise ProjectError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise not_utf8(path, "the subscriber list") from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text[:65536]))
    try:
        header = next(reader)
    except StopIteration:
        raise ProjectError(f"{path}: the file is empty") from None

    def rows() -> Iterator[tuple[int, list[str]]]:
        line = reader.line_num + 1
        try:
            for row in reader:
                if any(cell.strip() for cell in row):
                    yield line, row
                line = reader.line_num + 1
        except csv.Error as exc:
            raise ProjectError(f"{path}:{reader.line_num}: malformed CSV: {exc}") from None

    return [column_name(h) for h in header], rows()


def import_csv(
    subscribers: Subscribers,
    path: Path,
    *,
    language: str,
    consent_column: str | None = None,
    now: datetime | None = None,
) -> ImportReport:
    header, rows = _rows(path)
    email_at = find_column(header, EMAIL_COLUMNS)
    if email_at is None:
        raise ProjectError(
            f"{path}:1: no email column (found: {', '.join(header) or 'nothing'})",
            hint="name the column 'email' (Mailchimp's 'Email Address' also works)",
        )
    wanted = (column_name(consent_column),) if consent_column else CONSENT_HEADERS
    consent_at = find_column(header, wanted)
    if consent_at is None:
        raise ProjectError(
            f"{path}:1: no consent column ({', '.join(wanted)})",
            hint="add a column saying when or how each person agreed, e.g. consent = "
            "'yes' or a date; rows without it are not imported",
        )
    name_at = find_column(header, NAME_COLUMNS)
    first_at, last_at = find_column(header, (FIRST_NAME,)), find_column(header, (LAST_NAME,))
    language_at = find_column(header, LANGUAGE_COLUMNS)
    report = ImportReport(path)
    when = now or datetime.now(UTC)
    for line, row in rows:

        def cell(index: int | None, row: list[str] = row) -> str:
            return row[index].strip() if index is not None and index < len(row) else ""

        raw = cell(email_at)
        try:
            email = check_address(raw)
        except ValueError as exc:
            report.rejected.append(Rejection(line, raw, f"not an email address: {exc}"))
            continue
        evidence = cell(consent_at)
        if evidence.lower() in NO:
            report.rejected.append(Rejection(line, raw, "no consent recorded in this row"))
            continue
        name = cell(name_at) or " ".join(p for p in (cell(first_at), cell(last_at)) if p)
        if any(ch in name for ch in "\r\n\x00") or len(name) > 200:
            report.rejected.append(Rejection(line, raw, "the name has a line break or is too long"))
            continue
        details: dict[str, Any] = {"file": path.name, "line": line}
        if evidence.lower() not in YES:
            details["consent"] = evidence[:200]  # a date or a note: the proof as given
        _, created = subscribers.add(
            email,
            name=name,
            language=cell(language_at) or language,
            topics=[],
            status=Status.confirmed,
            consent=Consent(Method.import_, None, None, details),
            now=when,
        )
        if created:
            report.added += 1
        else:
            report.updated += 1
    return report


def person_data(subscribers: Subscribers, email: str) -> dict[str, Any] | None:
    """Everything stored about one person, for a GDPR access request."""
    found = subscribers.get(email)
    history = subscribers.history(email)
    if found is None and not history:
        return None
    return {
        "subscriber": found.public() if found else None,
        "consent_history": history,
    }


SUBSCRIBERS = Path("subscribers")  # how reports name this audience


class SubscriberAudience:
    """The confirmed subscribers (of ``topic``, when given), read like an audience file.

    An address on the suppression list is left out and reported, as from a file.
    """

    def __init__(
        self,
        subscribers: Subscribers,
        suppressed: Container[str] = frozenset(),
        *,
        topic: str | None = None,
    ) -> None:
        self.subscribers = subscribers
        self.suppressed = suppressed
        self.topic = topic
        name = SUBSCRIBERS if topic is None else Path(f"subscribers[{topic}]")
        self.report = AudienceReport(name)

    @property
    def columns(self) -> list[str]:
        return []  # subscribers carry no custom merge fields

    def __iter__(self) -> Iterator[Recipient]:
        found = self.subscribers.iter(status=Status.confirmed, topic=self.topic)
        for line, sub in enumerate(found, 1):
            if sub.email in self.suppressed:
                self.report.rejected.append(
                    Rejection(line, sub.email, "on the suppression list", "suppressed")
                )
                continue
            self.report.accepted += 1
            yield Recipient(email=sub.email, name=sub.name, language=sub.language, line=line)

    def __len__(self) -> int:
        return sum(1 for _ in self.subscribers.iter(status=Status.confirmed, topic=self.topic))


def open_audience(
    project: Project, audience: Path | None, *, topic: str | None = None, required: bool
) -> AudienceSource | None:
    """Who gets the issue: the audience file, else the confirmed subscribers.

    Suppressed addresses are left out either way. With no file and no confirmed subscriber,
    ``required`` raises; otherwise None (an export of the non-personal template).
    """
    from newsletter.store.subscribers import open_subscribers
    from newsletter.store.suppression import SuppressionList

    with SuppressionList(project.database) as suppressions:
        suppressed = suppressions.emails()
    if audience is not None:
        if topic is not None:
            raise ProjectError(
                "--topic selects subscribers; it does not apply to an --audience file",
                hint="filter the file itself, or leave out --audience",
            )
        reader = Audience(audience, suppressed)
        reader.require_recipients()  # an export or send to nobody is a mistake, not a success
        return reader
    subs = SubscriberAudience(open_subscribers(project), suppressed, topic=topic)
    if len(subs):
        return subs
    if required:
        which = f"with topic {topic!r} " if topic else ""
        raise ProjectError(
            f"no confirmed subscribers {which}to send to",
            hint="people sign up through `newsletter serve`, or `newsletter subscribers "
            "import FILE`; or pass --audience FILE",
        )
    return None
