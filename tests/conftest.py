"""Shared fixtures: a real local HTTP server, fresh projects, golden-file helpers."""

from __future__ import annotations

import difflib
import hashlib
import itertools
import shutil
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from email.message import Message
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

# The throwaway PostgreSQL server and the `backend` fixture (SQLite and PostgreSQL).
pytest_plugins = ["tests.pgserver"]

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
GOLDEN = Path(__file__).resolve().parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="Rewrite the golden files from the current output instead of comparing.",
    )


@dataclass
class Response:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[BaseHTTPRequestHandler], Response]


class LocalServer:
    """A real HTTP server on 127.0.0.1 that serves routes and static files.

    ``routes`` maps a path (without query string) to a Response or to a callable that
    builds one from the request; anything else is looked up under ``root``. Static files
    carry an ETag and Last-Modified and answer a matching conditional request with 304.
    ``stopping`` is set when the server shuts down (a handler that stalls waits on it), and
    ``max_in_flight`` is the most requests it was ever serving at once.
    """

    def __init__(self, root: Path | None = None) -> None:
        self.root = root
        self.routes: dict[str, Response | Handler] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.stopping = threading.Event()
        self.in_flight = self.max_in_flight = 0
        self._count = threading.Lock()
        server = self

        class RequestHandler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                server.requests.append((self.path, dict(self.headers.items())))
                with server._count:
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    route = server.routes.get(path)
                    if callable(route):
                        route = route(self)
                    if route is None:
                        route = server.static(path, self.headers)
                finally:
                    with server._count:
                        server.in_flight -= 1
                try:
                    self.send_response(route.status)
                    for key, value in route.headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(route.body)))
                    self.end_headers()
                    self.wfile.write(route.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        self.httpd.daemon_threads = True
        # A short poll interval makes shutdown (each test's teardown) quick.
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def static(
        self, path: str, request: Mapping[str, str] | Message[str, str] | None = None
    ) -> Response:
        if self.root is None:
            return Response(b"not found", 404)
        target = (self.root / path.lstrip("/")).resolve()
        if not target.is_file() or self.root.resolve() not in target.parents:
            return Response(b"not found", 404)
        ctype = {
            ".xml": "application/rss+xml; charset=utf-8",
            ".json": "application/json; charset=utf-8",
            ".html": "text/html; charset=utf-8",
        }.get(target.suffix, "application/octet-stream")
        body = target.read_bytes()
        etag = f'"{hashlib.sha1(body).hexdigest()[:16]}"'
        validators = {
            "ETag": etag,
            "Last-Modified": formatdate(target.stat().st_mtime, usegmt=True),
        }
        if request is not None and (
            request.get("If-None-Match") == etag
            or (request.get("If-None-Match") is None
                and request.get("If-Modified-Since") == validators["Last-Modified"])
        ):  # fmt: skip
            return Response(b"", 304, validators)
        return Response(body, 200, {"Content-Type": ctype, **validators})

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> LocalServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def http_server() -> Iterator[LocalServer]:
    with LocalServer(FIXTURES) as server:
        yield server


CONFIG_TEMPLATE = """\
[newsletter]
name = "Test News"
from_email = "news@example.org"
postal_address = "Test Org, Street 1, 0001 Oslo, Norway"
web_url = "https://news.example.org"
unsubscribe_url = "https://news.example.org/unsubscribe"

{sources}
"""


def write_project(root: Path, sources: list[dict[str, str]]) -> Path:
    """A minimal project folder whose newsletter.toml lists ``sources``."""
    root.mkdir(parents=True, exist_ok=True)
    blocks = "\n".join(
        "[[sources]]\n" + "\n".join(f'{k} = "{v}"' for k, v in source.items()) + "\n"
        for source in sources
    )
    (root / "newsletter.toml").write_text(CONFIG_TEMPLATE.format(sources=blocks))
    return root


@pytest.fixture
def sample_project(tmp_path: Path) -> Path:
    """A copy of this repository's own newsletter project (config, sources, issues)."""
    dest = tmp_path / "sample"
    dest.mkdir()
    shutil.copy(REPO / "newsletter.toml", dest / "newsletter.toml")
    shutil.copytree(REPO / "sources", dest / "sources")
    shutil.copytree(REPO / "issues", dest / "issues")
    return dest


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


def assert_golden(name: str, actual: str, update: bool) -> None:
    """Compare ``actual`` with tests/golden/NAME; ``--update-golden`` rewrites it."""
    path = GOLDEN / name
    if update or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        if not update:
            pytest.fail(f"golden file {path} was missing and has been written; review it")
        return
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        diff = difflib.unified_diff(
            expected.splitlines(), actual.splitlines(), f"{path} (golden)", "rendered now",
            lineterm="", n=2,
        )  # fmt: skip
        shown = "\n".join(line[:300] for line in itertools.islice(diff, 80))
        pytest.fail(
            f"output differs from {path}; if the change is intended, regenerate with "
            f"`make golden` and review the diff:\n{shown}",
            pytrace=False,
        )
