"""``newsletter check --links``: does every link and image in an issue answer?

Requests run in a small thread pool with one shared httpx client: HEAD first, and GET when
a server does not allow HEAD. Redirects are followed; a final status of 400 or more, a
timeout or a connection error counts as dead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx

from newsletter import __version__

USER_AGENT = f"newsletter-linkcheck/{__version__} (+https://pypi.org/project/newsletter/)"
TIMEOUT_S = 10.0
WORKERS = 8
# Answers that mean "HEAD is not welcome here", not "the page is gone".
_RETRY_WITH_GET = {403, 405, 406, 429, 500, 501, 502, 503}


@dataclass(frozen=True)
class LinkResult:
    url: str
    status: int | None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and self.status < 400


def _probe(client: httpx.Client, url: str) -> LinkResult:
    try:
        response = client.head(url)
        if response.status_code in _RETRY_WITH_GET:
            with client.stream("GET", url) as streamed:  # headers only; the body is not read
                response = streamed
        status = response.status_code
        reason = "" if status < 400 else f"HTTP {status} {response.reason_phrase}".strip()
        return LinkResult(url, status, reason)
    except httpx.TimeoutException:
        return LinkResult(url, None, f"no answer within {TIMEOUT_S:.0f} s")
    except httpx.HTTPError as exc:
        return LinkResult(url, None, f"{type(exc).__name__}: {exc}".strip().rstrip(":"))


def check_links(
    urls: Iterable[str],
    *,
    timeout: float = TIMEOUT_S,
    progress: Callable[[int, int], None] | None = None,
) -> list[LinkResult]:
    """Request each URL once; results in the order given."""
    targets = list(dict.fromkeys(urls))
    if not targets:
        return []
    headers = {"User-Agent": USER_AGENT}
    done = 0
    results: dict[str, LinkResult] = {}
    with (
        httpx.Client(follow_redirects=True, timeout=timeout, headers=headers) as client,
        ThreadPoolExecutor(max_workers=min(WORKERS, len(targets))) as pool,
    ):
        for result in pool.map(lambda u: _probe(client, u), targets):
            results[result.url] = result
            done += 1
            if progress:
                progress(done, len(targets))
    return [results[u] for u in targets]
