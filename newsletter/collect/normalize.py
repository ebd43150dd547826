"""Normalisation shared by every source kind: URLs, titles, summaries, images."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from newsletter.sanitize import html_to_text, summarize

TRACKING_PARAMS = re.compile(r"^(utm_[a-z_]+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_hs[a-z]+)$")
SUMMARY_LIMIT = 300


def canonical_url(url: str, base: str | None = None) -> str | None:
    """Resolve, then strip tracking parameters and fragment; None if not http(s)."""
    url = url.strip()
    if base:
        url = urljoin(base, url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    port = parts.port
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
         if not TRACKING_PARAMS.match(k.lower())]
    )  # fmt: skip
    return urlunsplit((scheme, host, parts.path or "/", query, ""))


def clean_title(raw: str) -> str:
    """Titles arrive as text or HTML; either way keep only the words."""
    return html_to_text(raw)


def make_summary(summary_html: str, body_html: str = "") -> str:
    text = html_to_text(summary_html) or html_to_text(body_html)
    return summarize(text, SUMMARY_LIMIT)
