"""The test suite's own PostgreSQL server and backend fixture work as the other tests assume."""

from __future__ import annotations

import os

import pytest

from tests.pgserver import BackendFactory, PgServer


@pytest.mark.postgresql
def test_the_throwaway_server_answers_and_wants_its_password(pg_server: PgServer) -> None:
    import psycopg

    with pg_server.connect() as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("postgres",)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(
            host=pg_server.host, port=pg_server.port, user="postgres", password="wrong",
            dbname="postgres",
        )  # fmt: skip


def test_each_backend_is_fresh_and_is_the_process_default(backend_factory: BackendFactory) -> None:
    first, second = backend_factory(), backend_factory()
    assert first.url != second.url
    assert os.environ["NEWSLETTER_DATABASE_URL"] == first.url
    if first.is_postgresql:
        assert first.server is not None and os.environ["PGPASSWORD"] == first.server.password
        assert first.url.startswith("postgresql://postgres@127.0.0.1:")
        with first.server.connect(first.database or "") as conn:
            conn.execute("CREATE TABLE t (x int)")
            conn.execute("INSERT INTO t VALUES (1)")
        assert second.server is not None
        with second.server.connect(second.database or "") as conn:
            tables = conn.execute("SELECT tablename FROM pg_tables WHERE tablename = 't'")
            assert tables.fetchall() == []
    else:
        assert first.url.startswith("sqlite:///") and first.url.endswith("/store.db")


@pytest.mark.postgresql
def test_a_test_database_is_dropped_even_while_connected(pg_server: PgServer) -> None:
    name = pg_server.create_database()
    with pg_server.connect(name):  # still open, as a store a test forgot to close would be
        pg_server.drop_database(name)
    with pg_server.connect() as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    assert row is None
