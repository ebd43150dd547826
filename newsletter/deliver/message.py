"""Standards-compliant MIME messages (multipart/alternative: text, then HTML).

``MessageTemplate`` serialises an issue once and then writes each recipient's copy by
splicing their values into pre-encoded bytes, so a personal message costs a few
microseconds instead of a full MIME build. Both parts are quoted-printable; every merge token
sits between QP soft line breaks, so a value is encoded on its own and no line passes 76
characters. The boundary starts with ``==``, which quoted-printable text can never contain.
"""

from __future__ import annotations

import binascii
import html
import secrets
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid

from newsletter.config import Config
from newsletter.deliver.headers import address_header, header, safe_header
from newsletter.deliver.merge import TOKEN_RE, Personal
from newsletter.models import Issue

__all__ = [
    "MessageTemplate", "ascii_header", "build_message", "safe_header", "template_copy",
    "to_header",
]  # fmt: skip

# For parsing only: messages are written by ``headers``, which folds and encodes as RFC 5322
# and RFC 2047 want (Python's folder cannot do both at once).
POLICY = SMTP.clone(max_line_length=998)
CRLF = b"\r\n"
SOFT_BREAK = b"=\r\n"
PROOF_PREFIX = "[PROOF] "
# A template copy goes to no one in particular: an empty group (RFC 5322 3.4) says so, and
# a message without To: looks like spam (SpamAssassin MISSING_HEADERS, REPLYTO_WITHOUT_TO_CC).
UNDISCLOSED = b"To: undisclosed-recipients:;\r\n"
ONE_CLICK = b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"


def list_id(config: Config) -> str:
    if config.newsletter.list_id:
        return config.newsletter.list_id
    domain = config.newsletter.from_email.rsplit("@", 1)[1]
    return f"{config.newsletter.name} <newsletter.{domain}>"


def static_headers(config: Config, subject: str) -> dict[str, str]:
    """The unstructured headers every copy of an issue shares (From and Reply-To aside)."""
    return {
        "Subject": subject,
        "List-Id": list_id(config),
        "List-Archive": f"<{config.newsletter.web_url.rstrip('/')}/>",
    }


def to_header(email: str, display_name: str) -> str:
    """``Name <addr>`` for providers' JSON APIs, which take the header value as one string."""
    return formataddr((display_name, email), charset="utf-8") if display_name else email


def ascii_header(name: str, value: str) -> str:
    """A header value as 7-bit ASCII on one line (RFC 2047 words), for APIs that take headers."""
    if value.isascii():
        return safe_header(name, value)
    unfolded = header(name, value).decode("ascii").replace("\r\n", "")
    return unfolded[len(name) + 2 :]


def _qp(text: str) -> bytes:
    """Quoted-printable with CRLF line ends, ready to be followed by a soft line break."""
    data = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    encoded = binascii.b2a_qp(data, quotetabs=False, istext=True, header=False)
    encoded = encoded.replace(b"\n", CRLF)
    start = encoded.rfind(b"\n") + 1
    last = encoded[start:]
    if len(last) <= 75:
        return encoded
    # Leave room for the "=" of a soft break, never cutting an "=XX" escape in two.
    cut = 75
    while last[cut - 1 : cut] == b"=" or last[cut - 2 : cut - 1] == b"=":
        cut -= 1
    return encoded[:start] + last[:cut] + SOFT_BREAK + last[cut:]


class _Part:
    """One text part, pre-encoded around its merge tokens."""

    def __init__(self, content: str, subtype: str) -> None:
        pieces = TOKEN_RE.split(content)
        self.literals = [_qp(piece) for piece in pieces[0::2]]
        self.fields = pieces[1::2]
        self.escape = subtype == "html"
        self.head = (
            f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        ).encode("ascii")

    def write(self, out: list[bytes], values: Mapping[str, str]) -> None:
        out.append(self.head)
        literals = self.literals
        out.append(literals[0])
        for i, name in enumerate(self.fields, 1):
            previous = literals[i - 1]
            if previous and not previous.endswith(CRLF):
                out.append(SOFT_BREAK)
            value = values.get(name)
            if value is None:
                value = f"%%{name}%%"  # unknown token: left in place, as merge.fill does
            elif self.escape:
                value = html.escape(value)
            out.append(_qp(value))
            out.append(SOFT_BREAK)
            out.append(literals[i])
        out.append(CRLF)  # belongs to the boundary line that follows, not to the content


class MessageTemplate:
    """An issue serialised once; ``render(personal)`` writes one recipient's copy as bytes."""

    def __init__(
        self,
        config: Config,
        issue: Issue,
        *,
        html: str,
        text: str,
        proof: bool = False,
        extra_headers: Mapping[str, str] | None = None,
    ) -> None:
        subject = (PROOF_PREFIX if proof else "") + issue.subject
        settings = config.newsletter
        self.domain = settings.from_email.rsplit("@", 1)[1]
        self.boundary = f"==============={secrets.token_hex(12)}=="
        headers = static_headers(config, subject)
        if proof:
            headers["X-Newsletter-Proof"] = "yes"
        headers.update(extra_headers or {})
        head = [b"MIME-Version: 1.0\r\n", header("Subject", headers.pop("Subject"))]
        head.append(address_header("From", settings.sender, settings.from_email))
        if settings.reply_to:
            head.append(address_header("Reply-To", "", settings.reply_to))
        head += [header(k, v) for k, v in headers.items()]
        self.head = b"".join(head)
        self.content_type = (
            f'Content-Type: multipart/alternative;\r\n boundary="{self.boundary}"\r\n\r\n'
        ).encode("ascii")
        self.delimiter = f"--{self.boundary}\r\n".encode("ascii")
        self.closing = f"--{self.boundary}--\r\n".encode("ascii")
        self.text = _Part(text, "plain")
        self.html = _Part(html, "html")
        self._date_second = -1
        self._date = b""

    def _date_header(self) -> bytes:
        now = int(time.time())
        if now != self._date_second:
            stamp = format_datetime(datetime.fromtimestamp(now, UTC))
            self._date = f"Date: {stamp}\r\n".encode("ascii")
            self._date_second = now
        return self._date

    def render(
        self, personal: Personal, *, date: datetime | None = None, one_click: bool = True
    ) -> bytes:
        """One recipient's message, CRLF line ends throughout, ready for SMTP or a .eml file.

        Without ``date`` the Date is the moment of writing: ``send`` writes each message as it
        hands it over. ``one_click`` says the List-Unsubscribe URL identifies the recipient,
        so a POST to it unsubscribes them (RFC 8058); a template copy's URL does not.
        """
        date_line = (
            f"Date: {format_datetime(date)}\r\n".encode("ascii") if date else self._date_header()
        )
        out = [self.head, date_line]
        if personal.email:
            out.append(address_header("To", personal.display_name, personal.email))
        else:
            out.append(UNDISCLOSED)
        out.append(header("Message-ID", personal.message_id))
        out.append(header("List-Unsubscribe", personal.list_unsubscribe))
        if one_click:
            out.append(ONE_CLICK)
        out.append(self.content_type)
        out.append(self.delimiter)
        self.text.write(out, personal.values)
        out.append(self.delimiter)
        self.html.write(out, personal.values)
        out.append(self.closing)
        return b"".join(out)


def template_copy(
    config: Config,
    issue: Issue,
    *,
    html: str,
    text: str,
    to: str | None = None,
    unsubscribe_url: str | None = None,
    date: datetime | None = None,
    extra_headers: dict[str, str] | None = None,
) -> bytes:
    """A message that is not personal: for no one (To: undisclosed-recipients) unless ``to``.

    Its List-Unsubscribe URL carries no recipient's token unless ``unsubscribe_url`` does, so
    it offers no one-click POST.
    """
    settings = config.newsletter
    template = MessageTemplate(config, issue, html=html, text=text, extra_headers=extra_headers)
    personal = Personal(
        email=to or "",
        display_name="",
        values={},
        message_id=make_msgid(domain=settings.from_email.rsplit("@", 1)[1]),
        list_unsubscribe=f"<{unsubscribe_url or config.list_links().unsubscribe}>",
    )
    return template.render(
        personal, date=date or datetime.now(UTC), one_click=unsubscribe_url is not None
    )


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
    """``template_copy`` parsed into an ``EmailMessage`` (proofs, tests)."""
    raw = template_copy(
        config, issue, html=html, text=text, to=to, unsubscribe_url=unsubscribe_url,
        date=date, extra_headers=extra_headers,
    )  # fmt: skip
    msg = message_from_bytes(raw, _class=EmailMessage, policy=POLICY)
    assert isinstance(msg, EmailMessage)
    return msg
