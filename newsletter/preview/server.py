"""The live preview: a small web server on loopback that rebuilds on every save.

A watcher thread (watchfiles) rebuilds the issue whenever its file, newsletter.toml or a
template changes, and tells every open page over server-sent events (``/events``) to
reload itself. A build that fails keeps the last good preview on the page under the
error message, and the server keeps running until the next save fixes it.

Routes: ``/`` the preview page, ``/email.html`` and ``/email-dark.html`` the email,
``/img/NAME`` its prepared story images, ``/email.txt`` the plain-text part, ``/check.json``
the findings, ``/events`` the reload channel.
"""

from __future__ import annotations

import errno
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

from newsletter.errors import NewsletterError
from newsletter.preview import PreviewError
from newsletter.preview.snapshot import (
    DESKTOP_WIDTH,
    PHONE_WIDTH,
    Snapshot,
    inject_into_head,
    take_snapshot,
)

if TYPE_CHECKING:
    import jinja2
    from watchfiles import Change

HOST = "127.0.0.1"
DEFAULT_PORT = 8000
KEEPALIVE_SECONDS = 15
# Links in the previewed email open in a new tab rather than inside its small frame.
_LINKS_IN_NEW_TAB = '<base target="_blank">'


@dataclass
class Build:
    """The outcome of the latest rebuild, as the page shows it."""

    version: int = 0
    snapshot: Snapshot | None = None  # the last good one, kept while the files are broken
    error: str | None = None
    details: str | None = None  # a traceback, for an unexpected failure
    built_at: datetime = field(default_factory=datetime.now)


class PreviewState:
    """The latest build, shared between the watcher thread and the request threads."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._build = Build()
        self.closing = False

    @property
    def build(self) -> Build:
        with self._changed:
            return self._build

    def publish(self, snapshot: Snapshot | None, error: str | None, details: str | None) -> None:
        with self._changed:
            old = self._build
            self._build = Build(
                version=old.version + 1,
                snapshot=snapshot or old.snapshot,
                error=error,
                details=details,
            )
            self._changed.notify_all()

    def wait_for_change(self, version: int, timeout: float) -> int:
        with self._changed:
            self._changed.wait_for(
                lambda: self._build.version != version or self.closing, timeout=timeout
            )
            return self._build.version

    def close(self) -> None:
        with self._changed:
            self.closing = True
            self._changed.notify_all()


class PreviewServer:
    """Serve a live preview of one issue on ``http://127.0.0.1:PORT/``.

    ``start()`` builds the issue, starts watching and starts serving in a background
    thread; use the server as a context manager or call ``close()``. ``port=0`` picks a
    free port.
    """

    def __init__(
        self,
        root: Path,
        month: str,
        *,
        port: int = DEFAULT_PORT,
        on_rebuild: Callable[[Build], None] | None = None,
    ) -> None:
        from newsletter.project import Project

        self.project = Project.at(root)
        self.month = month
        self.issue_path = self.project.require_issue(month)
        self.state = PreviewState()
        self.on_rebuild = on_rebuild
        self._stop = threading.Event()
        self._watching = threading.Event()
        self._threads: list[threading.Thread] = []
        try:
            self.httpd = ThreadingHTTPServer((HOST, port), _handler_for(self))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PreviewError(
                    f"port {port} on {HOST} is already in use",
                    hint="stop the other preview, or pass another port: --port 8001 "
                    "(--port 0 picks a free one)",
                ) from exc
            raise PreviewError(f"cannot listen on {HOST}:{port}: {exc.strerror}") from exc
        self.httpd.daemon_threads = True

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    # --- life cycle -------------------------------------------------------------------------

    def start(self) -> PreviewServer:
        self.rebuild()
        for target in (self._watch, self.httpd.serve_forever):
            thread = threading.Thread(target=target, daemon=True, name=f"preview-{target.__name__}")
            thread.start()
            self._threads.append(thread)
        # Edits made from now on are seen: the watcher has registered its directories.
        self._watching.wait(timeout=10)
        return self

    def close(self) -> None:
        self._stop.set()
        self.state.close()
        if self._threads:  # shutdown() would wait forever for a loop that never ran
            self.httpd.shutdown()
        self.httpd.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> PreviewServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- building ---------------------------------------------------------------------------

    def rebuild(self, *, templates_changed: bool = False) -> None:
        snapshot, error, details = None, None, None
        try:
            snapshot = take_snapshot(
                self.project.root, self.month, reload_templates=templates_changed
            )
        except NewsletterError as exc:
            error = str(exc)
        except Exception as exc:  # a bug must not take the preview down; show it instead
            error = f"internal error: {type(exc).__name__}: {exc}"
            details = traceback.format_exc()
        self.state.publish(snapshot, error, details)
        if self.on_rebuild is not None:
            self.on_rebuild(self.state.build)

    def template_dirs(self) -> list[Path]:
        from newsletter.render import package_templates

        dirs = [self.project.templates_dir, package_templates()]
        return [d.resolve() for d in dirs if d.is_dir()]

    def watched_dirs(self) -> list[Path]:
        """The project folder, issues/ and every template folder, each watched flat.

        Watching the project recursively would also watch build output and virtual
        environments; templates are walked here instead.
        """
        dirs = {self.project.root, self.issue_path.parent.resolve()}
        for base in self.template_dirs():
            dirs.add(base)
            dirs.update(p for p in base.rglob("*") if p.is_dir() and p.name != "__pycache__")
        return sorted(dirs)

    def is_relevant(self, path: Path) -> bool:
        return path in (self.project.config_path, self.issue_path) or self.is_template(path)

    def is_template(self, path: Path) -> bool:
        if path.parent == self.project.root and path.name == self.project.templates_dir.name:
            return True  # templates/ created or removed: which templates apply changes
        resolved = path.resolve()
        return any(resolved.is_relative_to(base) for base in self.template_dirs())

    def _watch(self) -> None:
        from watchfiles import DefaultFilter, watch

        default = DefaultFilter()

        def relevant(change: Change, path: str) -> bool:
            return default(change, path) and self.is_relevant(Path(path))

        restarted = False
        while not self._stop.is_set():
            dirs = self.watched_dirs()
            for changes in watch(
                *dirs,
                watch_filter=relevant,
                recursive=False,
                debounce=800,
                # A save's events arrive within a millisecond or two; waiting 20 ms of quiet
                # (watchfiles' default is 50) still sees it as one change, and the page
                # reloads 30 ms sooner.
                step=20,
                stop_event=self._stop,
                rust_timeout=250,
                yield_on_timeout=True,  # an empty batch means "watching"
                raise_interrupt=False,
            ):
                self._watching.set()
                if restarted:  # catch up on anything saved while the watch was re-registered
                    restarted = False
                    self.rebuild(templates_changed=True)
                if not changes:
                    continue
                self.rebuild(templates_changed=any(self.is_template(Path(p)) for _, p in changes))
                if self.watched_dirs() != dirs:
                    restarted = True
                    break  # a template folder appeared or went away: watch the new set


# --- HTTP -------------------------------------------------------------------------------------


def _handler_for(server: PreviewServer) -> type[BaseHTTPRequestHandler]:
    class Handler(_PreviewHandler):
        preview = server

    return Handler


class _PreviewHandler(BaseHTTPRequestHandler):
    preview: PreviewServer
    server_version = "newsletter-preview"

    def log_message(self, format: str, *args: object) -> None:
        pass  # the terminal belongs to the command's own messages

    def do_GET(self) -> None:
        if not self._host_allowed():
            self._send(HTTPStatus.FORBIDDEN, "text/plain", b"forbidden host\n")
            return
        path = self.path.split("?", 1)[0]
        build = self.preview.state.build
        snapshot = build.snapshot
        if path == "/":
            page = render_page(self.preview.month, build, self.preview.issue_path)
            self._send(HTTPStatus.OK, "text/html", page.encode())
        elif path == "/events":
            self._events(build.version)
        elif snapshot is None and path in ("/email.html", "/email-dark.html", "/email.txt"):
            self._send(HTTPStatus.SERVICE_UNAVAILABLE, "text/plain", (build.error or "").encode())
        elif snapshot is not None and path in ("/email.html", "/email-dark.html"):
            html = snapshot.html if path == "/email.html" else snapshot.dark_html
            html = snapshot.with_local_images(html, lambda file: f"/img/{file.name}")
            self._send(
                HTTPStatus.OK, "text/html", inject_into_head(html, _LINKS_IN_NEW_TAB).encode()
            )
        elif snapshot is not None and path.startswith("/img/"):
            self._image(snapshot.image_file(path.removeprefix("/img/")))
        elif snapshot is not None and path == "/email.txt":
            self._send(HTTPStatus.OK, "text/plain", snapshot.text.encode())
        elif path == "/check.json":
            body = snapshot.report.to_json() if snapshot else "null"
            self._send(HTTPStatus.OK, "application/json", body.encode())
        else:
            self._send(HTTPStatus.NOT_FOUND, "text/plain", b"not found\n")

    def _image(self, file: Path | None) -> None:
        """A prepared story image, before it is published with the web version."""
        try:
            body = file.read_bytes() if file is not None else None
        except OSError:
            body = None
        if file is None or body is None:
            self._send(HTTPStatus.NOT_FOUND, "text/plain", b"not found\n")
            return
        ctype = "image/png" if file.suffix == ".png" else "image/jpeg"
        self._send(HTTPStatus.OK, ctype, body)

    def _host_allowed(self) -> bool:
        """Refuse other host names (DNS rebinding): only loopback may read the preview."""
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
        return host in ("127.0.0.1", "localhost", "[::1]")

    def _send(self, status: HTTPStatus, ctype: str, body: bytes) -> None:
        try:
            self.send_response(status)
            text = not ctype.startswith("image/")
            self.send_header("Content-Type", f"{ctype}; charset=utf-8" if text else ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _events(self, version: int) -> None:
        """Server-sent events: ``hello`` with the current version, then ``reload``."""
        state = self.preview.state
        try:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self._write_event(f"retry: 1000\nevent: hello\ndata: {version}\n\n")
            while not state.closing:
                latest = state.wait_for_change(version, KEEPALIVE_SECONDS)
                if state.closing:
                    break
                if latest == version:
                    self._write_event(": still here\n\n")
                    continue
                version = latest
                self._write_event(f"event: reload\ndata: {version}\n\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the page went away

    def _write_event(self, text: str) -> None:
        self.wfile.write(text.encode())
        self.wfile.flush()


# --- the page ---------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _page_template() -> jinja2.Template:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("newsletter.preview", "."),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("page.html.j2")


def render_page(month: str, build: Build, issue_path: Path) -> str:
    from newsletter.checks import GMAIL_CLIP_BYTES, HTML_BUDGET_BYTES

    return _page_template().render(
        month=month,
        build=build,
        snap=build.snapshot,
        issue_path=issue_path,
        desktop_width=DESKTOP_WIDTH,
        phone_width=PHONE_WIDTH,
        clip_kb=GMAIL_CLIP_BYTES // 1024,
        budget_kb=HTML_BUDGET_BYTES // 1024,
    )
