"""Lists of people as spreadsheets save them: delimiters, header names, encoding errors.

Norwegian Excel saves "CSV" with semicolons, Mailchimp exports ``Email Address`` and
``First Name``, and a file saved as Latin-1 fails somewhere in the middle. The audience
reader and the suppression-list import read files the same way, through this module.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Sequence
from pathlib import Path

from newsletter.errors import ProjectError

DELIMITERS = ",;\t"
SAMPLE_BYTES = 64 * 1024
# Header names (as ``column_name`` spells them) that mean the same column.
EMAIL_COLUMNS = ("email", "email_address", "e_mail", "e_mail_address", "mail", "e_post",
                 "epost", "e_postadresse", "epostadresse")  # fmt: skip
NAME_COLUMNS = ("name", "full_name", "navn")
LANGUAGE_COLUMNS = ("language", "lang", "språk", "sprak")
FIRST_NAME, LAST_NAME = "first_name", "last_name"  # Mailchimp's; they make the name if none


def column_name(raw: str) -> str:
    """A header cell as a field name: ``Email Address`` -> ``email_address``."""
    return re.sub(r"[\s\-]+", "_", raw.strip().lower())


def find_column(header: Sequence[str], names: Sequence[str]) -> int | None:
    """The index of the first of ``names`` in a header of ``column_name``\\ s."""
    for name in names:
        if name in header:
            return header.index(name)
    return None


def sniff_delimiter(sample: str) -> str:
    """``,``, ``;`` or a tab: the one under which the header names an email column.

    ``csv.Sniffer`` (told only these three) guesses first; its guess is kept only when the
    header then has an email column, so a name like "Smith; Ann" cannot mislead it.
    """
    sample = sample[: sample.rfind("\n") + 1] or sample  # whole lines only
    header = sample.splitlines()[0] if sample else ""
    try:
        sniffed: str | None = str(csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter)
    except csv.Error:
        sniffed = None
    candidates: list[str] = [d for d in dict.fromkeys((sniffed, *DELIMITERS)) if d]
    for delimiter in candidates:
        cells = next(csv.reader([header], delimiter=delimiter), [])
        if find_column([column_name(c) for c in cells], EMAIL_COLUMNS) is not None:
            return delimiter
    return sniffed or ","


def sniff_file(path: Path) -> str:
    """The delimiter of the CSV file at ``path`` (see ``sniff_delimiter``)."""
    with path.open("rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
    return sniff_delimiter(sample.decode("utf-8-sig", errors="replace"))


def bad_utf8(path: Path) -> tuple[int, int] | None:
    """(line, byte) of the first byte in ``path`` that is not UTF-8, read in chunks."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    newlines = 0
    with path.open("rb") as fh:
        while chunk := fh.read(SAMPLE_BYTES):
            pending = decoder.getstate()[0]  # an unfinished character from the last chunk
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                data = pending + chunk
                return newlines + data.count(b"\n", 0, exc.start) + 1, data[exc.start]
            newlines += chunk.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return newlines + 1, -1  # the file ends inside a character
    return None


def not_utf8(path: Path, what: str) -> ProjectError:
    found = bad_utf8(path)
    if found is None:
        where, detail = str(path), ""
    else:
        line, byte = found
        where, detail = f"{path}:{line}", (f" (byte 0x{byte:02x})" if byte >= 0 else "")
    return ProjectError(
        f"{where}: {what} is not UTF-8 text{detail}",
        hint="save the CSV as UTF-8 (in a spreadsheet: 'CSV UTF-8')",
    )


def read_address_list(path: Path) -> list[tuple[int, str]]:
    """(line, address) from a CSV with an email column, or from one address per line.

    A header row is recognised by its email column (any of ``EMAIL_COLUMNS``, with any
    delimiter) and never read as an address; a one-column header with another name (for
    example "Unsubscribed") is skipped too.
    """
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise ProjectError(f"{path}: file not found") from None
    except UnicodeDecodeError:
        raise not_utf8(path, "the file") from None
    except OSError as exc:
        raise ProjectError(f"{path}: cannot read: {exc.strerror}") from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text[:4096]))
    rows: list[tuple[int, list[str]]] = []
    line = 1
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append((line, row))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise ProjectError(f"{path}:{reader.line_num}: malformed CSV: {exc}") from None
    if not rows:
        return []
    header = [column_name(c) for c in rows[0][1]]
    column = find_column(header, EMAIL_COLUMNS)
    if column is not None:
        return [(n, r[column] if column < len(r) else "") for n, r in rows[1:]]
    if len(header) == 1 and "@" not in header[0]:
        return [(n, r[0]) for n, r in rows[1:]]  # a header naming the one column otherwise
    if not any("@" in cell for cell in rows[0][1]):
        raise ProjectError(
            f"{path}:1: no email column (found: {', '.join(rows[0][1])})",
            hint="name the column 'email', or give one address per line",
        )
    return [(n, r[0]) for n, r in rows]
