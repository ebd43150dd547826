"""Fetching source documents over HTTP (or from a local file) with explicit limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import httpx

from newsletter import __version__
from newsletter.errors import CollectError

USER_AGENT = f"newsletter/{__version__} (+https://pypi.org/project/newsletter/)"
TIMEOUT = httpx.Timeout(connect=5.0, read=15.0, write=10.0, pool=5.0)
MAX_BYTES = 20 * 1024 * 1024


@dataclass
class Fetched:
    """A fetched document: its bytes, the final URL and the response headers that matter."""

    body: bytes
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200


def fetch(location: str | Path, *, source: str, client: httpx.Client | None = None) -> Fetched:
    if isinstance(location, Path):
        return _read_file(location, source)
    own = client is None
    client = client or httpx.Client(
        timeout=TIMEOUT, follow_redirects=True, headers={"User-Agent": USER_AGENT}
    )
    try:
        with client.stream("GET", location) as response:
            if response.status_code >= 400:
                raise CollectError(f"{source}: HTTP {response.status_code} from {location}")
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_BYTES:
                    raise CollectError(
                        f"{source}: response from {location} is larger than "
                        f"{MAX_BYTES // (1024 * 1024)} MB; refusing it"
                    )
                chunks.append(chunk)
            headers = {k.lower(): v for k, v in response.headers.items()}
            headers.setdefault("content-location", str(response.url))
            return Fetched(b"".join(chunks), str(response.url), headers, response.status_code)
    except httpx.HTTPError as exc:
        raise CollectError(f"{source}: cannot fetch {location}: {exc!r}") from exc
    finally:
        if own:
            client.close()


def _read_file(path: Path, source: str) -> Fetched:
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise CollectError(f"{source}: cannot read {path}: {exc.strerror}") from exc
    if len(body) > MAX_BYTES:
        raise CollectError(f"{source}: {path} is larger than {MAX_BYTES} bytes; refusing it")
    suffix = path.suffix.lower()
    ctype = {
        ".xml": "application/xml",
        ".rss": "application/rss+xml",
        ".atom": "application/atom+xml",
        ".json": "application/json",
        ".html": "text/html",
        ".htm": "text/html",
    }.get(suffix, "application/octet-stream")
    return Fetched(body, path.resolve().as_uri(), {"content-type": ctype})
