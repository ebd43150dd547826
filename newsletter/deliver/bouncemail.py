"""Bounce mail for plain SMTP: delivery status notifications read from a mailbox.

The messages come from IMAP (``imaps://user@host/INBOX``; the password from
NEWSLETTER_BOUNCE_PASSWORD), a Maildir folder or an mbox file. flufl.bounce (the GNU
Mailman detectors: RFC 3464 DSNs, Postfix, Exim, Exchange, qmail...) finds the bouncing
addresses and whether the failure is temporary or permanent. A VERP return path
(``bounces+alice=example.org@news.example.org``) names the recipient when nothing else does.
Reading a message twice is harmless: each bounce is stored once.
"""

from __future__ import annotations

import hashlib
import imaplib
import mailbox
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from urllib.parse import unquote, urlsplit

from newsletter.deliver.feedback import Taken, issue_of, project_feedback
from newsletter.errors import ConfigError, ProjectError
from newsletter.project import Project
from newsletter.store.events import Event, Kind

PASSWORD_ENV = "NEWSLETTER_BOUNCE_PASSWORD"
MAX_MESSAGE = 10 * 1024 * 1024
_VERP = re.compile(r"\+([^=@+]+)=([^@]+)@")
_OUR_ID = re.compile(rb"<\d{4}-\d{2}\.[A-Za-z0-9_-]+@[^>\s]+>")


@dataclass(frozen=True)
class Found:
    email: str
    permanent: bool
    issue: str | None
    message_key: str


def classify(raw: bytes) -> list[Found]:
    """The bouncing recipients of one message, each hard (permanent) or soft."""
    from flufl.bounce import all_failures

    msg = message_from_bytes(raw)
    temporary, permanent = all_failures(msg)
    key = msg.get("Message-ID") or hashlib.sha256(raw).hexdigest()
    ours = _OUR_ID.search(raw)
    issue = issue_of(ours.group(0).decode("ascii", "replace")) if ours else None
    found = [Found(a.decode("ascii", "replace"), True, issue, key) for a in sorted(permanent)]
    found += [
        Found(a.decode("ascii", "replace"), False, issue, key)
        for a in sorted(temporary - permanent)
    ]
    if not found and (verp := verp_recipient(msg)):
        found.append(Found(verp, False, issue, key))
    return found


def verp_recipient(msg: Message) -> str | None:
    for header in ("Delivered-To", "X-Original-To", "To"):
        for value in msg.get_all(header, []):
            if match := _VERP.search(str(value)):
                return f"{match.group(1)}@{match.group(2)}"
    return None


def _local_messages(path: Path) -> Iterator[bytes]:
    if path.is_dir():
        box: mailbox.Mailbox[mailbox.Message] = mailbox.Maildir(path, create=False)
    elif path.is_file():
        box = mailbox.mbox(path, create=False)
    else:
        raise ProjectError(
            f"{path}: no such Maildir folder or mbox file",
            hint="set [bounces] mailbox, or pass the mailbox: newsletter bounces fetch PATH",
        )
    try:
        for key in box.iterkeys():
            raw = box.get_bytes(key)
            if len(raw) <= MAX_MESSAGE:
                yield raw
    finally:
        box.close()


def _imap_messages(url: str, env: dict[str, str]) -> Iterator[bytes]:
    parts = urlsplit(url)
    if parts.scheme == "imap" and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
        raise ConfigError("IMAP without TLS is only allowed to this machine", hint="use imaps://")
    password = env.get(PASSWORD_ENV)
    if not password or not parts.username:
        raise ConfigError(f"{url}: needs a user in the URL and {PASSWORD_ENV} in the environment")
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    try:
        conn: imaplib.IMAP4 = (
            imaplib.IMAP4_SSL(parts.hostname or "", parts.port or 993, timeout=30)
            if parts.scheme == "imaps"
            else imaplib.IMAP4(parts.hostname or "", parts.port or 143, timeout=30)
        )
        conn.login(unquote(parts.username), password)
        conn.select(folder)
        _, data = conn.search(None, "UNSEEN")
        for number in (data[0] or b"").split():
            _, fetched = conn.fetch(number.decode(), "(RFC822)")  # marks it \\Seen
            for part in fetched:
                if isinstance(part, tuple) and len(part[1]) <= MAX_MESSAGE:
                    yield part[1]
        conn.logout()
    except (OSError, imaplib.IMAP4.error) as exc:
        raise ProjectError(f"{parts.hostname}: IMAP failed: {exc}") from exc


def messages(source: str) -> Iterator[bytes]:
    if source.startswith(("imap://", "imaps://")):
        return _imap_messages(source, dict(os.environ))
    return _local_messages(Path(source))


@dataclass
class FetchReport:
    messages: int = 0
    hard: int = 0
    soft: int = 0
    unrecognised: int = 0
    taken: Taken | None = None


def fetch_bounces(project: Project, source: str | None = None) -> FetchReport:
    """Read the bounce mailbox, classify each message and apply the bounce rules."""
    where = source or project.config.bounces.mailbox
    if not where:
        raise ConfigError(
            "no bounce mailbox",
            hint="set [bounces] mailbox, or pass it: newsletter bounces fetch PATH",
        )
    report = FetchReport()
    now = datetime.now(UTC)
    events: list[Event] = []
    for raw in messages(where):
        report.messages += 1
        found = classify(raw)
        if not found:
            report.unrecognised += 1
        for item in found:
            severity = "hard" if item.permanent else "soft"
            if item.permanent:
                report.hard += 1
            else:
                report.soft += 1
            key = f"{item.message_key}:{item.email.lower()}"
            payload = {"message": item.message_key}
            events.append(
                Event("mailbox", key, Kind.bounce, item.email, now, payload, severity, item.issue)
            )
    report.taken = project_feedback(project).take(events, now=now)
    return report
