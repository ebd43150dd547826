"""WordPress sites through their REST API (``/wp-json/wp/v2/posts``).

``url`` is the site root (``https://example.org``); the posts endpoint itself works too.
Posts are read 100 per page with ``_embed`` (for the featured image), following
``X-WP-TotalPages`` up to the source's ``max_pages``.

A local ``url`` reads saved API responses instead: a JSON file holding one response (an
array of posts), or a folder of such files read in name order (``posts-page1.json``,
``posts-page2.json``, …). The sample project reads ``sources/cluster/wp-json/posts.json``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from newsletter.collect.feed import first_image
from newsletter.collect.fetch import Fetched
from newsletter.collect.normalize import Parsed, RawItem
from newsletter.errors import CollectError

API_PATH = "/wp-json/wp/v2/posts"
PER_PAGE = 100

Fetch = Callable[[str], Fetched]


def posts_url(root: str, page: int) -> str:
    endpoint = root.rstrip("/")
    if "/wp-json/" not in endpoint and "rest_route=" not in endpoint:
        endpoint += API_PATH
    joiner = "&" if "?" in endpoint else "?"
    return f"{endpoint}{joiner}per_page={PER_PAGE}&_embed=1&page={page}"


def load_remote(
    root: str,
    *,
    source: str,
    fetch: Fetch,
    max_pages: int,
    known: Callable[[str], bool] = lambda url: False,
) -> Parsed | None:
    """Every page of posts that changed; None when none did (every page answered 304).

    ``known`` tells which page addresses were read before (their validators are stored).
    """
    first = fetch(posts_url(root, 1))
    if first.not_modified:
        return _revalidate(root, source=source, fetch=fetch, max_pages=max_pages, known=known)
    parsed = Parsed(base=first.url)
    parsed.raw.extend(parse_posts(first, source=source, notices=parsed.notices))
    total = _int_header(first, "x-wp-totalpages")
    pages = min(total or 1, max_pages)
    if total and total > max_pages:
        parsed.notices.append(
            f"read {max_pages} of {total} pages of posts (raise max_pages to read more)"
        )
    for page in range(2, pages + 1):
        fetched = fetch(posts_url(root, page))
        if not fetched.not_modified:
            parsed.raw.extend(parse_posts(fetched, source=source, notices=parsed.notices))
    return parsed


def _revalidate(
    root: str, *, source: str, fetch: Fetch, max_pages: int, known: Callable[[str], bool]
) -> Parsed | None:
    """Page 1 is unchanged, but that says nothing of the others: an edit to an older post
    changes only its own page. Each later page read last time is asked again, conditionally
    (a 304 costs the server little); the posts of the pages that changed are returned."""
    parsed = Parsed(base=posts_url(root, 1))
    changed = False
    page = 2
    while page <= max_pages and known(url := posts_url(root, page)):
        fetched = fetch(url)
        if not fetched.not_modified:
            changed = True
            parsed.raw.extend(parse_posts(fetched, source=source, notices=parsed.notices))
        page += 1
    return parsed if changed else None


def load_local(path: Path, *, source: str, read: Callable[[Path], Fetched]) -> Parsed:
    if path.is_dir():
        files = sorted(path.glob("*.json"))
        if not files:
            raise CollectError(f"{source}: {path} holds no .json files of WordPress posts")
    else:
        files = [path]
    parsed = Parsed()
    for file in files:
        parsed.raw.extend(parse_posts(read(file), source=source, notices=parsed.notices))
    return parsed


def _int_header(fetched: Fetched, name: str) -> int | None:
    value = fetched.headers.get(name, "").strip()
    return int(value) if value.isdigit() else None


def parse_posts(fetched: Fetched, *, source: str, notices: list[str]) -> list[RawItem]:
    try:
        data = json.loads(fetched.body)
    except (ValueError, UnicodeDecodeError):
        raise CollectError(
            f"{source}: {fetched.url} is not JSON, so not a WordPress REST API response",
            hint="set url to the site root (https://example.org); the site may not have the "
            'REST API enabled, then use its /feed/ with kind = "feed"',
        ) from None
    if isinstance(data, dict) and "code" in data:
        raise CollectError(
            f"{source}: the WordPress API at {fetched.url} answered "
            f"{str(data.get('code'))[:80]}: {str(data.get('message', ''))[:200]}"
        )
    if not isinstance(data, list):
        raise CollectError(
            f"{source}: {fetched.url} is not a list of WordPress posts",
            hint="set url to the site root (https://example.org)",
        )
    found = []
    links = {post.get("id"): post.get("link") for post in data if isinstance(post, dict)}
    for number, post in enumerate(data, 1):
        try:
            raw = _raw_item(post)
            raw.translation_of = translation_link(post, links, fetched.url)
            found.append(raw)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            notices.append(f"skipped post {number} of {fetched.url}: malformed ({exc!r:.80})")
    return found


def _language(value: Any) -> str | None:
    """Polylang's ``lang`` ("nb", "en_US") as a language code, when it is one."""
    if not isinstance(value, str):
        return None
    code = value.replace("_", "-").split("-")[0].lower()
    return code if 2 <= len(code) <= 3 and code.isascii() and code.isalpha() else None


def translation_link(post: dict[str, Any], links: dict[Any, Any], where: str) -> str | None:
    """The address of the post's version in another language, from Polylang's
    ``translations`` ({"en": 9510, "nb": 9611}) or WPML's ``wpml_translations``
    ([{"locale": "en_US", "id": 9510, "href": "..."}]); a translation that is not in
    the same response is known by its shortlink (``/?p=ID``)."""
    own = str(post.get("lang") or "")
    ids: list[Any] = []
    translations = post.get("translations")
    if isinstance(translations, dict):
        ids = [pid for lang, pid in translations.items() if lang != own and pid != post.get("id")]
    for entry in post.get("wpml_translations") or []:
        if isinstance(entry, dict) and entry.get("id") != post.get("id"):
            if isinstance(entry.get("href"), str):
                return str(entry["href"])
            ids.append(entry.get("id"))
    for pid in ids:
        if isinstance(links.get(pid), str):
            return str(links[pid])
    for pid in ids:
        if isinstance(pid, int):
            parts = urlsplit(str(post.get("link") or where))
            return f"{parts.scheme}://{parts.netloc}/?p={pid}"
    return None


def _rendered(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("rendered", "")
    return value if isinstance(value, str) else ""


def _gmt(value: Any) -> datetime | None:
    """``date_gmt`` is UTC without an offset."""
    if not isinstance(value, str) or not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _raw_item(post: dict[str, Any]) -> RawItem:
    image_url = image_alt = caption = None
    media = (post.get("_embedded") or {}).get("wp:featuredmedia") or []
    if media and isinstance(media[0], dict) and media[0].get("source_url"):
        image_url = media[0]["source_url"]
        image_alt = media[0].get("alt_text") or None
        caption = _rendered(media[0].get("caption")) or None
    body = _rendered(post.get("content"))
    if not image_url and body:
        image_url, image_alt = first_image(body)
    return RawItem(
        title=_rendered(post.get("title")),
        link=str(post.get("link") or ""),
        published=_gmt(post.get("date_gmt")) or _gmt(post.get("date")),
        updated=_gmt(post.get("modified_gmt")),
        summary_html=_rendered(post.get("excerpt")),
        body_html=body,
        image_url=image_url,
        image_alt=image_alt,
        image_caption=caption,
        guid=_rendered(post.get("guid")) or None,
        language=_language(post.get("lang")),
    )
