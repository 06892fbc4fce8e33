"""The PostgreSQL test fixtures themselves (tests/pg_server.py, conftest): the server runs, each test gets its
own database, password roles must give their password, a restart keeps the data, and a fresh database is
cheap. The product's own PostgreSQL tests build on these.

`pg.silent_server()` (a server that never answers) is checked where it is used, by
test_postgres.py::test_an_unreachable_server_is_one_line_within_seconds_and_nothing_is_written_locally: it
asserts that the connect timeout fired (the error says "timeout") after at least the 2 s it was set to, which
is all a test of its own here proved, at the cost of another 2 s of waiting."""

from __future__ import annotations

import os
import pwd
import statistics
import time

import psycopg
import pytest
from sqlalchemy.engine import make_url

from . import pg_server as pg


def connect(url: str, **kwargs) -> psycopg.Connection:
    """A psycopg connection from one of the fixtures' SQLAlchemy URLs (libpq reads PGPASSWORD itself)."""
    parts = make_url(url)
    return psycopg.connect(
        host=parts.host, port=parts.port, dbname=parts.database, user=parts.username,
        password=parts.password, connect_timeout=5, autocommit=True, **kwargs,
    )  # fmt: skip


def test_server_is_up_on_loopback_as_a_real_postgresql_15(pg_server: pg.PgServer, pg_url: str):
    url = make_url(pg_url)
    assert (url.drivername, url.host, url.port, url.username) == ("postgresql+psycopg", "127.0.0.1",
                                                                  pg_server.port, "postgres")  # fmt: skip
    with connect(pg_url) as conn:
        version = conn.execute("SHOW server_version_num").fetchone()
        settings = dict(conn.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN "
            "('fsync', 'synchronous_commit', 'full_page_writes', 'listen_addresses')"
        ).fetchall())  # fmt: skip
        database = conn.execute("SELECT current_database()").fetchone()
    assert version is not None and int(version[0]) >= 150000
    assert settings == {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
                        "listen_addresses": "127.0.0.1"}  # fmt: skip
    assert database == (url.database,)
    runs_as = pwd.getpwnam(pg.SYSTEM_USER).pw_uid if os.geteuid() == 0 else os.geteuid()  # never root
    assert (pg_server.data / "postmaster.pid").stat().st_uid == runs_as


def test_two_tests_databases_are_distinct_and_dropped(pg_server: pg.PgServer, pg_url: str):
    other = pg_server.create_database()
    other_url = pg_server.url(other)
    assert make_url(other_url).database != make_url(pg_url).database
    with connect(pg_url) as conn:
        conn.execute("CREATE TABLE only_here (x int)")
    with connect(other_url) as conn:
        assert conn.execute("SELECT to_regclass('only_here')").fetchone() == (None,)
        pg_server.drop_database(other)  # WITH (FORCE): an open connection does not stop the drop
    names = {row[0] for row in pg_server.execute("SELECT datname FROM pg_database")}
    assert make_url(pg_url).database in names and other not in names


def test_a_password_role_needs_its_password_over_tcp(pg_server: pg.PgServer, pg_url: str,
                                                     monkeypatch: pytest.MonkeyPatch):  # fmt: skip
    member = pg_server.create_role(password="s3cret 'quoted'")
    url = pg_server.url(make_url(pg_url).database, user=member)
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", os.devnull)  # no ~/.pgpass of the developer's
    with pytest.raises(psycopg.OperationalError, match="password"):
        connect(url).close()
    monkeypatch.setenv("PGPASSWORD", "wrong")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        connect(url).close()
    monkeypatch.setenv("PGPASSWORD", "s3cret 'quoted'")
    with connect(url) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (member,)
    with connect(pg_server.url(make_url(pg_url).database, user=member, password="s3cret 'quoted'")) as conn:
        assert conn.execute("SELECT session_user").fetchone() == (member,)
    trusted = pg_server.create_role()  # without a password: trusted on loopback, like the superuser
    with connect(pg_server.url(make_url(pg_url).database, user=trusted)) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (trusted,)


def test_restart_keeps_data_and_port_and_cuts_connections(pg_server: pg.PgServer, pg_url: str):
    port = pg_server.port
    held = connect(pg_url)
    held.execute("CREATE TABLE kept (x int); INSERT INTO kept VALUES (1), (2)")
    pg_server.restart()
    assert pg_server.port == port
    with pytest.raises(psycopg.OperationalError):
        held.execute("SELECT 1")
    held.close()
    with connect(pg_url) as conn:
        assert conn.execute("SELECT sum(x) FROM kept").fetchone() == (3,)


def test_stopped_server_and_closed_port_refuse_and_the_database_is_still_dropped(pg_server: pg.PgServer):
    name = pg_server.create_database()
    pg_server.stop()
    with pytest.raises(psycopg.OperationalError):
        connect(pg_server.url(name)).close()
    pg_server.drop_database(name)  # starts the server again first
    assert pg_server.running
    assert pg_server.execute("SELECT count(*) FROM pg_database WHERE datname = %s", params=(name,)) == [(0,)]
    with pytest.raises(psycopg.OperationalError, match="refused"):
        connect(pg.closed_port_url()).close()


def test_a_fresh_database_costs_little(pg_server: pg.PgServer):
    """The per-test overhead of `pg_url` (create + drop), well under the 150 ms budget per database."""
    costs = []
    for _ in range(5):
        began = time.perf_counter()
        name = pg_server.create_database()
        pg_server.drop_database(name)
        costs.append(time.perf_counter() - began)
    assert statistics.median(costs) < 0.15, costs


def test_engine_fixture_runs_postgresql_on_a_fresh_database(engine: str, request: pytest.FixtureRequest):
    url = os.environ.get("LLMPATH_DATABASE_URL")
    if engine == "sqlite":
        assert url is None
        assert "pg" not in {mark.name for mark in request.node.iter_markers()}  # kept by -m "not pg"
        return
    assert url is not None
    assert "pg" in {mark.name for mark in request.node.iter_markers()}
    server: pg.PgServer = request.getfixturevalue("pg_server")
    assert url.startswith(f"postgresql+psycopg://postgres@127.0.0.1:{server.port}/test_")
    with connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone() == (0,)


def test_no_binaries_skips_with_the_reason_but_fails_under_ci(tmp_path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LLMPATH_TEST_PG_BINDIR", str(tmp_path))  # a folder without initdb
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        pg.server_for_tests()
    assert str(skipped.value).startswith("PostgreSQL server binaries not found (initdb, pg_ctl, postgres)")
    assert str(tmp_path) in str(skipped.value)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(
        pytest.fail.Exception, match="CI=true but no PostgreSQL server: PostgreSQL server bin"
    ):
        pg.server_for_tests()
