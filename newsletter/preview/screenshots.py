"""Full-page screenshots of an issue with headless Chromium.

Chromium runs with a fresh profile and talks the DevTools protocol over a pipe (no port
is opened). Every request the page makes goes through the protocol's Fetch domain:
local files and loopback load, anything else is refused, so taking screenshots never
touches the network. The story images ``build`` prepared are loaded from this machine;
other remote images are drawn as grey placeholders in the space the layout keeps for them.

Each view is measured before it is photographed: the viewport grows to the height of the
document, so the PNG holds the whole email and nothing below it.
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
import os
import select
import shutil
import signal
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from xml.sax.saxutils import escape

from newsletter.errors import PreviewError
from newsletter.preview.snapshot import DESKTOP_WIDTH, PHONE_WIDTH, Snapshot

CHROMIUM_ENV = "NEWSLETTER_CHROMIUM"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-breakpad",
    "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
    "--no-first-run",
    "--no-default-browser-check",
    "--hide-scrollbars",
    "--mute-audio",
    "--force-color-profile=srgb",
    # Names never resolve (loopback excepted); the Fetch domain refuses the rest.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--remote-debugging-pipe",
)
MAX_HEIGHT = 16_000  # Chromium cannot capture much taller surfaces in one piece
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
LOCAL_SCHEMES = {"file", "data", "blob", "about"}


@dataclass(frozen=True)
class View:
    name: str
    width: int
    mobile: bool
    dark: bool
    label: str


VIEWS = (
    View("desktop", DESKTOP_WIDTH, mobile=False, dark=False, label="desktop, 600 px"),
    View("mobile", PHONE_WIDTH, mobile=True, dark=False, label="phone, 375 px"),
    View("dark", DESKTOP_WIDTH, mobile=False, dark=True, label="dark mode, 600 px"),
)


@dataclass(frozen=True)
class Screenshot:
    view: View
    path: Path
    width: int
    height: int
    clipped: bool  # the email was taller than MAX_HEIGHT
    blocked: int  # remote requests not made (images get a placeholder)
    scale: float = 1.0  # below 1: the email is wider than the view, a phone shrinks it


def find_chromium() -> str:
    """The Chromium executable: $NEWSLETTER_CHROMIUM, else the Debian/Ubuntu names."""
    override = os.environ.get(CHROMIUM_ENV)
    if override:
        found = shutil.which(override)
        if found is None:
            raise PreviewError(
                f"{CHROMIUM_ENV}={override}: no such executable",
                hint=f"point {CHROMIUM_ENV} at a Chromium or Chrome binary, or unset it",
            )
        return found
    for candidate in CHROMIUM_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    raise PreviewError(
        "no Chromium found (looked for /usr/bin/chromium, chromium and chromium-browser)",
        hint="install it (Debian/Ubuntu: `sudo apt-get install chromium`) or set "
        f"{CHROMIUM_ENV} to the path of a Chromium or Chrome binary",
    )


def take_screenshots(
    snapshot: Snapshot, out_dir: Path, *, chromium: str | None = None, timeout: float = 60
) -> list[Screenshot]:
    """Write desktop.png, mobile.png and dark.png of ``snapshot`` into ``out_dir``."""
    executable = chromium or find_chromium()
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="newsletter-preview-") as tmp:
        pages = Path(tmp)
        for name, html in (("email.html", snapshot.html), ("email-dark.html", snapshot.dark_html)):
            local = snapshot.with_local_images(html, lambda path: path.resolve().as_uri())
            (pages / name).write_text(local, encoding="utf-8")
        shots = []
        with _Chromium(executable, pages / "profile", timeout) as browser:
            session = browser.open_page()
            for view in VIEWS:
                page = pages / ("email-dark.html" if view.dark else "email.html")
                path = out_dir / f"{view.name}.png"
                shots.append(browser.capture(session, page.as_uri(), view, path))
        return shots


def placeholder_svg(path: str) -> bytes:
    """A grey 16:9 stand-in for a remote image, labelled with its file name.

    It keeps the space a photo takes in the layout (at the width the email gives it);
    the real image's height may differ. Drawn small, it says less in larger letters
    (media queries in an SVG image see the size it is drawn at).
    """
    name = unquote(path.rsplit("/", 1)[-1]) or "image"
    name = escape(name if len(name) <= 44 else name[:43] + "…")
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="675" '
        'viewBox="0 0 1200 675"><style>.small { display: none; } '
        "@media (max-width: 240px) { .large { display: none; } .small { display: inline; } }"
        '</style><rect width="1200" height="675" fill="#d5d9de"/>'
        '<g fill="none" stroke="#8a939c" stroke-width="10"><rect x="530" y="200" width="140" '
        'height="110" rx="10"/><path d="M545 295l40-45 30 30 20-20 25 35"/></g>'
        '<g font-family="sans-serif" fill="#4f5963" text-anchor="middle">'
        '<text class="large" x="600" y="390" font-size="44">image not loaded in previews</text>'
        f'<text class="large" x="600" y="450" font-size="36">{name}</text>'
        '<text class="small" x="600" y="450" font-size="90">image not loaded</text></g></svg>'
    ).encode()


class _Chromium:
    """A headless Chromium driven over ``--remote-debugging-pipe`` (fds 3 and 4)."""

    def __init__(self, executable: str, profile: Path, timeout: float) -> None:
        self.executable = executable
        self.profile = profile
        self.timeout = timeout
        self.log = profile.parent / "chromium.log"
        self.pid = 0
        self._next_id = 0
        self._buffer = bytearray()
        self._events: deque[dict[str, Any]] = deque()
        self._blocked = 0

    def __enter__(self) -> _Chromium:
        self.profile.mkdir(parents=True)
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        argv = [self.executable, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}"]
        try:
            self.pid = os.posix_spawn(
                self.executable,
                [*argv, "about:blank"],
                os.environ,
                file_actions=[
                    (os.POSIX_SPAWN_DUP2, to_browser_r, 3),
                    (os.POSIX_SPAWN_DUP2, from_browser_w, 4),
                    (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                    (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                    (os.POSIX_SPAWN_OPEN, 2, str(self.log), os.O_WRONLY | os.O_CREAT, 0o600),
                ],
                setsid=True,  # its own process group, so every helper process is stopped
            )
        except OSError as exc:
            os.close(self._to_browser)
            os.close(self._from_browser)
            raise PreviewError(f"{self.executable}: cannot start Chromium: {exc}") from exc
        finally:
            os.close(to_browser_r)
            os.close(from_browser_w)
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):  # it may have quit already
            self._send("Browser.close")
        for fd in (self._to_browser, self._from_browser):
            os.close(fd)
        done, deadline = 0, time.monotonic() + 5
        while time.monotonic() < deadline:
            done, _ = os.waitpid(self.pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)  # leftover helpers of the browser we started
        if not done:
            os.waitpid(self.pid, 0)

    # --- the protocol -------------------------------------------------------------------

    def _send(self, method: str, params: dict[str, Any] | None = None, session: str = "") -> int:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self._to_browser, data) :]
        return self._next_id

    def _receive(self, deadline: float, waiting_for: str) -> dict[str, Any]:
        while (end := self._buffer.find(b"\0")) < 0:
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([self._from_browser], [], [], max(remaining, 0))
            if not ready:
                raise PreviewError(
                    f"Chromium did not answer {waiting_for} within {self.timeout:.0f} s; "
                    f"its last words:\n{self._log_tail()}",
                    hint="try again; if it keeps happening, run the same command with --debug",
                )
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise PreviewError(f"Chromium quit unexpectedly:\n{self._log_tail()}")
            self._buffer += chunk
        message: dict[str, Any] = json.loads(self._buffer[:end])
        del self._buffer[: end + 1]
        if message.get("method") == "Fetch.requestPaused":
            self._gate(message)
        return message

    def _gate(self, event: dict[str, Any]) -> None:
        """Let local and loopback requests through; answer remote images with a placeholder.

        Everything else remote is refused.
        """
        params = event["params"]
        request, session = {"requestId": params["requestId"]}, event.get("sessionId", "")
        url = urlsplit(params["request"]["url"])
        if url.scheme in LOCAL_SCHEMES or (url.hostname or "") in LOOPBACK:
            self._send("Fetch.continueRequest", request, session)
        elif params.get("resourceType") == "Image":
            self._blocked += 1
            placeholder = {
                "responseCode": 200,
                "responseHeaders": [{"name": "Content-Type", "value": "image/svg+xml"}],
                "body": base64.b64encode(placeholder_svg(url.path)).decode(),
            }
            self._send("Fetch.fulfillRequest", request | placeholder, session)
        else:
            self._blocked += 1
            self._send("Fetch.failRequest", request | {"errorReason": "BlockedByClient"}, session)

    def call(self, method: str, params: dict[str, Any] | None = None, session: str = "") -> Any:
        request = self._send(method, params, session)
        deadline = time.monotonic() + self.timeout
        while True:
            message = self._receive(deadline, method)
            if message.get("id") == request:
                if "error" in message:
                    raise PreviewError(f"Chromium: {method} failed: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self._events.append(message)

    def wait_for(self, event: str, session: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while True:
            while self._events:
                message = self._events.popleft()
                if message["method"] == event and message.get("sessionId") == session:
                    return message
            message = self._receive(deadline, event)
            if "method" in message:
                self._events.append(message)

    def _log_tail(self) -> str:
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(lines[-15:]) or "(empty log)"

    # --- pages ----------------------------------------------------------------------------

    def open_page(self) -> str:
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session: str = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        self.call("Page.enable", session=session)
        self.call("Fetch.enable", {"patterns": [{"urlPattern": "*"}]}, session)
        return session

    def capture(self, session: str, url: str, view: View, path: Path) -> Screenshot:
        """Load ``url`` at the view's width and write its full-page PNG to ``path``."""
        scheme = "dark" if view.dark else "light"
        self.call(
            "Emulation.setEmulatedMedia",
            {"features": [{"name": "prefers-color-scheme", "value": scheme}]},
            session,
        )
        height = 100  # start short: a document is never shorter than its viewport
        self._metrics(session, view, height)
        self._events.clear()
        self._blocked = 0
        result = self.call("Page.navigate", {"url": url}, session)
        if result.get("errorText"):
            raise PreviewError(f"Chromium could not open the email: {result['errorText']}")
        self.wait_for("Page.loadEventFired", session)
        self.call(
            "Runtime.evaluate",
            {"expression": "document.fonts.ready.then(() => true)", "awaitPromise": True},
            session,
        )
        # Grow the viewport to the document; another pass settles anything that depends on
        # the viewport height (such as a body with min-height: 100%).
        wanted, scale = height, 1.0
        for _ in range(3):
            wanted, scale = self._document_height(session)
            if wanted == height:
                break
            height = min(wanted, MAX_HEIGHT)
            self._metrics(session, view, height)
            if height == MAX_HEIGHT:
                break
        shot = self.call("Page.captureScreenshot", {"format": "png"}, session)
        path.write_bytes(base64.b64decode(shot["data"]))
        return Screenshot(
            view, path, view.width, height, wanted > MAX_HEIGHT, self._blocked, round(scale, 3)
        )

    def _metrics(self, session: str, view: View, height: int) -> None:
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": view.width, "height": height, "deviceScaleFactor": 1, "mobile": view.mobile},
            session,
        )

    def _document_height(self, session: str) -> tuple[int, float]:
        """The document's height in screen pixels, and the zoom a phone shows it at.

        A phone shrinks an email wider than its screen to fit (zoom below 1).
        """
        metrics = self.call("Page.getLayoutMetrics", session=session)
        content = metrics["cssContentSize"]
        scale = min(float(metrics["cssVisualViewport"].get("scale", 1) or 1), 1.0)
        return max(1, math.ceil(float(content["height"]) * scale)), scale
