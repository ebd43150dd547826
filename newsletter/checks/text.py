"""Rules on text: leftover placeholders (HTML and plain text) and the plain-text part."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from newsletter.checks.report import CheckReport, Level
from newsletter.deliver import merge

if TYPE_CHECKING:
    from newsletter.models import Issue

TEXT_WIDTH = 78


def visible_source(html: str) -> str:
    """HTML without <style> contents and comments, where CSS braces would confuse the search."""
    html = re.sub(r"<style\b[^>]*>.*?</style\s*>", "", html, flags=re.S | re.I)
    return re.sub(r"<!--.*?-->", "", html, flags=re.S)


def check_placeholders(
    report: CheckReport, text: str, where: str, known_tokens: Iterable[str] = ()
) -> None:
    """Leftover template syntax or merge tags a provider would print, or choke on."""
    known = {f"%%{name}%%" for name in (*merge.FIELDS, *known_tokens)}
    seen: set[str] = set()
    for pattern, what in merge.LOOKALIKES:
        for match in pattern.finditer(text):
            found = match.group()
            if found in known or found in seen:
                continue
            seen.add(found)
            report.add(Level.error, "placeholder", f"unresolved {what} {found!r}", where)
    for match in merge.MANGLED_TAG_RE.finditer(text):
        found = match.group()
        if found not in seen:
            seen.add(found)
            report.add(
                Level.error, "placeholder",
                f"mangled merge tag {found!r}: its asterisks are lost (Markdown reads "
                f"*|NAME|* as emphasis unless it is kept); write it as '*{found}*'",
                where,
            )  # fmt: skip


def check_story_text(report: CheckReport, issue: Issue) -> None:
    """Story text that looks like a merge tag: it is printed as written, never filled in.

    Usually a source's own text (or a trap: a feed that sets an image to ``…/%%email%%``);
    if an editor meant to personalise a story, only subject, preheader and intro can.
    """
    for number, story in enumerate(issue.resolved().stories(), 1):
        for name, found, what in merge.story_lookalikes(story):
            report.add(
                Level.warning, "story-placeholder",
                f"story {number} ({story.title[:50]!r}) has {found!r} in its {name}; it looks "
                f"like a {what} but is printed as written, never filled in (only subject, "
                "preheader and intro are personalised)",
                f"issues/{issue.month}.yaml, story {story.id}",
            )  # fmt: skip


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
