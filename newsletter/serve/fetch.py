"""The one kind of request the service makes itself: a small https GET for a webhook's proof."""

from __future__ import annotations

import httpx

from newsletter.serve.webhooks import Refused

MAX_FETCH = 64 * 1024


def https_fetch(url: str) -> bytes:
    """GET a small https resource (an SNS certificate or subscription link), bounded."""
    if not url.startswith("https://"):
        raise Refused(400, "only https addresses are fetched")
    try:
        with httpx.stream("GET", url, timeout=5.0, follow_redirects=False) as answer:
            if answer.status_code != 200:
                raise Refused(502, f"{url} answered HTTP {answer.status_code}")
            body = b""
            for chunk in answer.iter_bytes():
                body += chunk
                if len(body) > MAX_FETCH:
                    raise Refused(502, f"{url} is too large")
            return body
    except httpx.HTTPError as exc:
        raise Refused(502, f"cannot fetch {url}: {exc}") from None
