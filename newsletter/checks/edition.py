"""Edition rules: every story in the edition's language, every template word translated."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import jinja2

from newsletter.checks.report import CheckReport, Level
from newsletter.i18n import messages, primary, source_entries

if TYPE_CHECKING:
    from newsletter.editions import Edition
    from newsletter.models import Issue
    from newsletter.project import Project

# t.read_more, t["read_more"], t.count(n, "story"), and gettext calls with a literal.
_LABEL = re.compile(r"\bt\.(?!count\b)([a-z_][a-z0-9_]*)|\bt\[\s*[\"']([a-z_][a-z0-9_]*)[\"']\s*\]")
_COUNT = re.compile(r"\bt\.count\([^,]+,\s*[\"']([a-z_][a-z0-9_]*)[\"']")
_GETTEXT = re.compile(r"\b(?:_|gettext)\(\s*\"((?:[^\"\\]|\\.)+)\"\s*\)")
SKIP = ("serve/",)  # the service pages speak the visitor's language, not an edition's


def check_story_languages(report: CheckReport, issue: Issue, edition: Edition) -> None:
    for story in issue.stories():
        if story.language and not edition.matches(story.language):
            report.add(
                Level.warning,
                "story-language",
                f"“{story.title}” is in {story.language!r}, not in the {edition.code} "
                "edition's language",
                f"story {story.id}",
            )


def template_words(env: jinja2.Environment) -> dict[str, set[str]]:
    """The labels (``t.key``) and literal gettext texts each email and web template uses."""
    found: dict[str, set[str]] = {}
    assert env.loader is not None
    for name in env.list_templates(filter_func=lambda n: n.endswith(".j2")):
        if name.startswith(SKIP):
            continue
        source = env.loader.get_source(env, name)[0]
        words = {a or b for a, b in _LABEL.findall(source)}
        words |= {f"{noun}_count" for noun in _COUNT.findall(source)}
        words |= {f"msgid:{text}" for text in _GETTEXT.findall(source)}
        if words:
            found[name] = words
    return found


def check_translations(
    report: CheckReport, project: Project, env: jinja2.Environment, edition: Edition
) -> None:
    """A word a template shows that the edition's catalogs do not translate (English is the
    source language, so an English edition has nothing to translate)."""
    if primary(edition.code) == "en":
        return
    words = messages(edition.code, project.locale_dir)
    known = source_entries()
    missing: dict[str, str] = {}
    for name, used in template_words(env).items():
        for word in sorted(used):
            if word.startswith("msgid:"):
                text = word[len("msgid:") :]
                if words.gettext(text) == text:
                    missing.setdefault(text, name)
            elif word in known and word not in words.translated:
                missing.setdefault(word, name)
    for word, name in missing.items():
        english = known[word].english if word in known else word
        report.add(
            Level.warning,
            "untranslated",
            f"{english!r} has no {edition.code} translation; the {edition.code} edition "
            f"shows it in English (add it to locale/{edition.code}.po)",
            name,
        )
