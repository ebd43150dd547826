"""Standards-compliant MIME messages (multipart/alternative: text, then HTML)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from newsletter.config import Config
from newsletter.errors import ExportError
from newsletter.models import Issue

# Python folds long headers before the first word, which some parsers read back with a leading
# space; RFC 5322 allows 998 characters, so fold only beyond that.
POLICY = SMTP.clone(max_line_length=998)


def safe_header(name: str, value: str) -> str:
    """Header values never carry CR, LF or NUL: that is how header injection starts."""
    if any(c in value for c in "\r\n\x00"):
        raise ExportError(f"refusing header {name}: the value contains CR, LF or NUL")
    return value


def list_id(config: Config) -> str:
    if config.newsletter.list_id:
        return config.newsletter.list_id
    domain = config.newsletter.from_email.rsplit("@", 1)[1]
    return f"{config.newsletter.name} <newsletter.{domain}>"


def build_message(
    config: Config,
    issue: Issue,
    *,
    html: str,
    text: str,
    to: str | None = None,
    unsubscribe_url: str | None = None,
    date: datetime | None = None,
    extra_headers: dict[str, str] | None = None,
) -> EmailMessage:
    settings = config.newsletter
    domain = settings.from_email.rsplit("@", 1)[1]
    msg = EmailMessage(policy=POLICY)
    headers: dict[str, str] = {
        "Subject": issue.subject,
        "From": str(Address(settings.sender, addr_spec=settings.from_email)),
        "Date": format_datetime(date or datetime.now(UTC)),
        "Message-ID": make_msgid(domain=domain),
        "List-Id": list_id(config),
        "List-Unsubscribe": f"<{unsubscribe_url or settings.unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Archive": f"<{settings.web_url.rstrip('/')}/>",
    }
    if to:
        headers["To"] = to
    if settings.reply_to:
        headers["Reply-To"] = settings.reply_to
    headers.update(extra_headers or {})
    for name, value in headers.items():
        msg[name] = safe_header(name, value)
    msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    return msg
