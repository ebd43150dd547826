"""`newsletter db status|upgrade|copy` through the real command line, on both backends, and the
one-line errors (with a hint, no traceback, nothing written) for a database that is wrong."""

from __future__ import annotations

import re
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from newsletter.models import NewsItem
from newsletter.project import Project
from newsletter.store import Store
from newsletter.store.engine import create_engine
from newsletter.store.migrate import ensure_current
from newsletter.store.schema import HEAD, TABLES
from newsletter.store.sendlog import Outcome
from newsletter.store.sendrun import SendRun
from newsletter.store.subscribers import Consent, Method, Status, Subscribers, open_subscribers
from newsletter.store.suppression import SuppressionList
from newsletter.store.url import parse
from tests.clirun import CliResult
from tests.clirun import cli as run_cli
from tests.conftest import write_project
from tests.pgserver import Backend, BackendFactory

EXIT_STORE = 4


def cli(*args: str, cwd: Path, **env: str) -> CliResult:
    return run_cli(*args, cwd=cwd, env=env)


def one_line_error(result: CliResult, *words: str) -> str:
    assert result.returncode == EXIT_STORE, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("error: ") and lines[1].startswith("hint: ")
    for word in words:
        assert word in result.stderr
    return result.stderr


def rows(url: str) -> dict[str, list[tuple[object, ...]]]:
    engine = create_engine(parse(url, Path("/"), "test"))
    try:
        with engine.connect() as conn:
            return {t.name: sorted(tuple(r) for r in conn.execute(select(t))) for t in TABLES}
    finally:
        engine.dispose()


def fill_sqlite_store(path: Path) -> None:
    """A store with stories, validators, a send history and suppressions, as use leaves it."""
    with Store(path) as store:
        items = [
            NewsItem.model_validate(
                {
                    "id": f"id{n}",
                    "source": "S",
                    "title": f"Story {n}",
                    "url": f"https://example.org/{n}",
                    "published": datetime(2020, 10, n, tzinfo=UTC),
                }
            )
            for n in range(1, 6)
        ]
        store.write_source("S", items, validators={"https://example.org/feed": ('"e1"', None)})
    run = SendRun(path, "2020-10")
    run.claim(["ann@example.org", "bob@example.org"], "smtp")
    run.record([Outcome("ann@example.org", "sent", "250 OK", "<1@x>")])
    run.close()
    with SuppressionList(path) as suppressions:
        suppressions.add([(1, "gone@example.org")], "unsubscribed", source="test")
    # The list: a subscriber with its consent history (ids continue after a copy).
    url = parse(f"sqlite:///{path}", Path("/"), "test")
    engine = create_engine(url)
    ensure_current(url, engine)
    subscribers = Subscribers(engine)
    now = datetime(2020, 10, 3, tzinfo=UTC)
    subscribers.add("cy@example.org", name="Cy", language="en", topics=[],
                    status=Status.confirmed, consent=Consent(Method.admin), now=now)  # fmt: skip
    subscribers.engine.dispose()


def test_status_and_upgrade_on_both_backends(tmp_path: Path, empty_backend: Backend) -> None:
    backend = empty_backend
    project = write_project(tmp_path / "p", [])
    status = cli("db", "status", cwd=project)
    assert status.returncode == 0, status.stderr
    assert f"database: {backend.url} ({backend.name})" in status.stdout
    if backend.is_postgresql:
        assert "schema: none (no tables yet)" in status.stdout
        assert "newsletter db upgrade" in status.stdout
    else:  # nothing is created just by looking
        assert "schema: none yet" in status.stdout
        assert not Path(backend.url.removeprefix("sqlite:///")).exists()
    upgraded = cli("db", "upgrade", cwd=project)
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"Upgraded the schema from nothing to {HEAD}." in upgraded.stdout
    again = cli("db", "upgrade", cwd=project)
    assert f"The schema is up to date ({HEAD})." in again.stdout
    status = cli("db", "status", cwd=project)
    assert f"schema: {HEAD} (up to date)" in status.stdout
    for table in TABLES:
        assert f"│ {table.name}" in status.stdout


@pytest.mark.postgresql
def test_copy_sqlite_to_postgresql_and_back_keeps_every_row(
    tmp_path: Path, pg_backend: Backend
) -> None:
    project = write_project(tmp_path / "p", [])
    fill_sqlite_store(project / ".newsletter" / "store.db")
    original = rows(f"sqlite:///{project}/.newsletter/store.db")
    assert len(original["items"]) == 5 and len(original["send_log"]) == 2
    target = pg_backend
    copied = cli("db", "copy", "--to", target.url, cwd=project, NEWSLETTER_DATABASE_URL="")
    assert copied.returncode == 0, copied.stderr
    total = sum(len(r) for r in original.values())
    assert f"Copied {total} rows" in copied.stdout
    assert "5 items" in copied.stdout and "2 send_log, 1 suppressions" in copied.stdout
    assert rows(target.url) == original
    # New rows on PostgreSQL take ids after the copied ones.
    on_pg = open_subscribers(Project.at(project))
    on_pg.add("dee@example.org", name="", language="en", topics=[], status=Status.confirmed,
              consent=Consent(Method.admin), now=datetime.now(UTC))  # fmt: skip
    on_pg.engine.dispose()
    # ... and back again, from PostgreSQL into a new SQLite file.
    back = cli("db", "copy", "--to", "sqlite:///back.db", cwd=project,
               NEWSLETTER_DATABASE_URL=target.url)  # fmt: skip
    assert back.returncode == 0, back.stderr
    assert rows(f"sqlite:///{project}/back.db") == rows(target.url)
    assert len(rows(target.url)["subscribers"]) == 2
    status = cli("db", "status", cwd=project, NEWSLETTER_DATABASE_URL=target.url)
    assert re.search(r"│ send_log +│ +2 │", status.stdout)  # whatever the column widths


def test_copy_refuses_a_database_that_holds_rows_and_writes_nothing(
    tmp_path: Path, backend_factory: BackendFactory
) -> None:
    source, target = backend_factory(empty=True), backend_factory(empty=True)
    project = write_project(tmp_path / "p", [])
    assert cli("db", "upgrade", cwd=project).returncode == 0
    engine = create_engine(parse(target.url, Path("/"), "test"))
    with engine.begin() as conn:
        from newsletter.store.migrate import upgrade_in

        upgrade_in(parse(target.url, Path("/"), "test"), conn)
        conn.execute(text("INSERT INTO store_meta VALUES ('x', 'y')"))
    engine.dispose()
    before = rows(target.url)
    result = cli("db", "copy", "--to", target.url, cwd=project)
    one_line_error(result, "not empty (store_meta holds 1 rows); nothing was copied")
    assert rows(target.url) == before
    assert source.url != target.url


def test_copy_to_itself_or_with_a_password_is_refused(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", [])
    one_line_error(cli("db", "copy", "--to", "sqlite:///.newsletter/store.db", cwd=project),
                   "is the project's own database")  # fmt: skip
    stderr = one_line_error(
        cli("db", "copy", "--to", "postgresql://news:s3cret@localhost/n", cwd=project),
        "--to: the URL holds a password",
        "PGPASSWORD",
    )
    assert "s3cret" not in stderr
    assert not (project / ".newsletter").exists()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.postgresql
@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("unreachable", ("the server cannot be reached", "check the host and port")),
        ("wrong password", ("wrong user name or password", "PGPASSWORD")),
        ("no such user", ("wrong user name or password", "check the user")),
        ("no password", ("no password given", "~/.pgpass")),
        ("missing database", ("the database does not exist", "createdb")),
        ("schema behind", ("has no newsletter tables yet", "newsletter db upgrade")),
        ("schema ahead", ("revision 9999, newer than this version", "upgrade newsletter")),
    ],
)
def test_a_wrong_database_is_one_line_with_a_hint_and_nothing_written(
    tmp_path: Path, pg_backend: Backend, case: str, words: tuple[str, ...]
) -> None:
    server = pg_backend.server
    assert server is not None
    project = write_project(tmp_path / "p", [])
    url, env = pg_backend.url, {}
    if case == "unreachable":
        url = f"postgresql://postgres@127.0.0.1:{closed_port()}/newsletter"
    elif case == "wrong password":
        env["PGPASSWORD"] = "wrong"
    elif case == "no password":
        env["PGPASSWORD"] = ""
        env["PGPASSFILE"] = str(tmp_path / "none")
    elif case == "missing database":
        url = server.url("no_such_database")
    elif case == "no such user":
        url = url.replace("postgres@", "nobody@")
    elif case == "schema ahead":
        assert cli("db", "upgrade", cwd=project).returncode == 0
        with server.connect(pg_backend.database or "") as conn:
            conn.execute("UPDATE alembic_version SET version_num = '9999'")
    # status reports a schema mismatch instead of failing on it; copy needs a current source.
    command = ["db", "copy", "--to", "sqlite:///copy.db"]
    if case not in ("schema behind", "schema ahead"):
        command = ["db", "status"]
    one_line_error(cli(*command, cwd=project, NEWSLETTER_DATABASE_URL=url, **env), *words)
    assert not (project / "copy.db").exists() and not (project / ".newsletter").exists()
    with server.connect(pg_backend.database or "") as conn:
        tables = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        assert {t for (t,) in tables} == (
            set() if case != "schema ahead" else {t.name for t in TABLES} | {"alembic_version"}
        )


def test_an_unknown_scheme_is_one_line_with_a_hint(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", [])
    one_line_error(cli("db", "status", cwd=project, NEWSLETTER_DATABASE_URL="mysql://u@h/n"),
                   "unknown database URL scheme 'mysql'", "postgresql://USER@HOST")  # fmt: skip


@pytest.mark.postgresql
def test_every_command_but_db_upgrade_stops_while_the_schema_is_behind(
    tmp_path: Path, pg_backend: Backend
) -> None:
    """A shared database one migration behind: each command says to run `newsletter db
    upgrade` (one line, no traceback) and writes nothing; `db upgrade` then brings it up."""
    from alembic import command
    from alembic.config import Config

    from newsletter.store.migrate import MIGRATIONS
    from tests.factories import audience, send_project

    server = pg_backend.server
    assert server is not None
    url = parse(pg_backend.url, Path("/"), "test")
    engine = create_engine(url)
    with engine.begin() as conn:  # the revision before HEAD
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = conn
        command.upgrade(config, "0002")
    engine.dispose()
    project = send_project(tmp_path / "p", closed_port()).root
    people = audience(tmp_path / "a.csv", ["ann@example.org"])
    (tmp_path / "bounces.mbox").write_text("")

    def tables() -> dict[str, int]:
        with server.connect(pg_backend.database or "") as conn:
            names = [n for (n,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]  # fmt: skip
            return {n: conn.execute(f"SELECT count(*) FROM {n}").fetchone()[0] for n in names}

    before = tables()
    assert before["alembic_version"] == 1 and "subscribers" not in before

    def files() -> list[Path]:  # besides caches (compiled templates)
        return sorted(
            p.relative_to(project)
            for p in project.rglob("*")
            if p.is_file() and "cache" not in p.parts
        )

    before_files = files()
    commands = [
        ["collect"], ["items"], ["draft", "2020-11"],
        ["send", "2020-10", "--audience", str(people), "--yes"],
        ["send", "2020-10", "--audience", str(people), "--dry-run"],
        ["export", "2020-10", "--to", "sendgrid", "--audience", str(people), "--out", "out"],
        ["suppress", "add", "bob@example.org"], ["suppress", "list"],
        ["suppress", "remove", "bob@example.org"],
        ["subscribers", "add", "cy@example.org"], ["subscribers", "list"],
        ["report", "2020-10"], ["bounces", "fetch", str(tmp_path / "bounces.mbox")],
        ["db", "copy", "--to", "sqlite:///copy.db"],
        ["serve", "--port", str(closed_port()), "--workers", "2"],
    ]  # fmt: skip
    for args in commands:
        result = run_cli(*args, cwd=project, env={"NEWSLETTER_SECRET": "s" * 32})
        stderr = one_line_error(result, "is at revision 0002", "newsletter db upgrade")
        assert f"needs {HEAD}" in stderr, args
        assert tables() == before, args
        assert files() == before_files, args
    assert cli("db", "upgrade", cwd=project).returncode == 0
    listed = cli("suppress", "list", cwd=project)
    assert listed.returncode == 0, listed.stderr


def test_every_command_names_an_unreachable_server_in_one_line(tmp_path: Path) -> None:
    from tests.factories import audience, send_project

    project = send_project(tmp_path / "p", closed_port()).root
    people = audience(tmp_path / "a.csv", ["ann@example.org"])
    url = f"postgresql://news@127.0.0.1:{closed_port()}/newsletter"
    for args in (
        ["collect"], ["draft", "2020-11"], ["send", "2020-10", "--audience", str(people), "--yes"],
        ["suppress", "list"], ["subscribers", "list"], ["report", "2020-10"],
        ["serve", "--port", str(closed_port())],
    ):  # fmt: skip
        result = run_cli(*args, cwd=project, env={"NEWSLETTER_SECRET": "s" * 32,
                                                 "NEWSLETTER_DATABASE_URL": url})  # fmt: skip
        one_line_error(result, "the server cannot be reached", "check the host and port")
    assert not (project / ".newsletter" / "store.db").exists()
