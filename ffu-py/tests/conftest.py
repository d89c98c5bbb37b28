"""Shared fixtures: small catalogs written here, a runner for ``python -m ffu``, and fresh
databases (SQLite, PostgreSQL, MySQL/MariaDB) behind DB-API connections."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest

import ffu

#: The repository root (ffu-py/tests/conftest.py -> the workspace).
ROOT = Path(__file__).resolve().parents[2]

#: Two services over three releases; `beta` is `after` `alpha`. Tests append migrations.
TINY_HEAD = """\
format: ffu-catalog/1
name: tiny
releases: [{name: a}, {name: b}, {name: c}]
services:
  - name: alpha
    components: [{name: alpha-api, role: control}]
  - name: beta
    after: [alpha]
    components: [{name: beta-api, role: control}]
migrations:
"""

#: A valid tiny catalog: one migration per service and release.
TINY = TINY_HEAD + """\
  - {id: alpha.b.sync, service: alpha, release: b, kind: migrate, command: "alpha-manage db sync"}
  - {id: beta.b.sync, service: beta, release: b, kind: migrate, command: "beta-manage db sync"}
  - {id: alpha.c.sync, service: alpha, release: c, kind: migrate, command: "alpha-manage db sync"}
  - {id: beta.c.sync, service: beta, release: c, kind: migrate, command: "beta-manage db sync"}
"""


@pytest.fixture(scope="session")
def openstack() -> ffu.Catalog:
    return ffu.Catalog.openstack()


@pytest.fixture(scope="session")
def tiny() -> ffu.Catalog:
    return ffu.Catalog.from_yaml(TINY, file="tiny.yaml")


#: The small catalog of the repository's tests, and a cloud of it at r1: 2 controllers and
#: 5 computes (the journal-runner and Ansible tests run plans of it).
SMALL = ROOT / "tests" / "data" / "small.yaml"
SMALL_INVENTORY = """\
format: ffu-inventory/1
hosts:
  - name: "ctl-[1:2]"
    components: {ident-api: r1, compute-api: r1}
  - name: "cmp-[1:5]"
    components: {compute-agent: r1, guests: r1}
"""


def without_kind(document: dict[str, Any], kind: str) -> dict[str, Any]:
    """The plan document without its steps of `kind`, as a plan written without them: a
    step that required one requires what that one required (a dangling requirement would
    be V3's, not the fault a test is after)."""
    dropped = {step["id"]: step["requires"] for step in document["steps"] if step["kind"] == kind}

    def kept(required: str) -> list[str]:
        if required not in dropped:
            return [required]
        return [found for further in dropped[required] for found in kept(further)]

    steps = []
    for step in document["steps"]:
        if step["kind"] == kind:
            continue
        requires: list[str] = []
        for required in step["requires"]:
            for replacement in kept(required):
                if replacement not in requires:
                    requires.append(replacement)
        steps.append({**step, "requires": requires})
    return {**document, "steps": steps}


def run_ffu(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Runs ``python -m ffu ARGS`` in a fresh interpreter, capturing its output."""
    return subprocess.run(
        [sys.executable, "-m", "ffu", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONWARNINGS": "error"},
        timeout=120,
        check=False,
    )


def rust_cli() -> Path | None:
    """The Rust ``ffu`` binary to compare with, from $FFU_RUST_CLI (scripts/test.sh builds it
    from the same sources as the wheel; a binary left in target/ may be older, so it is not
    guessed)."""
    explicit = os.environ.get("FFU_RUST_CLI")
    return Path(explicit) if explicit else None


# --- Databases -----------------------------------------------------------------------------
#
# Every database fixture starts from an empty database of its own: a SQLite file in tmp_path,
# a PostgreSQL schema `t_<uuid>` (first on the search_path of every connection to it), or a
# MySQL/MariaDB database `t_<uuid>`; the schema or database is dropped afterwards. The
# servers come from $FFU_TEST_POSTGRES (a libpq conninfo string) and $FFU_TEST_MYSQL
# (host:port:database:user:password), which scripts/db-servers.sh starts and writes; without
# them the fixture skips the test.
#
# Sessions get lock and statement timeouts, so that a transaction left open by mistake
# (one connection waiting on another's locks) fails the test instead of hanging it.

#: Seconds a statement may wait for a lock before it fails.
LOCK_TIMEOUT_S = 10


@dataclass
class Database:
    """A fresh, empty database: its backend name and a way to open more connections to it
    (to act as a second runner, or as the same runner after a crash). Every connection
    opened is closed when the test ends."""

    backend: Literal["sqlite", "postgres", "mysql"]
    _open: Callable[[], Any]
    _opened: list[Any] = field(default_factory=list)

    def connect(self) -> Any:
        conn = self._open()
        self._opened.append(conn)
        return conn

    def close_all(self) -> None:
        for conn in self._opened:
            try:
                conn.close()
            except Exception:  # already closed, or its server gone: nothing to release
                pass
        self._opened.clear()


def _sqlite_database(tmp_path: Path) -> Iterator[Database]:
    path = tmp_path / "ffu-test.db"
    db = Database("sqlite", lambda: sqlite3.connect(path, timeout=LOCK_TIMEOUT_S))
    yield db
    db.close_all()


def _postgres_database() -> Iterator[Database]:
    conninfo = os.environ.get("FFU_TEST_POSTGRES")
    if not conninfo:
        pytest.skip("PostgreSQL not available: FFU_TEST_POSTGRES unset (see scripts/db-servers.sh)")
    import psycopg

    schema = f"t_{uuid.uuid4().hex}"
    # The search path is a connection option, not a SET: a rollback cannot undo it.
    options = f"-c search_path={schema} -c lock_timeout={LOCK_TIMEOUT_S * 1000} -c statement_timeout=60000"
    admin = psycopg.connect(conninfo, autocommit=True, connect_timeout=10)
    try:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        db = Database("postgres", lambda: psycopg.connect(conninfo, options=options, connect_timeout=10))
        try:
            yield db
        finally:
            db.close_all()
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
    finally:
        admin.close()


def _mysql_database() -> Iterator[Database]:
    spec = os.environ.get("FFU_TEST_MYSQL")
    if not spec:
        pytest.skip("MySQL/MariaDB not available: FFU_TEST_MYSQL unset (see scripts/db-servers.sh)")
    import pymysql

    host, port, database, user, password = spec.split(":", 4)
    name = f"t_{uuid.uuid4().hex}"

    def connect(db: str, **extra: Any) -> Any:
        return pymysql.connect(
            host=host,
            port=int(port),
            user=user,
            password=password,
            database=db,
            charset="utf8mb4",
            connect_timeout=10,
            init_command=f"SET SESSION lock_wait_timeout = {LOCK_TIMEOUT_S}, innodb_lock_wait_timeout = {LOCK_TIMEOUT_S}",
            **extra,
        )

    admin = connect(database, autocommit=True)
    try:
        with admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        db = Database("mysql", lambda: connect(name))
        try:
            yield db
        finally:
            db.close_all()
            with admin.cursor() as cur:
                cur.execute(f"DROP DATABASE `{name}`")
    finally:
        admin.close()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    yield from _sqlite_database(tmp_path)


@pytest.fixture
def postgres_db() -> Iterator[Database]:
    yield from _postgres_database()


@pytest.fixture
def mysql_db() -> Iterator[Database]:
    yield from _mysql_database()


@pytest.fixture(params=["sqlite", "postgres", "mysql"])
def database(request: pytest.FixtureRequest) -> Database:
    """Each test that takes it runs on SQLite, PostgreSQL and MySQL/MariaDB (ids sqlite,
    postgres, mysql); a server that is not available skips its run."""
    db: Database = request.getfixturevalue(f"{request.param}_db")
    return db


@pytest.fixture
def sqlite_conn(sqlite_db: Database) -> Any:
    """A sqlite3 connection to an empty database file in tmp_path."""
    return sqlite_db.connect()


@pytest.fixture
def postgres_conn(postgres_db: Database) -> Any:
    """A psycopg connection whose search_path is an empty schema of its own."""
    return postgres_db.connect()


@pytest.fixture
def mysql_conn(mysql_db: Database) -> Any:
    """A PyMySQL connection to an empty database of its own."""
    return mysql_db.connect()


@pytest.fixture
def db_conn(database: Database) -> Any:
    """A DB-API connection to an empty database, over the three backends (ids sqlite,
    postgres, mysql)."""
    return database.connect()


def run_sql(conn: Any, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Runs one statement with `?` placeholders on any of the three drivers (psycopg and
    PyMySQL use `%s`); returns the rows (none for statements without a result)."""
    if not isinstance(conn, sqlite3.Connection):
        sql = sql.replace("?", "%s")
    cur = conn.cursor()
    try:
        cur.execute(sql, params)
        return [tuple(row) for row in cur.fetchall()] if cur.description else []
    finally:
        cur.close()


def table_names(conn: Any) -> set[str]:
    """The tables of the connection's (fresh) database or schema."""
    if isinstance(conn, sqlite3.Connection):
        rows = run_sql(conn, "SELECT name FROM sqlite_master WHERE type = 'table'")
    elif type(conn).__module__.startswith("psycopg"):
        rows = run_sql(conn, "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")
    else:
        rows = run_sql(conn, "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()")
    conn.commit()
    return {str(name) for (name,) in rows}
