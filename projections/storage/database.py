"""The port our own tables are written through: a database with write and read transactions, and
the few SQL differences between backends (a ``Dialect``).

Stores (the status table, the outbox, ...) are written once in portable SQL with ``?``
placeholders; each backend module (``sqlite.py``, ``postgres.py``) implements ``Database`` and
translates its driver's errors into ``StorageError`` at that boundary. Every projection keeps its
position in a tracking table of its own (``<name>_tracking``), written in the same transaction as
its rows.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from projections.storage.errors import StorageError

Row = tuple[Any, ...]


@dataclass(frozen=True)
class Dialect:
    """What differs in SQL between backends."""

    name: str
    id_column: str
    """DDL for an auto-numbered ``id`` primary key."""
    for_update: str
    """Suffix that locks selected rows until the transaction ends ("" where the whole database
    is locked by a write transaction anyway)."""
    skip_locked: str
    """Suffix that locks selected rows and skips rows other transactions hold."""


class Transaction(ABC):
    """Statements inside one transaction (``?`` placeholders on every backend)."""

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; return the number of rows it changed."""

    def send(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one statement whose outcome is not needed here. A backend may send it later in
        the same transaction (PostgreSQL pipelines such statements until the next read), in
        order, so a failure surfaces at the latest when the transaction commits."""
        self.execute(sql, params)

    @abstractmethod
    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for each parameter row."""

    @abstractmethod
    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """The first row of a query, or None."""

    @abstractmethod
    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Every row of a query."""

    @abstractmethod
    def stream(self, sql: str, params: Sequence[Any] = (), size: int = 1000) -> Iterator[Row]:
        """The rows of a query, fetched ``size`` at a time (constant memory)."""


class Database(ABC):
    """A database holding our tables beside the ledger's events."""

    dialect: Dialect
    description: str

    @abstractmethod
    def write(self) -> AbstractContextManager[Transaction]:
        """A write transaction: committed on success, rolled back on error."""

    @abstractmethod
    def read(self) -> AbstractContextManager[Transaction]:
        """A read-only transaction over one consistent snapshot."""

    @abstractmethod
    def script(self, statements: Sequence[str]) -> None:
        """Run DDL statements (``CREATE ... IF NOT EXISTS``), each once, in order."""

    @abstractmethod
    def tables(self) -> set[str]:
        """The names of the tables that exist (in our schema)."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""


class Waker(Protocol):
    """Wakes a waiting loop when the ledger records events (PostgreSQL's LISTEN/NOTIFY)."""

    def wait(self, timeout: float) -> bool:
        """Wait until an event is recorded (True) or ``timeout`` passes (False)."""

    def close(self) -> None:
        """Stop listening."""


class TrackedTables:
    """What every projection's tables share: a tracking table holding its position, taken
    exclusively by each batch, and a reset that empties its tables for a rebuild."""

    db: Database
    tracking: str = ""
    TABLES: tuple[str, ...] = ()
    """Every table of the projection, the tracking table included (the composition root
    collects them)."""

    @contextmanager
    def held(self) -> Iterator[tuple[Transaction, int]]:
        """A write transaction holding the projection's position, and that position."""
        with self.db.write() as tx:
            yield tx, lock_position(tx, self.db.dialect, self.tracking)

    def position(self) -> int:
        with self.db.read() as tx:
            return read_position(tx, self.tracking)

    def reset(self) -> None:
        with self.held() as (tx, _):
            for table in self.TABLES:
                if table != self.tracking:
                    tx.execute(f"DELETE FROM {table}")
            reset_position(tx, self.tracking)

    def upgrade(self, probe: str) -> None:
        """Drop the projection's tables when they predate its current columns (``probe``, a
        query naming them all, fails): they are rebuilt from the log on the next read."""
        if self.tracking not in self.db.tables():
            return
        try:
            with self.db.read() as tx:
                tx.all(probe)
        except StorageError:
            self.db.script([f"DROP TABLE IF EXISTS {table}" for table in self.TABLES])


def tracking_ddl(table: str) -> list[str]:
    """DDL for one projection's own tracking table, with its single row in place (so a writer
    can lock it with ``FOR UPDATE`` from the very first batch)."""
    return [
        f"CREATE TABLE IF NOT EXISTS {table} ("
        "application_name TEXT PRIMARY KEY, notification_id BIGINT NOT NULL)",
        f"INSERT INTO {table} (application_name, notification_id) VALUES ('Ledger', 0) "
        "ON CONFLICT (application_name) DO NOTHING",
    ]


def lock_position(tx: Transaction, dialect: Dialect, table: str) -> int:
    """Read a projection's position and hold it for this transaction (0 when empty)."""
    row = tx.one(
        f"SELECT notification_id FROM {table} WHERE application_name='Ledger'{dialect.for_update}"
    )
    return int(row[0]) if row else 0


def read_position(tx: Transaction, table: str) -> int:
    """A projection's position (0 when empty)."""
    row = tx.one(f"SELECT notification_id FROM {table} WHERE application_name='Ledger'")
    return int(row[0]) if row else 0


def move_position(tx: Transaction, table: str, old: int, new: int) -> None:
    """Move a projection's position from ``old`` to ``new`` (never backwards, never twice)."""
    if new <= old:
        raise StorageError(f"{table}: position would move from {old} back to {new}")
    changed = tx.execute(
        f"UPDATE {table} SET notification_id=? "
        "WHERE application_name='Ledger' AND notification_id=?",
        (new, old),
    )
    if changed != 1:
        raise StorageError(f"{table}: position moved from {old} by another process; try again")


def reset_position(tx: Transaction, table: str) -> None:
    """Put a projection back to the start of the log."""
    tx.execute(f"UPDATE {table} SET notification_id=0 WHERE application_name='Ledger'")
