"""Rules on text: leftover placeholders (HTML and plain text) and the plain-text part."""

from __future__ import annotations

import re
from collections.abc import Iterable

from newsletter.checks.report import CheckReport, Level

TEXT_WIDTH = 78
_PLACEHOLDER_RES = (
    (re.compile(r"\{\{.{0,60}?\}\}|\{%.{0,60}?%\}", re.S), "template placeholder"),
    (re.compile(r"\*\|[A-Za-z0-9_:]+\|\*"), "Mailchimp merge tag"),
    (re.compile(r"%recipient\.[\w-]+%"), "Mailgun recipient variable"),
    (re.compile(r"%%[A-Za-z_][\w-]*%%"), "merge token"),
)


def visible_source(html: str) -> str:
    """HTML without <style> contents and comments, where CSS braces would confuse the search."""
    html = re.sub(r"<style\b[^>]*>.*?</style\s*>", "", html, flags=re.S | re.I)
    return re.sub(r"<!--.*?-->", "", html, flags=re.S)


def check_placeholders(
    report: CheckReport, text: str, where: str, known_tokens: Iterable[str] = ()
) -> None:
    """Leftover template syntax or merge tags a provider would print, or choke on."""
    from newsletter.deliver import merge

    known = {f"%%{name}%%" for name in (*merge.FIELDS, *known_tokens)}
    seen: set[str] = set()
    for pattern, what in _PLACEHOLDER_RES:
        for match in pattern.finditer(text):
            found = match.group()
            if found in known or found in seen:
                continue
            seen.add(found)
            report.add(Level.error, "placeholder", f"unresolved {what} {found!r}", where)


def check_text(report: CheckReport, text: str, unsubscribe_url: str | None = None) -> None:
    check_placeholders(report, text, "email.txt")
    if unsubscribe_url and unsubscribe_url not in text:
        report.add(Level.error, "unsubscribe", "the plain-text part has no unsubscribe link")
    for number, line in enumerate(text.splitlines(), 1):
        if len(line) > TEXT_WIDTH and "://" not in line:
            report.add(
                Level.warning, "text-width",
                f"a plain-text line is {len(line)} characters (wrap at {TEXT_WIDTH})",
                f"email.txt:{number}",
            )  # fmt: skip
