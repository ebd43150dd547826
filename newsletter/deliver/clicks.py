"""Story links through the service's /r/<id> redirect, so clicks can be counted per link.

Anonymous by design: one id per (issue, link), the same for every recipient, so a click says
which story was read and never who read it. On only when [serve] public_url is set and
[serve] clicks is not turned off; the unsubscribe, preferences and web links never change.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable, Sequence

_HREF = re.compile(r'href="(https?://[^"]+)"')

Register = Callable[[str, Sequence[tuple[str, str]]], None]


def link_id(issue: str, url: str) -> str:
    return hashlib.sha256(f"{issue}\x1f{url}".encode()).hexdigest()[:16]


def track_links(
    issue: str, html_part: str, text_part: str, *, base: str, keep: Sequence[str],
    register: Register,
) -> tuple[str, str]:  # fmt: skip
    """Both parts with story links rewritten to ``base/r/<id>``; the ids are registered."""
    found: dict[str, str] = {}  # url -> id

    def rewrite(match: re.Match[str]) -> str:
        url = html.unescape(match.group(1))
        if url.startswith(tuple(keep)) or "%%" in url:
            return match.group(0)
        found.setdefault(url, link_id(issue, url))
        return f'href="{base}/r/{found[url]}"'

    html_part = _HREF.sub(rewrite, html_part)
    # Longest first, so that a link that is the start of another is not replaced inside it.
    for url in sorted(found, key=len, reverse=True):
        text_part = text_part.replace(url, f"{base}/r/{found[url]}")
    if found:
        register(issue, [(i, u) for u, i in found.items()])
    return html_part, text_part
