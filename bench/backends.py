"""Where a benchmark's data lives: a fresh SQLite file in the run's folder, or a fresh PostgreSQL
schema (``bench_<label>_<random>``) on the server, dropped afterwards.

The PostgreSQL server is ``SYNCLEDGER_BENCH_POSTGRES`` (default
``postgresql://postgres@127.0.0.1:5432/test``); PostgreSQL rows are skipped when it does not
answer.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from projections.storage.postgres import PostgresUrl

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/test"
SQLITE = "sqlite"
POSTGRES = "postgres"


def postgres_server() -> str:
    """The PostgreSQL server benchmarks use."""
    return os.environ.get("SYNCLEDGER_BENCH_POSTGRES", DEFAULT_SERVER)


def postgres_problem(server: str) -> str | None:
    """Why PostgreSQL cannot be used (None when it can)."""
    try:
        with psycopg.connect(server, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"no PostgreSQL at {server}: {str(exc).strip().splitlines()[0]}"
    return None


@dataclass(frozen=True)
class Backend:
    """One storage backend the benchmarks run on."""

    kind: str
    folder: Path
    server: str | None = None

    @property
    def label(self) -> str:
        return "SQLite" if self.kind == SQLITE else "PostgreSQL"

    @property
    def is_postgres(self) -> bool:
        return self.kind == POSTGRES

    @contextmanager
    def database(self, label: str) -> Iterator[str]:
        """A fresh database for one benchmark: a SQLite path or a PostgreSQL URL (schema
        dropped afterwards)."""
        if self.kind == SQLITE:
            path = self.folder / f"{label}-{uuid.uuid4().hex[:8]}.db"
            try:
                yield str(path)
            finally:
                for suffix in ("", "-wal", "-shm", ".relay.lock"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
            return
        with self.schema(label) as schema:
            yield f"{self.server}?schema={schema}"

    @contextmanager
    def schema(self, label: str) -> Iterator[str]:
        """A fresh PostgreSQL schema of our own (created now, dropped afterwards)."""
        assert self.server is not None
        name = f"bench_{label}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.server, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
        try:
            yield name
        finally:
            with psycopg.connect(self.server, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name))
                )

    def eventsourcing_env(self, location: str) -> dict[str, str]:
        """The eventsourcing settings syncledger's bootstrap uses for a location (so a bare
        eventsourcing baseline is configured exactly like the product's ledger)."""
        if self.kind == SQLITE:
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": location,
                "SQLITE_LOCK_TIMEOUT": "30",
            }
        return PostgresUrl.parse(location).eventsourcing_env()


def postgres_version(server: str) -> str:
    """The server's version, e.g. ``15.20``."""
    with psycopg.connect(server, connect_timeout=3) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]).split()[0] if row else "?"
