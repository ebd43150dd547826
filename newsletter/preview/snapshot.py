"""One render of an issue with everything a preview shows beside it.

A snapshot is taken from the files on disk each time (newsletter.toml included), so the
live preview picks up every saved change. The HTML is the non-personal copy (merge tokens
filled with the preview values), the same one ``newsletter build`` writes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser

from newsletter.checks import CheckReport

DESKTOP_WIDTH = 600
PHONE_WIDTH = 375
# Inboxes show the sender, the subject and the first characters of the message body, in
# which the hidden preheader comes first: about 40 to 130 characters depending on the client.
INBOX_PREVIEW_CHARS = 130

_SCHEME_QUERY = re.compile(r"\(\s*prefers-color-scheme\s*:\s*(dark|light)\s*\)", re.IGNORECASE)
# Always and never true, and valid wherever the original media feature stood.
_ALWAYS, _NEVER = "(min-width: 0px)", "(max-width: 0px)"
_HEAD = re.compile(r"<head\b[^>]*>", re.IGNORECASE)
_ASCII_SPACE = re.compile(r"[ \t\r\n\f\v]+")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u034f\u00ad\ufeff\u2060"))
DARK_HEAD = (
    '<meta name="color-scheme" content="dark">'
    "<style>:root { color-scheme: dark !important; }</style>"
)


@dataclass(frozen=True)
class Snapshot:
    month: str
    sender: str
    subject: str
    preheader: str
    html: str
    text: str
    report: CheckReport
    taken_at: datetime
    # The prepared story images: their address under web_url -> the file on this machine.
    images: dict[str, Path] = field(default_factory=dict)
    status: str = "draft"  # the issue file's status: a preview says when it is not sent

    @cached_property
    def dark_html(self) -> str:
        return dark_variant(self.html)

    def with_local_images(self, html: str, address: Callable[[Path], str]) -> str:
        """``html`` loading the prepared images from this machine (``address`` of each file):
        a preview shows them before they are published, and Chromium reaches no other host."""
        for url, path in self.images.items():
            html = html.replace(url, address(path))
        return html

    def image_file(self, name: str) -> Path | None:
        return next((p for p in self.images.values() if p.name == name), None)

    @cached_property
    def inbox_preview(self) -> str:
        return inbox_preview(self.html)

    @property
    def has_dark_styles(self) -> bool:
        return has_dark_styles(self.html)


def take_snapshot(root: Path, month: str, *, reload_templates: bool = False) -> Snapshot:
    """Render ``month`` of the project at ``root`` and check it.

    Raises the stage's NewsletterError (bad YAML, invalid config, template or MJML error)
    when the issue cannot be built. ``reload_templates`` forgets compiled templates first:
    Jinja notices an edited template by itself, but not a new file that now overrides one.
    """
    from newsletter.build import render_month
    from newsletter.checks import check_rendered
    from newsletter.project import Project

    project = Project.at(root)  # a new Project re-reads newsletter.toml
    done = render_month(project, month, reload_templates=reload_templates)
    issue, config = done.issue, done.config
    report = check_rendered(config, issue, done.email, done.images)  # checked once
    return Snapshot(
        month=issue.month,
        sender=config.newsletter.sender,
        subject=issue.subject,
        preheader=issue.preheader,
        html=done.preview_html,
        text=done.preview_text,
        report=report,
        taken_at=datetime.now(),
        images=done.images.files() if done.images else {},
        status=issue.status.value,
    )


def dark_variant(html: str) -> str:
    """The email as a client in dark mode that honours ``prefers-color-scheme`` shows it.

    This is how Apple Mail, Outlook for macOS and iOS, Outlook.com and Samsung Email
    behave: the email's ``@media (prefers-color-scheme: dark)`` rules apply, and whatever
    the email does not colour itself takes the dark defaults (dark canvas, light text).
    The dark rules are made unconditional here so the view works in any browser,
    whatever its own colour scheme. Clients that recolour emails themselves (the Gmail
    apps, Outlook for Windows) are not emulated.
    """
    html = _SCHEME_QUERY.sub(lambda m: _ALWAYS if m.group(1).lower() == "dark" else _NEVER, html)
    return inject_into_head(html, DARK_HEAD)


def inject_into_head(html: str, snippet: str) -> str:
    """``snippet`` as the first thing in ``<head>`` (or of the document, without one)."""
    head = _HEAD.search(html)
    if head is None:
        return snippet + html
    return html[: head.end()] + snippet + html[head.end() :]


def has_dark_styles(html: str) -> bool:
    return any(m.group(1).lower() == "dark" for m in _SCHEME_QUERY.finditer(html))


def inbox_preview(html: str, limit: int = INBOX_PREVIEW_CHARS) -> str:
    """The preview text an inbox shows under the subject: the body's first characters.

    Clients take the text of the body in document order, the hidden preheader included,
    and keep reading into the visible content when the preheader is short, unless
    invisible filler characters after the preheader use up the space (they count here
    too, and show as nothing).
    """
    tree = LexborHTMLParser(html)
    for node in tree.css("style, script, title, head"):
        node.decompose()
    body = tree.body
    raw = body.text(separator=" ") if body is not None else ""
    text = _ASCII_SPACE.sub(" ", raw).strip()
    shown = text[:limit]
    more = any(not (c.isspace() or _filler(c)) for c in text[limit:])
    cut = more and bool(shown) and not _filler(shown[-1])  # cut inside visible text
    if cut and " " in shown:
        shown = shown.rsplit(" ", 1)[0]
    visible = " ".join(shown.translate(_INVISIBLE).split())
    return visible.rstrip(" ,.;:–-") + "…" if cut else visible


def _filler(char: str) -> bool:
    """Invisible characters (and no-break spaces) that preheader padding is made of."""
    return char == "\u00a0" or ord(char) in _INVISIBLE
