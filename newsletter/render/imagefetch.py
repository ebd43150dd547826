"""Story images, downloaded once: limits on size and time, a content-type check, a cache.

``ImageSource.get(url)`` returns an image's bytes: from a project folder that holds a copy of
it (``[images] local_copies``), from the cache (``.newsletter/cache/images/src/``, one file
per URL, written only when a download succeeded), or from the network, once. A download must
answer 200 with an image content type, within ``[images] timeout`` per read and
``total_timeout`` in all, and no larger than ``max_download_mb``. A failure is an
``ImageProblem`` naming what went wrong; nothing is cached for it, so the next build tries
again.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from newsletter import __version__
from newsletter.render.images import ImageProblem
from newsletter.settings.images import ImageSettings

if TYPE_CHECKING:
    # Imported when an image is downloaded: most builds find every image cached or local,
    # and httpx (which loads its own command line, click and rich) costs a cold build ~20%.
    import httpx

USER_AGENT = f"newsletter-images/{__version__} (+https://pypi.org/project/newsletter/)"
# What build turns into JPEG or PNG; SVG is refused (email clients rarely show it).
IMAGE_TYPES = frozenset({"image/jpeg", "image/jpg", "image/pjpeg", "image/png", "image/webp",
                         "image/gif"})  # fmt: skip
CHUNK = 64 * 1024


def cache_key(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:40]


class ImageSource:
    """Bytes of story images, for one build; ``fetch=False`` never uses the network."""

    def __init__(
        self, root: Path, cache_dir: Path, settings: ImageSettings, *, fetch: bool = True
    ) -> None:
        self.root = root
        self.cache = cache_dir / "src"
        self.settings = settings
        self.fetch = fetch
        self.limit = int(settings.max_download_mb * 1024 * 1024)
        self._client: httpx.Client | None = None

    def __enter__(self) -> ImageSource:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._client is not None:
            self._client.close()

    def local_copy(self, url: str) -> Path | None:
        """The project file that stands in for ``url``, if a local_copies prefix covers it."""
        for prefix, folder in self.settings.local_copies.items():
            if url.startswith(prefix):
                base = (self.root / folder).resolve()
                path = (base / url[len(prefix) :].split("?", 1)[0]).resolve()
                return path if path.is_relative_to(base) else None
        return None

    def available(self, url: str) -> bool:
        """Whether ``get`` can answer without the network."""
        return self.local_copy(url) is not None or (self.cache / cache_key(url)).is_file()

    def get(self, url: str) -> bytes:
        local = self.local_copy(url)
        if local is not None:
            return self._read_local(local)
        cached = self.cache / cache_key(url)
        if cached.is_file():
            return cached.read_bytes()
        if not self.fetch:
            raise ImageProblem("not downloaded (no network for this render)")
        data, ctype = self._download(url)
        self._store(url, cached, data, ctype)
        return data

    def _read_local(self, path: Path) -> bytes:
        try:
            size = path.stat().st_size
        except OSError:
            raise ImageProblem(f"the local copy {self._shown(path)} does not exist") from None
        if size > self.limit:
            raise ImageProblem(f"the local copy is {size / 1e6:.1f} MB; the limit is "
                               f"{self.settings.max_download_mb:g} MB")  # fmt: skip
        return path.read_bytes()

    def _shown(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root.resolve()))
        except ValueError:
            return str(path)

    @property
    def client(self) -> httpx.Client:
        import httpx

        if self._client is None:
            timeout = httpx.Timeout(self.settings.timeout, connect=min(self.settings.timeout, 10))
            self._client = httpx.Client(
                timeout=timeout,
                follow_redirects=True,
                max_redirects=5,
                headers={"User-Agent": USER_AGENT, "Accept": "image/*"},
            )
        return self._client

    def _download(self, url: str) -> tuple[bytes, str]:
        import httpx

        deadline = time.monotonic() + self.settings.total_timeout
        try:
            with self.client.stream("GET", url) as response:
                if response.status_code != 200:
                    raise ImageProblem(f"HTTP {response.status_code} {response.reason_phrase}")
                ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
                if ctype not in IMAGE_TYPES:
                    shown = ctype or "no content type"
                    raise ImageProblem(f"the server sent {shown}, not a JPEG, PNG, WebP or GIF")
                length = response.headers.get("content-length", "")
                if length.isdigit() and int(length) > self.limit:
                    raise ImageProblem(self._too_large(int(length)))
                body = bytearray()
                for chunk in response.iter_bytes(CHUNK):
                    body += chunk
                    if len(body) > self.limit:
                        raise ImageProblem(self._too_large(None))
                    if time.monotonic() > deadline:
                        raise ImageProblem(self._too_slow())
        except httpx.TimeoutException:
            raise ImageProblem(f"no answer within {self.settings.timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise ImageProblem(f"{type(exc).__name__}: {exc}".rstrip(": ")) from None
        return bytes(body), ctype

    def _too_large(self, size: int | None) -> str:
        limit = f"{self.settings.max_download_mb:g} MB ([images] max_download_mb)"
        return f"{size / 1e6:.1f} MB, over {limit}" if size else f"larger than {limit}"

    def _too_slow(self) -> str:
        return f"the download took longer than {self.settings.total_timeout:g} s"

    def _store(self, url: str, path: Path, data: bytes, ctype: str) -> None:
        """Write the download and a note of where it came from, atomically."""
        self.cache.mkdir(parents=True, exist_ok=True)
        note = json.dumps({"url": url, "content_type": ctype, "bytes": len(data)})
        for target, content in ((path.with_suffix(".json"), note.encode()), (path, data)):
            fd, tmp = tempfile.mkstemp(dir=self.cache, prefix=".part-")
            with os.fdopen(fd, "wb") as out:
                out.write(content)
            os.replace(tmp, target)
