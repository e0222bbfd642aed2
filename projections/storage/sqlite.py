"""SQLite backend for our tables: a ``Database`` over one connection to the ledger's own file.

Our tables live in the same file as eventsourcing's ``stored_events``. Writes run in
``BEGIN IMMEDIATE`` transactions, so two processes catching up the same projection take turns
instead of conflicting; sqlite3 errors are translated to ``StorageError`` here and nowhere else.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from projections.storage.database import Database, Dialect, Row, Transaction
from projections.storage.errors import (
    StorageBusyError,
    StorageError,
    StorageReadOnlyError,
    StorageUnavailableError,
)

DEFAULT_BUSY_TIMEOUT = 30.0
SQLITE = Dialect(
    name="sqlite",
    id_column="id INTEGER PRIMARY KEY AUTOINCREMENT",
    for_update="",
    skip_locked="",
)


def translate(exc: sqlite3.Error, path: str) -> StorageError:
    """The storage error for a sqlite3 error (the one place sqlite3 errors are mapped)."""
    text = str(exc)
    lowered = text.lower()
    if "locked" in lowered or "busy" in lowered:
        return StorageBusyError(
            f"the database {path} is locked by another process ({text}); try again when it is free"
        )
    if "readonly" in lowered or "read-only" in lowered or "disk is full" in lowered:
        return StorageReadOnlyError(f"the database {path} does not accept writes: {text}")
    if "unable to open" in lowered or "disk i/o" in lowered:
        return StorageUnavailableError(f"the database {path} cannot be opened: {text}")
    return StorageError(f"database error on {path}: {text}")


class _SQLiteTransaction(Transaction):
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self.conn.execute(sql, params).rowcount

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self.conn.executemany(sql, rows)

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        found = self.conn.execute(sql, params).fetchone()
        return tuple(found) if found is not None else None

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return [tuple(r) for r in self.conn.execute(sql, params).fetchall()]

    def stream(self, sql: str, params: Sequence[Any] = (), size: int = 1000) -> Iterator[Row]:
        cursor = self.conn.execute(sql, params)
        while True:
            rows = cursor.fetchmany(size)
            if not rows:
                return
            for row in rows:
                yield tuple(row)


class SQLiteDatabase(Database):
    """One connection to the ledger's SQLite file, shared by a process's stores under a lock."""

    dialect = SQLITE

    def __init__(self, path: str, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> None:
        self.path = path
        self.description = f"SQLite {path}"
        self.busy_timeout = busy_timeout
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            try:
                conn = sqlite3.connect(
                    self.path,
                    timeout=self.busy_timeout,
                    isolation_level=None,
                    check_same_thread=False,
                )
                conn.execute("PRAGMA journal_mode=WAL")
            except sqlite3.Error as exc:
                raise translate(exc, self.path) from exc
            self._conn = conn
        return self._conn

    @contextmanager
    def write(self) -> Iterator[Transaction]:
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise translate(exc, self.path) from exc
            try:
                yield _SQLiteTransaction(conn)
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                _rollback(conn)
                raise translate(exc, self.path) from exc
            except BaseException:
                _rollback(conn)
                raise

    @contextmanager
    def read(self) -> Iterator[Transaction]:
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN")
                yield _SQLiteTransaction(conn)
            except sqlite3.Error as exc:
                raise translate(exc, self.path) from exc
            finally:
                _rollback(conn)

    def script(self, statements: Sequence[str]) -> None:
        with self._lock:
            conn = self._connection()
            try:
                for statement in statements:
                    conn.execute(statement)
            except sqlite3.Error as exc:
                raise translate(exc, self.path) from exc

    @staticmethod
    def read_only_tables(path: str) -> set[str]:
        """The tables of an existing database file, read without changing it (no journal mode
        set, nothing created)."""
        try:
            conn = sqlite3.connect(path, timeout=DEFAULT_BUSY_TIMEOUT)
            try:
                rows = conn.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise translate(exc, path) from exc
        return {str(r[0]) for r in rows}

    def tables(self) -> set[str]:
        with self.read() as tx:
            rows = tx.all("SELECT name FROM sqlite_master WHERE type='table'")
        return {str(r[0]) for r in rows}

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
