"""Test databases: a SQLite file in the test's folder, or a PostgreSQL schema of its own on the
server at 127.0.0.1:5432 (``SYNCLEDGER_TEST_POSTGRES`` overrides the URL). PostgreSQL tests skip
when no server answers, and fail instead when ``SYNCLEDGER_REQUIRE_POSTGRES=1`` (CI)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

SERVER = os.environ.get("SYNCLEDGER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = ("sqlite", "postgres")


@cache
def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used (None when it can)."""
    try:
        with psycopg.connect(SERVER, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"no PostgreSQL at {SERVER}: {exc}"
    return None


def require_postgres() -> None:
    """Skip (or, in CI, fail) when PostgreSQL is not reachable."""
    problem = postgres_problem()
    if problem is None:
        return
    if os.environ.get("SYNCLEDGER_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"SYNCLEDGER_REQUIRE_POSTGRES=1 but {problem}")
    pytest.skip(problem)


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A fresh schema (dropped afterwards); yields the syncledger URL that uses it."""
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    try:
        yield f"{SERVER}?schema={schema}"
    finally:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@contextmanager
def database(backend: str, folder: Path) -> Iterator[str]:
    """A fresh database for one test: a file path (SQLite) or a URL (PostgreSQL)."""
    if backend == "postgres":
        with postgres_schema() as url:
            yield url
    else:
        yield str(folder / "ledger.db")
