"""Fetching source documents over HTTP (or from a local file) with explicit limits.

One ``Fetcher`` serves a whole collect run from several threads: it shares one httpx
client, allows a few parallel requests per host, sends conditional requests with the
validators stored from the last run, retries 429/5xx with backoff (honouring
Retry-After, within a bound), caps the response size and the total time of a request,
follows redirects and reports a permanent one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from newsletter import __version__
from newsletter.config import CollectSettings
from newsletter.errors import CollectError

USER_AGENT = f"newsletter/{__version__} (+https://pypi.org/project/newsletter/)"
MAX_REDIRECTS = 10
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_LOCAL_TYPES = {
    ".xml": "application/xml",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".json": "application/json",
    ".html": "text/html",
    ".htm": "text/html",
}


@dataclass(frozen=True)
class Validators:
    """What a server gave us to ask "has this changed?" next time."""

    etag: str | None = None
    last_modified: str | None = None

    def __bool__(self) -> bool:
        return bool(self.etag or self.last_modified)


@dataclass
class Fetched:
    """A fetched document: its bytes, the final URL and the response headers that matter."""

    body: bytes
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200
    moved_to: str | None = None
    validators: Validators | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass
class _Retry:
    status: int
    wait: float | None


class Fetcher:
    """Polite, bounded HTTP for one collect run; safe to share between threads."""

    def __init__(self, settings: CollectSettings | None = None) -> None:
        self.settings = settings or CollectSettings()
        self.max_bytes = int(self.settings.max_mb * 1024 * 1024)
        self._hosts: dict[str, threading.BoundedSemaphore] = {}
        self._lock = threading.Lock()
        self.client = httpx.Client(
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
            headers={"User-Agent": self.settings.user_agent or USER_AGENT},
            transport=httpx.HTTPTransport(retries=1),  # connect errors only
            limits=httpx.Limits(max_connections=self.settings.concurrency * 2),
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _slot(self, url: str) -> Iterator[None]:
        host = urlsplit(url).hostname or ""
        with self._lock:
            semaphore = self._hosts.setdefault(
                host, threading.BoundedSemaphore(self.settings.per_host)
            )
        with semaphore:
            yield

    def get(
        self,
        url: str,
        *,
        source: str,
        validators: Validators | None = None,
        timeout: float | None = None,
        accept: str | None = None,
    ) -> Fetched:
        """GET ``url``; a 304 comes back as ``Fetched(status=304)``; failures raise CollectError."""
        attempt = 0
        while True:
            with self._slot(url):
                result = self._once(url, source, validators, timeout, accept)
            if isinstance(result, Fetched):
                return result
            if attempt >= self.settings.retries:
                tries = f" after {attempt + 1} attempts" if attempt else ""
                raise CollectError(
                    f"{source}: HTTP {result.status} from {url}{tries}",
                    hint="the server is failing or limiting us; try again later",
                )
            wait = result.wait if result.wait is not None else self.settings.backoff * 2**attempt
            if wait > self.settings.max_retry_wait:
                raise CollectError(
                    f"{source}: HTTP {result.status} from {url}: the server asks us to retry "
                    f"after {wait:.0f} s, longer than the {self.settings.max_retry_wait:.0f} s "
                    "we wait",
                    hint="collect again later, or raise max_retry_wait in [collect]",
                )
            time.sleep(wait)
            attempt += 1

    def _once(
        self,
        url: str,
        source: str,
        validators: Validators | None,
        timeout: float | None,
        accept: str | None,
    ) -> Fetched | _Retry:
        settings = self.settings
        read_timeout = timeout or settings.timeout
        headers = {"Accept": accept} if accept else {}
        if validators and validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators and validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        deadline = time.monotonic() + settings.total_timeout
        try:
            with self.client.stream(
                "GET",
                url,
                headers=headers,
                timeout=httpx.Timeout(
                    connect=settings.connect_timeout, read=read_timeout, write=10.0, pool=60.0
                ),
            ) as response:
                status = response.status_code
                if status in RETRY_STATUSES:
                    return _Retry(status, retry_after(response.headers.get("retry-after")))
                if status >= 400:
                    raise CollectError(
                        f"{source}: HTTP {status} {response.reason_phrase} from {url}",
                        hint=_status_hint(status),
                    )
                final = str(response.url)
                permanent = any(r.status_code in (301, 308) for r in response.history)
                moved_to = final if permanent and final != url else None
                found = Validators(
                    response.headers.get("etag"), response.headers.get("last-modified")
                )
                lowered = {k.lower(): v for k, v in response.headers.items()}
                if status == 304:
                    return Fetched(b"", final, lowered, 304, moved_to, validators)
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > self.max_bytes:
                    raise self._too_large(source, url)
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise self._too_large(source, url)
                    if time.monotonic() > deadline:
                        raise CollectError(
                            f"{source}: {url} took longer than {settings.total_timeout:.0f} s "
                            "to download; gave up",
                            hint="raise total_timeout in [collect] if the server is just slow",
                        )
                    chunks.append(chunk)
                lowered.setdefault("content-location", final)
                return Fetched(b"".join(chunks), final, lowered, status, moved_to, found or None)
        except httpx.TooManyRedirects:
            raise CollectError(
                f"{source}: {url} redirects in a loop (more than {MAX_REDIRECTS} redirects)",
                hint="open the URL in a browser and put the final address in newsletter.toml",
            ) from None
        except httpx.ConnectTimeout:
            raise CollectError(
                f"{source}: cannot connect to {url} within {settings.connect_timeout:.0f} s",
                hint="check the address and your network",
            ) from None
        except httpx.ReadTimeout:
            raise CollectError(
                f"{source}: {url} sent nothing for {read_timeout:g} s (read timeout)",
                hint="the server is stalled or slow; try again later or raise the source's timeout",
            ) from None
        except httpx.ConnectError as exc:
            raise CollectError(
                f"{source}: cannot connect to {url}: {exc}",
                hint="check the address in newsletter.toml and your network",
            ) from None
        except httpx.HTTPError as exc:
            raise CollectError(
                f"{source}: cannot fetch {url}: {type(exc).__name__}: {exc}"
            ) from None

    def _too_large(self, source: str, url: str) -> CollectError:
        return CollectError(
            f"{source}: {url} is larger than {self.settings.max_mb:g} MB; refused it",
            hint="raise max_mb in [collect] if this source is really that large",
        )


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _status_hint(status: int) -> str:
    if status == 404 or status == 410:
        return "the address is gone; check the source's url in newsletter.toml"
    if status in (401, 403):
        return "the server refuses us; the source may need another address or a login"
    return "check the source's url in newsletter.toml"


def read_local(path: Path, *, source: str, max_bytes: int) -> Fetched:
    """A local file as if it had been fetched, so every parser takes the same input."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise CollectError(
                f"{source}: {path} is larger than {max_bytes // (1024 * 1024)} MB; refused it",
                hint="raise max_mb in [collect] if the file is really that large",
            )
        body = path.read_bytes()
    except OSError as exc:
        raise CollectError(
            f"{source}: cannot read {path}: {exc.strerror}",
            hint="check the source's url (a path relative to the project) in newsletter.toml",
        ) from exc
    ctype = _LOCAL_TYPES.get(path.suffix.lower(), "application/octet-stream")
    return Fetched(body, path.resolve().as_uri(), {"content-type": ctype})
