"""RSS and Atom feeds, parsed by feedparser from bytes we fetched ourselves."""

from __future__ import annotations

import calendar
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import feedparser

from newsletter.collect.fetch import Fetched
from newsletter.collect.normalize import canonical_url, clean_title, make_summary
from newsletter.errors import CollectError
from newsletter.models import Image, NewsItem, item_id
from newsletter.sanitize import clean_html


def parse_feed(fetched: Fetched, *, source: str, language: str | None = None) -> list[NewsItem]:
    parsed = feedparser.parse(
        io.BytesIO(fetched.body),
        response_headers=fetched.headers,
        sanitize_html=False,  # nh3 cleans bodies; feedparser's sanitiser is slow and partial
    )
    if not parsed.entries:
        if parsed.bozo:
            raise CollectError(f"{source}: not a readable feed: {parsed.bozo_exception}")
        if not parsed.get("version"):
            raise CollectError(f"{source}: the document at {fetched.url} is not an RSS/Atom feed")
        return []
    feed_lang = _language(parsed.feed.get("language")) or language or "en"
    return list(_items(parsed.entries, fetched.url, source, language or feed_lang))


def _items(entries: list[Any], base: str, source: str, language: str) -> Iterator[NewsItem]:
    for entry in entries:
        url = canonical_url(entry.get("link", ""), base)
        published = _date(entry)
        title = clean_title(entry.get("title", ""))
        if not url or not published or not title:
            continue  # an entry without a safe link, a date or a title cannot be a story
        body = ""
        if entry.get("content"):
            body = entry.content[0].get("value", "")
        body = clean_html(body)
        yield NewsItem(
            id=item_id(url),
            source=source,
            title=title,
            url=url,
            published=published,
            summary=make_summary(entry.get("summary", ""), body),
            body_html=body,
            image=_image(entry, base),
            language=language,
            guid=entry.get("id"),
            sources=[source],
        )


def _date(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    return None


def _image(entry: Any, base: str) -> Image | None:
    candidates: list[tuple[str, str]] = []
    for media in entry.get("media_content", []):
        if media.get("medium", "image") == "image" or media.get("type", "").startswith("image/"):
            candidates.append((media.get("url", ""), ""))
    for link in entry.get("enclosures", []):
        if link.get("type", "").startswith("image/"):
            candidates.append((link.get("href", ""), ""))
    for thumb in entry.get("media_thumbnail", []):
        candidates.append((thumb.get("url", ""), ""))
    alt = clean_title(entry.get("media_description", "") or "")
    for raw, _ in candidates:
        url = canonical_url(raw, base) if raw else None
        if url:
            return Image(url=url, alt=alt[:250])
    return None


def _language(value: str | None) -> str | None:
    if not value:
        return None
    code = value.split("-")[0].split("_")[0].lower()
    return {"nb": "no", "nn": "no"}.get(code, code) if code.isalpha() else None
