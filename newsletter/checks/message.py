"""Rules on the exported message itself: what mail servers and spam filters read first.

``check_message`` reads a message's raw bytes, as a receiving server would: the headers every
bulk message needs, a Date and a To that parse, RFC 2047 encoded-words of at most 75
characters that each hold whole characters, line lengths (RFC 5322: 998 at most, 78 where a
fold is possible) and each List-* header (RFC 2369, RFC 2919, RFC 8058).
``exported_messages`` builds the messages ``export`` would write for an issue: the template
.eml and one recipient's copy.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from email.header import decode_header
from email.utils import getaddresses, parsedate_to_datetime
from typing import TYPE_CHECKING

from newsletter.checks.report import CheckReport, Level

if TYPE_CHECKING:
    from newsletter.config import Config
    from newsletter.models import Issue

LINE_MAX = 998  # RFC 5322 2.1.1: MUST
LINE_FOLD = 78  # RFC 5322 2.1.1: SHOULD
WORD_MAX = 75  # RFC 2047 2
REQUIRED = ("From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "List-Unsubscribe")
ONCE = (*REQUIRED, "Reply-To", "List-Id", "List-Unsubscribe-Post", "List-Archive")
ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_URI_LIST = re.compile(r"^\s*<[^<>\s]+>(\s*,\s*<[^<>\s]+>)*\s*$")
_LIST_ID = re.compile(r"<[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)+>\s*$")
SAMPLE_RECIPIENT = ("reader@example.org", "Kari Nordmann")


def _fields(head: str) -> Iterator[tuple[str, str, list[str]]]:
    """(name, unfolded value, raw lines) of each header field, in order."""
    lines: list[str] = []
    for line in head.split("\r\n"):
        if line[:1] in (" ", "\t") and lines:
            lines.append(line)
            continue
        if lines:
            yield _field(lines)
        lines = [line]
    if lines and lines[0]:
        yield _field(lines)


def _field(lines: list[str]) -> tuple[str, str, list[str]]:
    name, _, value = "".join(lines).partition(":")
    return name.strip(), value.strip(), lines


def _foldable(line: str) -> bool:
    """Could this line be folded within 78 characters, and not before its first word?"""
    if line[:1] in (" ", "\t"):
        start = len(line) - len(line.lstrip(" \t"))
    else:
        colon = line.find(":") + 1
        start = colon + len(line[colon:]) - len(line[colon:].lstrip(" \t"))
    first_fold = line.find(" ", start)
    return first_fold != -1 and first_fold <= LINE_FOLD


def check_message(report: CheckReport, raw: bytes, where: str, *, personal: bool) -> None:
    """Every rule on one message. ``personal``: one recipient's copy (not the template)."""
    head, sep, _ = raw.partition(b"\r\n\r\n")
    if not sep or b"\n" in head.replace(b"\r\n", b""):
        report.add(Level.error, "message-format", "lines must end with CRLF", where)
    try:
        text = head.decode("ascii")
    except UnicodeDecodeError:
        report.add(Level.error, "message-format", "the header has non-ASCII bytes", where)
        return
    for number, line in enumerate(raw.split(b"\r\n"), 1):
        if len(line) > LINE_MAX:
            report.add(
                Level.error, "message-line-length",
                f"line {number} is {len(line)} characters; mail servers may cut or refuse "
                f"lines over {LINE_MAX}", where,
            )  # fmt: skip
    fields = list(_fields(text))
    seen: dict[str, list[str]] = {}
    for name, value, lines in fields:
        seen.setdefault(name.lower(), []).append(value)
        _check_lines(report, name, lines, where)
        _check_encoded_words(report, name, value, where)
    for name in REQUIRED:
        if name.lower() not in seen:
            report.add(Level.error, "message-headers", f"no {name} header", where)
    for name in ONCE:
        if len(seen.get(name.lower(), [])) > 1:
            report.add(Level.error, "message-headers", f"{name} appears more than once", where)
    values = {name: found[0] for name, found in seen.items()}
    _check_date(report, values.get("date"), where)
    _check_to(report, values.get("to"), where)
    _check_lists(report, values, where, personal=personal)


def _check_lines(report: CheckReport, name: str, lines: list[str], where: str) -> None:
    for line in lines:
        if LINE_FOLD < len(line) <= LINE_MAX and _foldable(line):
            report.add(
                Level.warning, "message-line-length",
                f"a {name} header line is {len(line)} characters; fold it at {LINE_FOLD}",
                where,
            )  # fmt: skip
            return


def _check_encoded_words(report: CheckReport, name: str, value: str, where: str) -> None:
    for match in ENCODED_WORD.finditer(value):
        word = match.group()
        if len(word) > WORD_MAX:
            report.add(
                Level.error, "message-encoded-word",
                f"{name} has a {len(word)}-character encoded-word; RFC 2047 allows {WORD_MAX}, "
                "and some clients then show the raw =?utf-8?...?= text",
                where,
            )  # fmt: skip
            return
        try:
            ((data, charset),) = decode_header(word)
            if isinstance(data, bytes):
                data.decode(charset or "ascii")
        except (ValueError, LookupError):
            report.add(
                Level.error, "message-encoded-word",
                f"{name} has an encoded-word that does not decode on its own ({word[:40]}…): "
                "each must hold whole characters",
                where,
            )  # fmt: skip
            return


def _check_date(report: CheckReport, value: str | None, where: str) -> None:
    if value is None:
        return
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        when = None
    if when is None or when.tzinfo is None:
        report.add(
            Level.error, "message-date",
            f"Date {value!r} is not an RFC 5322 date with a time zone", where,
        )  # fmt: skip


def _check_to(report: CheckReport, value: str | None, where: str) -> None:
    if value is None:
        return
    if re.fullmatch(r"[^:<>@,;\"]+:\s*;", value):
        return  # an empty group, e.g. undisclosed-recipients:;
    addresses = [a for _, a in getaddresses([value]) if a]
    if not addresses or not all(re.fullmatch(r"[^@\s]+@[^@\s]+", a) for a in addresses):
        report.add(Level.error, "message-to", f"To {value!r} is not an address", where)


def _check_lists(
    report: CheckReport, values: dict[str, str], where: str, *, personal: bool
) -> None:
    unsubscribe = values.get("list-unsubscribe")
    post = values.get("list-unsubscribe-post")
    for name, value in values.items():
        if not name.startswith("list-") or name in ("list-id", "list-unsubscribe-post"):
            continue
        if not _URI_LIST.match(value):
            report.add(
                Level.error, "message-list-header",
                f"{name.title()} must be a list of <URI>s (RFC 2369), got {value!r}", where,
            )  # fmt: skip
    if "list-id" in values and not _LIST_ID.search(values["list-id"]):
        report.add(
            Level.error, "message-list-header",
            f"List-Id must end in <a.dotted.id> (RFC 2919), got {values['list-id']!r}", where,
        )  # fmt: skip
    if "list-id" not in values:
        report.add(Level.warning, "message-headers", "no List-Id header", where)
    if unsubscribe is None:
        return
    uris = re.findall(r"<([^<>]+)>", unsubscribe)
    if not any(uri.startswith("https://") for uri in uris):
        report.add(
            Level.error, "message-list-unsubscribe",
            "List-Unsubscribe has no https URL: Gmail and Yahoo need one for one-click "
            "unsubscribe", where,
        )  # fmt: skip
    if post is not None and post != "List-Unsubscribe=One-Click":
        report.add(
            Level.error, "message-list-unsubscribe",
            f"List-Unsubscribe-Post must be 'List-Unsubscribe=One-Click', got {post!r}", where,
        )  # fmt: skip
    if personal and post is None:
        report.add(
            Level.error, "message-list-unsubscribe",
            "a recipient's copy has no List-Unsubscribe-Post: one-click unsubscribe (RFC 8058) "
            "is required of bulk senders", where,
        )  # fmt: skip
    if not personal and post is not None:
        report.add(
            Level.error, "message-list-unsubscribe",
            "List-Unsubscribe-Post is offered on a URL that names no recipient: a one-click "
            "POST to it cannot unsubscribe anyone", where,
        )  # fmt: skip


def exported_messages(
    config: Config, issue: Issue, html: str, text: str
) -> list[tuple[str, bytes, bool]]:
    """(where, raw bytes, personal) of the template .eml and of a sample recipient's copy.

    The copy is signed with a throwaway key: its links are checked, never sent.
    """
    from newsletter.deliver import merge
    from newsletter.deliver.audience import Recipient
    from newsletter.deliver.message import MessageTemplate, template_copy

    values = merge.preview_values(config)
    template = template_copy(
        config, issue, html=merge.fill(html, values, escape=True), text=merge.fill(text, values)
    )
    personalizer = merge.Personalizer(config, issue.month, secrets.token_bytes(32))
    personal = personalizer.personal(Recipient(*SAMPLE_RECIPIENT))
    copy = MessageTemplate(config, issue, html=html, text=text).render(personal)
    return [
        (f"exported {issue.month}.eml (export --to eml)", template, False),
        (f"a recipient's copy of {issue.month} (send, export --audience)", copy, True),
    ]


def check_exported(report: CheckReport, config: Config, issue: Issue, html: str, text: str) -> None:
    for where, raw, personal in exported_messages(config, issue, html, text):
        check_message(report, raw, where, personal=personal)
