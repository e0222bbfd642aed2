"""SQLite storage for projections: the connection helper shared by every SQLite table of ours, and
the status projection's tables.

Our tables live in the ledger's own SQLite file (beside eventsourcing's ``stored_events``). Each
projection has its own tracking table (``status_tracking``, ``outbox_tracking``), because
eventsourcing's SQLite ``tracking`` table is keyed by the upstream application's name only and
would make two projections of one log share a position. Writes run in ``BEGIN IMMEDIATE``
transactions, so two processes catching up the same projection take turns instead of
conflicting; sqlite3 errors are translated to ``StorageError`` here and nowhere else.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from domain.ids import organisation_id
from projections.errors import (
    StorageBusyError,
    StorageError,
    StorageReadOnlyError,
    StorageUnavailableError,
)
from projections.status import (
    COLUMNS,
    NOT_ATTEMPTED,
    OrgRow,
    StatusBatch,
    StatusFilter,
    StatusRow,
    StatusStore,
    StatusView,
    reason,
)

DEFAULT_BUSY_TIMEOUT = 30.0


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


class SQLiteDatabase:
    """One connection to the ledger's SQLite file, shared by a process's stores under a lock."""

    def __init__(self, path: str, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> None:
        self.path = path
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
                conn.execute("PRAGMA synchronous=NORMAL")
            except sqlite3.Error as exc:
                raise translate(exc, self.path) from exc
            self._conn = conn
        return self._conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``): committed on success, else rolled back."""
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise translate(exc, self.path) from exc
            try:
                yield conn
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                _rollback(conn)
                raise translate(exc, self.path) from exc
            except BaseException:
                _rollback(conn)
                raise

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: one consistent snapshot."""
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN")
                yield conn
            except sqlite3.Error as exc:
                raise translate(exc, self.path) from exc
            finally:
                _rollback(conn)

    def script(self, sql: str) -> None:
        """Run DDL statements (``CREATE TABLE IF NOT EXISTS ...``)."""
        with self._lock:
            try:
                self._connection().executescript(sql)
            except sqlite3.Error as exc:
                raise translate(exc, self.path) from exc

    def close(self) -> None:
        """Close the connection (a later use reopens it)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


def tracking_ddl(table: str) -> str:
    """DDL for one projection's own tracking table (one row: its position in the log)."""
    return (
        f"CREATE TABLE IF NOT EXISTS {table} ("
        "application_name TEXT PRIMARY KEY, notification_id INTEGER NOT NULL);"
    )


def read_position(conn: sqlite3.Connection, table: str) -> int:
    """The tracked position in ``table`` (0 when nothing is tracked yet)."""
    row = conn.execute(
        f"SELECT notification_id FROM {table} WHERE application_name='Ledger'"
    ).fetchone()
    return int(row[0]) if row else 0


def write_position(conn: sqlite3.Connection, table: str, old: int, new: int) -> None:
    """Move the tracked position from ``old`` to ``new`` (refusing to go backwards)."""
    if new <= old:
        raise StorageError(f"{table}: position would move from {old} back to {new}")
    conn.execute(
        f"INSERT INTO {table} (application_name, notification_id) VALUES ('Ledger', ?) "
        "ON CONFLICT(application_name) DO UPDATE SET notification_id=excluded.notification_id",
        (new,),
    )


_STATUS_DDL = f"""
CREATE TABLE IF NOT EXISTS status_documents (
    doc_id TEXT PRIMARY KEY,
    org TEXT NOT NULL,
    kind TEXT NOT NULL,
    opensolar_id TEXT NOT NULL,
    number TEXT NOT NULL,
    project TEXT, customer TEXT, email TEXT, amount TEXT, currency TEXT,
    doc_date TEXT, moment TEXT,
    status TEXT NOT NULL,
    error TEXT, note TEXT, operation TEXT, xero_id TEXT, credit_note_id TEXT,
    attempts INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    visible INTEGER NOT NULL,
    cancelled INTEGER NOT NULL,
    invoice_doc TEXT
);
CREATE INDEX IF NOT EXISTS status_documents_org_status ON status_documents (org, status);
CREATE INDEX IF NOT EXISTS status_documents_number ON status_documents (number);
CREATE INDEX IF NOT EXISTS status_documents_ref ON status_documents (kind, opensolar_id);
CREATE INDEX IF NOT EXISTS status_documents_invoice ON status_documents (invoice_doc);
CREATE TABLE IF NOT EXISTS status_organisations (
    key TEXT PRIMARY KEY, org TEXT NOT NULL, connected_at TEXT, tenant_id TEXT
);
{tracking_ddl("status_tracking")}
"""

_SELECT = ", ".join(f"d.{c}" for c in COLUMNS)
_INSERT = (
    f"INSERT OR REPLACE INTO status_documents ({', '.join(COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in COLUMNS)})"
)
_ORDER = " ORDER BY d.org, d.kind, d.number, d.opensolar_id"


def row_from(values: Sequence[Any]) -> StatusRow:
    """A ``StatusRow`` from a selected tuple (columns in ``COLUMNS`` order)."""
    data = dict(zip(COLUMNS, values, strict=True))
    data["visible"] = bool(data["visible"])
    data["cancelled"] = bool(data["cancelled"])
    return StatusRow(**data)


def _values(row: StatusRow) -> tuple[Any, ...]:
    return tuple(int(v) if isinstance(v, bool) else v for v in (getattr(row, c) for c in COLUMNS))


class _SQLiteStatusBatch(StatusBatch):
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.position = read_position(conn, "status_tracking")

    def load(self, doc_id: str) -> StatusRow | None:
        found = self.conn.execute(
            f"SELECT {_SELECT} FROM status_documents d WHERE d.doc_id=?", (doc_id,)
        ).fetchone()
        return row_from(found) if found else None

    def load_org(self, key: str) -> OrgRow | None:
        found = self.conn.execute(
            "SELECT key, org, connected_at, tenant_id FROM status_organisations WHERE key=?",
            (key,),
        ).fetchone()
        return OrgRow(*found) if found else None

    def save(self, rows: Sequence[StatusRow], orgs: Sequence[OrgRow], position: int) -> None:
        self.conn.executemany(_INSERT, [_values(r) for r in rows])
        self.conn.executemany(
            "INSERT OR REPLACE INTO status_organisations (key, org, connected_at, tenant_id) "
            "VALUES (?, ?, ?, ?)",
            [(o.key, o.org, o.connected_at, o.tenant_id) for o in orgs],
        )
        write_position(self.conn, "status_tracking", self.position, position)


class SQLiteStatusStore(StatusStore):
    """The status projection's tables in the ledger's SQLite file."""

    def __init__(self, db: SQLiteDatabase) -> None:
        self.db = db
        db.script(_STATUS_DDL)

    @contextmanager
    def batch(self) -> Iterator[StatusBatch]:
        with self.db.write() as conn:
            yield _SQLiteStatusBatch(conn)

    def position(self) -> int:
        with self.db.read() as conn:
            return read_position(conn, "status_tracking")

    def reset(self) -> None:
        with self.db.write() as conn:
            conn.execute("DELETE FROM status_documents")
            conn.execute("DELETE FROM status_organisations")
            conn.execute("DELETE FROM status_tracking")

    def rows(self, where: StatusFilter) -> Iterator[StatusView]:
        clauses: list[str] = []
        params: list[Any] = []
        if not where.include_hidden:
            clauses.append("d.visible=1")
        for column, value in (
            ("org", where.org),
            ("project", where.project),
            ("status", where.status),
            ("kind", where.kind),
        ):
            if value is not None:
                clauses.append(f"d.{column}=?")
                params.append(value)
        sql = (
            f"SELECT {_SELECT}, {', '.join('i.' + c for c in COLUMNS)}, "
            "o.key, o.org, o.connected_at, o.tenant_id "
            "FROM status_documents d "
            "LEFT JOIN status_documents i ON i.doc_id = d.invoice_doc "
            "LEFT JOIN status_organisations o ON o.org = d.org"
        )
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += _ORDER
        width = len(COLUMNS)
        with self.db.read() as conn:
            found = conn.execute(sql, params).fetchall()
        for values in found:
            row = row_from(values[:width])
            invoice = row_from(values[width : 2 * width]) if values[width] is not None else None
            org = OrgRow(*values[2 * width :]) if values[2 * width] is not None else None
            yield StatusView(row, reason(row, invoice, org))

    def find(self, reference: str, org: str | None) -> list[StatusRow]:
        kind, _, opensolar_id = reference.partition(":")
        if opensolar_id and kind in ("invoice", "payment"):
            sql, params = (
                f"SELECT {_SELECT} FROM status_documents d WHERE d.kind=? AND d.opensolar_id=?",
                [kind, opensolar_id],
            )
        else:
            sql, params = (
                f"SELECT {_SELECT} FROM status_documents d WHERE d.number=? OR d.doc_id=?",
                [reference, reference],
            )
        if org is not None:
            sql += " AND d.org=?"
            params.append(org)
        with self.db.read() as conn:
            return [row_from(r) for r in conn.execute(sql + _ORDER, params).fetchall()]

    def payments_of(self, invoice_doc: str) -> list[StatusRow]:
        with self.db.read() as conn:
            found = conn.execute(
                f"SELECT {_SELECT} FROM status_documents d WHERE d.invoice_doc=?" + _ORDER,
                (invoice_doc,),
            ).fetchall()
        return [row_from(r) for r in found]

    def counts(self) -> dict[str, int]:
        with self.db.read() as conn:
            found = conn.execute(
                "SELECT status, COUNT(*) FROM status_documents WHERE visible=1 GROUP BY status"
            ).fetchall()
        return {status: count for status, count in found}

    def not_attempted_since(self, org: str, moment: str) -> list[StatusRow]:
        """Documents of ``org`` that are Not Attempted and were issued or paid at or after
        ``moment`` (an ISO timestamp): the ones a backdated connection should send."""
        with self.db.read() as conn:
            found = conn.execute(
                f"SELECT {_SELECT} FROM status_documents d WHERE d.org=? AND d.status=? "
                "AND d.visible=1 AND d.cancelled=0 AND d.note IS NULL AND d.moment>=?" + _ORDER,
                (org, NOT_ATTEMPTED, moment),
            ).fetchall()
        return [row_from(r) for r in found]


def org_key(org: str) -> str:
    """The status projection's key for an organisation."""
    return str(organisation_id(org))
