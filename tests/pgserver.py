"""A throwaway PostgreSQL server for the tests, and the ``backend`` fixture over both backends.

The server comes from Debian's ``postgresql`` package (scripts/install-test-deps installs it).
``initdb`` and ``pg_ctl`` refuse to run as root, so as root they run as the package's
``postgres`` system user, in a temporary folder that user owns. One server per test session,
on a free loopback port, with password (SCRAM) authentication so that a wrong password is a
real error; it is stopped and its folder removed at the end. Each test that asks for it gets
a database of its own.

Where PostgreSQL cannot be had, the tests that need it are skipped with the reason.
``NEWSLETTER_REQUIRE_POSTGRES=1`` turns that skip into a failure.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pytest

SUPERUSER = "postgres"
START_TIMEOUT = 60


class Unavailable(Exception):
    """PostgreSQL cannot be had here; the message says why."""


def find_bindir() -> Path:
    """The newest installed server's bin folder (``NEWSLETTER_PG_BINDIR`` wins)."""
    given = os.environ.get("NEWSLETTER_PG_BINDIR")
    if given:
        candidates = [given]
    else:
        candidates = sorted(
            glob.glob("/usr/lib/postgresql/*/bin"),
            key=lambda p: [int(n) if n.isdigit() else 0 for n in Path(p).parent.name.split(".")],
            reverse=True,
        )
    for candidate in candidates:
        if (Path(candidate) / "initdb").is_file() and (Path(candidate) / "pg_ctl").is_file():
            return Path(candidate)
    raise Unavailable(
        "PostgreSQL is not installed (no initdb under /usr/lib/postgresql/*/bin): "
        "run scripts/install-test-deps, or set NEWSLETTER_PG_BINDIR"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PgServer:
    """A running server: where it listens and how to reach it as its superuser."""

    bindir: Path
    base: Path
    port: int = 0
    password: str = field(default_factory=lambda: secrets.token_hex(12))
    host: str = "127.0.0.1"
    durable: bool = False
    _as_postgres: list[str] = field(default_factory=list)
    _names: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def log(self) -> Path:
        return self.base / "server.log"

    # -- life cycle ------------------------------------------------------------------------

    @classmethod
    def start(cls, *, durable: bool = False) -> PgServer:
        """A new server; ``durable`` keeps PostgreSQL's own fsync and synchronous commits
        (for benchmarks; the tests do without them, as a killed client loses nothing)."""
        bindir = find_bindir()
        try:
            import psycopg  # noqa: F401
        except ImportError as exc:  # pragma: no cover - a dependency of the package
            raise Unavailable(f"the psycopg driver is not installed: {exc}") from exc
        as_postgres: list[str] = []
        owner: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam(SUPERUSER)
            except KeyError:
                raise Unavailable(
                    "running as root, and there is no 'postgres' system user to run initdb as "
                    "(Debian's postgresql package creates it)"
                ) from None
            if shutil.which("runuser"):
                as_postgres = ["runuser", "-u", SUPERUSER, "--"]
            elif shutil.which("su"):
                as_postgres = ["su", SUPERUSER, "-s", "/bin/sh", "-c", '"$0" "$@"']
            else:
                raise Unavailable("running as root, and neither runuser nor su is available")
        base = Path(tempfile.mkdtemp(prefix="newsletter-pg-"))
        if owner is not None:
            os.chown(base, owner.pw_uid, owner.pw_gid)
        server = cls(bindir=bindir, base=base, _as_postgres=as_postgres, durable=durable)
        try:
            server._initdb()
            server._start()
        except BaseException:
            server.stop()
            raise
        return server

    def _run(self, *args: str, timeout: float = START_TIMEOUT) -> None:
        result = subprocess.run(
            [*self._as_postgres, *args],
            cwd=self.base,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"},
        )
        if result.returncode != 0:
            output = (result.stderr or result.stdout).strip().splitlines()[-5:]
            log = (
                self.log.read_text(errors="replace").strip().splitlines()[-5:]
                if (self.log.exists())
                else []
            )
            raise Unavailable(
                f"{Path(args[0]).name} failed ({result.returncode}): " + " | ".join(output + log)
            )

    def _initdb(self) -> None:
        pwfile = self.base / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self._as_postgres:
            owner = pwd.getpwnam(SUPERUSER)
            os.chown(pwfile, owner.pw_uid, owner.pw_gid)
        pwfile.chmod(0o600)
        self._run(
            str(self.bindir / "initdb"), "-D", str(self.data), "-U", SUPERUSER,
            f"--pwfile={pwfile}", "--auth-host=scram-sha-256", "--auth-local=scram-sha-256",
            "--encoding=UTF8", "--no-locale", "--no-sync",
        )  # fmt: skip
        pwfile.unlink()

    def _start(self) -> None:
        # A port can be taken between choosing and binding it: try a few.
        last: Unavailable | None = None
        for _ in range(3):
            self.port = free_port()
            options = f"-p {self.port} -k {self.base} -c listen_addresses={self.host} "
            options += "-c max_connections=200"
            if not self.durable:
                options += " -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
            try:
                self._run(
                    str(self.bindir / "pg_ctl"), "start", "-D", str(self.data), "-l",
                    str(self.log), "-w", "-t", str(START_TIMEOUT), "-o", options,
                )  # fmt: skip
                return
            except Unavailable as exc:
                last = exc
        assert last is not None
        raise last

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            try:
                self._run(str(self.bindir / "pg_ctl"), "stop", "-D", str(self.data), "-m", "fast")
            except (Unavailable, subprocess.TimeoutExpired):
                self._run(
                    str(self.bindir / "pg_ctl"), "stop", "-D", str(self.data), "-m", "immediate"
                )
        shutil.rmtree(self.base, ignore_errors=True)

    # -- databases -------------------------------------------------------------------------

    def url(self, database: str = "postgres") -> str:
        """The URL a project would configure: no password (that comes from PGPASSWORD)."""
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> Any:
        import psycopg

        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=SUPERUSER,
            password=self.password,
            dbname=database,
            autocommit=True,
        )

    def create_database(self, template: str | None = None) -> str:
        """A new, empty database (or a copy of ``template``); returns its name."""
        name = f"test_{os.getpid()}_{next(self._names)}"
        with self.connect() as conn:
            clause = f" TEMPLATE {template}" if template else ""
            conn.execute(f"CREATE DATABASE {name}{clause}")
        return name

    def drop_database(self, name: str) -> None:
        with self.connect() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# -- fixtures --------------------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "postgresql: needs the throwaway PostgreSQL server (skipped without one)"
    )


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """The session's PostgreSQL server, started on first use; skips the test without one."""
    try:
        server = PgServer.start()
    except (Unavailable, OSError, subprocess.TimeoutExpired) as exc:
        reason = f"PostgreSQL not available: {exc}"
        if os.environ.get("NEWSLETTER_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Backend:
    """Where a test's store lives: ``url`` is what ``[database] url`` would say."""

    name: str
    url: str
    env: dict[str, str]
    server: PgServer | None = None
    database: str | None = None

    @property
    def is_postgresql(self) -> bool:
        return self.name == "postgresql"


class BackendFactory(Protocol):
    def __call__(self, *, empty: bool = False) -> Backend: ...


def _sqlite_backend(tmp_path: Path, n: int) -> Backend:
    path = tmp_path / f"backend-{n}" / "store.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return Backend("sqlite", f"sqlite:///{path}", {"NEWSLETTER_DATABASE_URL": f"sqlite:///{path}"})


def _pg_backend(server: PgServer, template: str | None = None) -> Backend:
    name = server.create_database(template)
    url = server.url(name)
    env = {"NEWSLETTER_DATABASE_URL": url, "PGPASSWORD": server.password}
    return Backend("postgresql", url, env, server=server, database=name)


@pytest.fixture(scope="session")
def pg_template(pg_server: PgServer) -> str:
    """A database at the current schema, which each test's database is a copy of (faster than
    migrating every one): what `newsletter db upgrade` leaves."""
    from newsletter.store.engine import create_engine
    from newsletter.store.migrate import upgrade
    from newsletter.store.url import parse

    name = pg_server.create_database()
    url = parse(pg_server.url(name), Path("/"), "test")
    engine = create_engine(url)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("PGPASSWORD", pg_server.password)
            upgrade(url, engine)
    finally:
        engine.dispose()
    return name


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def backend_factory(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[BackendFactory]:
    """Makes fresh stores of one backend (the test runs once per backend): at the current
    schema, as a project has it after its first command (SQLite) or `newsletter db upgrade`
    (PostgreSQL), or ``empty`` (no tables at all).

    The first one made is also the process's ``NEWSLETTER_DATABASE_URL`` (and PGPASSWORD), so
    commands the test runs, in process or as a subprocess, use it.
    """
    made: list[Backend] = []
    server: PgServer | None = None
    if request.param == "postgresql":
        server = request.getfixturevalue("pg_server")

    def make(*, empty: bool = False) -> Backend:
        if server is None:
            backend = _sqlite_backend(tmp_path, len(made))
        else:
            template = None if empty else request.getfixturevalue("pg_template")
            backend = _pg_backend(server, template)
        if not made:
            for key, value in backend.env.items():
                monkeypatch.setenv(key, value)
        made.append(backend)
        return backend

    try:
        yield make
    finally:
        for backend in made:
            if backend.server is not None and backend.database is not None:
                backend.server.drop_database(backend.database)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]
)
def module_backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backend]:
    """One store at the current schema for a module's shared service (a long-lived
    `newsletter serve`), on SQLite and then on PostgreSQL: the module's tests that use it run
    once for each. It is not the process's default: a project names it in ``[database] url``.
    While the module runs, PGPASSWORD holds the server's password (never newsletter.toml)."""
    if request.param == "sqlite":
        yield _sqlite_backend(tmp_path_factory.mktemp("store"), 0)
        return
    server: PgServer = request.getfixturevalue("pg_server")
    backend = _pg_backend(server, request.getfixturevalue("pg_template"))
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("PGPASSWORD", server.password)
            yield backend
    finally:
        server.drop_database(backend.database or "")


@pytest.fixture
def backend(backend_factory: BackendFactory) -> Backend:
    """A fresh store at the current schema, on SQLite and then on PostgreSQL (the test runs
    once for each)."""
    return backend_factory()


@pytest.fixture
def empty_backend(backend_factory: BackendFactory) -> Backend:
    """A fresh database with no tables at all, on SQLite and then on PostgreSQL."""
    return backend_factory(empty=True)


@pytest.fixture
def pg_backend(pg_server: PgServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Backend]:
    """A fresh, empty PostgreSQL database (for tests only about PostgreSQL), as the default."""
    backend = _pg_backend(pg_server)
    for key, value in backend.env.items():
        monkeypatch.setenv(key, value)
    try:
        yield backend
    finally:
        pg_server.drop_database(backend.database or "")


@pytest.fixture
def pg_store(
    pg_server: PgServer, pg_template: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Backend]:
    """A fresh PostgreSQL database at the current schema, as the process's default."""
    backend = _pg_backend(pg_server, pg_template)
    for key, value in backend.env.items():
        monkeypatch.setenv(key, value)
    try:
        yield backend
    finally:
        pg_server.drop_database(backend.database or "")
