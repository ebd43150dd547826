"""What the templates see: the issue, its layout plan, theme, labels and links."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from markupsafe import Markup

from newsletter.config import Config
from newsletter.deliver import merge
from newsletter.editions import edition_for, project_editions
from newsletter.i18n import gettext_callables, language_name, messages, text_direction
from newsletter.models import Issue
from newsletter.render.images import Slot, layout_slots
from newsletter.render.layout import plan_layout
from newsletter.render.theme import Theme, build_theme

# Card images take this share of the width; the text column the rest.
IMAGE_COLUMN_PERCENT = 36
# Keeps clients from pulling body text into the inbox preview after a short preheader.
PREHEADER_FILLER = Markup("&#847;&zwnj;&nbsp;" * 40)


def card_image_width(theme: Theme) -> int:
    """A card image's width on desktop: its column less the 24 px gutter."""
    return theme.width * IMAGE_COLUMN_PERCENT // 100 - 24


def image_slots(theme: Theme) -> dict[str, Slot]:
    """The places a story image can take in this layout, for the image step."""
    return layout_slots(theme.content_width, card_image_width(theme))


def issue_context(
    config: Config, issue: Issue, *, web: bool = False, locale_dir: Path | None = None
) -> dict[str, Any]:
    """``locale_dir``: the project's own message catalogs, over the shipped ones."""
    issue = issue.resolved()  # staff overrides (title, summary, image, alt, cta) win
    issue = merge.inert_stories(issue)  # story text is printed as written, never merged
    editions = project_editions(config)
    edition = edition_for(editions, issue.language)
    settings = edition.settings  # [newsletter] with the edition's own about, address...
    web_url = settings.web_url.rstrip("/")
    here = f"{web_url}/{edition.web_prefix}"
    theme = build_theme(config.brand)
    lang = issue.language or settings.language
    words = messages(lang, locale_dir)
    return {
        "config": config,
        "newsletter": settings,
        "brand": config.brand,
        "theme": theme,
        "light": theme.light,
        "dark": theme.dark,
        "issue": issue,
        "layout": plan_layout(issue),
        "web": web,
        "lang": lang,
        "dir": text_direction(lang),
        "t": words.labels,
        **gettext_callables(words),
        "edition": edition,
        "alternates": [
            {
                "lang": e.code,
                "name": language_name(e.code),
                "href": f"{web_url}/{e.web_prefix}{issue.month}/",
            }
            for e in editions
            if e is not edition
        ],
        "utm_params": config.utm.params(issue.month),
        "links": {
            "web_version": f"{here}{issue.month}/",
            "archive": here,
            "feed": f"{here}feed.xml",
            "subscribe": config.list_links().subscribe,
            "unsubscribe": merge.token("unsubscribe_url"),
            "preferences": merge.token("preferences_url"),
        },
        "month_name": words.month(issue.month, title=True),
        "preheader_filler": PREHEADER_FILLER if issue.preheader else "",
        "image_column_percent": IMAGE_COLUMN_PERCENT,
        "card_image_width": card_image_width(theme),
    }
