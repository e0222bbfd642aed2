"""The status projection's tables, in portable SQL over any ``Database`` backend:
``status_documents`` (one row per document), ``status_organisations`` (connections) and
``status_tracking`` (the projection's position)."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from domain.vocabulary import DocumentKind
from projections.status import StatusBatch, StatusStore
from projections.status_rules import COLUMNS, OrgRow, StatusRow
from projections.status_view import StatusFilter, StatusView, reason, shown
from projections.storage.database import (
    Database,
    Row,
    TrackedTables,
    Transaction,
    move_position,
    tracking_ddl,
)

TRACKING = "status_tracking"


def _ddl() -> list[str]:
    return [
        """CREATE TABLE IF NOT EXISTS status_documents (
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
            invoice_doc TEXT,
            xero_number TEXT, contact TEXT, action TEXT, category TEXT,
            paid TEXT, credited TEXT, refund_due TEXT, applied_to TEXT,
            blocked INTEGER NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS status_documents_org_status "
        "ON status_documents (org, status, visible)",
        "CREATE INDEX IF NOT EXISTS status_documents_status ON status_documents (status, visible)",
        "CREATE INDEX IF NOT EXISTS status_documents_number ON status_documents (number)",
        "CREATE INDEX IF NOT EXISTS status_documents_ref ON status_documents (kind, opensolar_id)",
        "CREATE INDEX IF NOT EXISTS status_documents_invoice ON status_documents (invoice_doc)",
        """CREATE TABLE IF NOT EXISTS status_organisations (
            key TEXT PRIMARY KEY, org TEXT NOT NULL, connected_at TEXT, tenant_id TEXT
        )""",
        "CREATE INDEX IF NOT EXISTS status_organisations_org ON status_organisations (org)",
        *tracking_ddl(TRACKING),
    ]


TABLES: tuple[str, ...] = ("status_documents", "status_organisations", TRACKING)
LOAD_CHUNK = 500
"""Documents read per query when a batch loads its rows (under SQLite's parameter limit)."""
_SELECT = ", ".join(f"d.{c}" for c in COLUMNS)
_UPSERT = (
    f"INSERT INTO status_documents ({', '.join(COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in COLUMNS)}) ON CONFLICT (doc_id) DO UPDATE SET "
    + ", ".join(f"{c}=excluded.{c}" for c in COLUMNS if c != "doc_id")
)
_ORDER = " ORDER BY d.org, d.kind, d.number, d.opensolar_id"


def row_from(values: Sequence[Any]) -> StatusRow:
    """A ``StatusRow`` from a selected tuple (columns in ``COLUMNS`` order)."""
    data = dict(zip(COLUMNS, values, strict=True))
    data["visible"] = bool(data["visible"])
    data["cancelled"] = bool(data["cancelled"])
    data["blocked"] = bool(data["blocked"])
    return StatusRow(**data)


def _values(row: StatusRow) -> tuple[Any, ...]:
    return tuple(int(v) if isinstance(v, bool) else v for v in (getattr(row, c) for c in COLUMNS))


class _Batch(StatusBatch):
    def __init__(self, tx: Transaction, position: int) -> None:
        self.tx = tx
        self.position = position

    def _rows_where(self, column: str, keys: Collection[str]) -> dict[str, StatusRow]:
        """Rows whose ``column`` is one of ``keys`` (one query per few hundred keys)."""
        ids = list(keys)
        found: dict[str, StatusRow] = {}
        for start in range(0, len(ids), LOAD_CHUNK):
            chunk = ids[start : start + LOAD_CHUNK]
            marks = ", ".join("?" for _ in chunk)
            for values in self.tx.all(
                f"SELECT {_SELECT} FROM status_documents d WHERE d.{column} IN ({marks})", chunk
            ):
                row = row_from(values)
                found[row.doc_id] = row
        return found

    def load_many(self, doc_ids: Collection[str]) -> dict[str, StatusRow]:
        return self._rows_where("doc_id", doc_ids)

    def payments_of(self, invoice_docs: Collection[str]) -> dict[str, StatusRow]:
        return self._rows_where("invoice_doc", invoice_docs)

    def load_org(self, key: str) -> OrgRow | None:
        found = self.tx.one(
            "SELECT key, org, connected_at, tenant_id FROM status_organisations WHERE key=?",
            (key,),
        )
        return OrgRow(*found) if found else None

    def save(self, rows: Sequence[StatusRow], orgs: Sequence[OrgRow], position: int) -> None:
        self.tx.many(_UPSERT, [_values(r) for r in rows])
        self.tx.many(
            "INSERT INTO status_organisations (key, org, connected_at, tenant_id) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET org=excluded.org, "
            "connected_at=excluded.connected_at, tenant_id=excluded.tenant_id",
            [(o.key, o.org, o.connected_at, o.tenant_id) for o in orgs],
        )
        move_position(self.tx, TRACKING, self.position, position)


class SQLStatusStore(TrackedTables, StatusStore):
    """The status projection's tables on any ``Database``."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.upgrade(f"SELECT {', '.join(COLUMNS)} FROM status_documents WHERE 1=0")
        db.script(_ddl())

    TABLES = TABLES
    """Every table this store creates, its tracking table included."""
    tracking = TRACKING

    @contextmanager
    def batch(self) -> Iterator[StatusBatch]:
        with self.held() as (tx, position):
            yield _Batch(tx, position)

    def rows(self, where: StatusFilter) -> Iterator[StatusView]:
        clauses: list[str] = []
        params: list[Any] = []
        if not where.include_hidden:
            clauses.append("d.visible=1")
        for column, value in (("org", where.org), ("status", where.status), ("kind", where.kind)):
            if value is not None:
                clauses.append(f"d.{column}=?")
                params.append(value)
        if where.project is not None:
            clauses.append(f"(d.project=? OR (d.kind='{DocumentKind.PAYMENT}' AND i.project=?))")
            params.extend([where.project, where.project])
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
        with self.db.read() as tx:
            for values in tx.stream(sql, params):
                yield _view(values)

    def find(self, reference: str, org: str | None) -> list[StatusRow]:
        kind, _, opensolar_id = reference.partition(":")
        if opensolar_id and kind in (DocumentKind.INVOICE, DocumentKind.PAYMENT):
            sql = f"SELECT {_SELECT} FROM status_documents d WHERE d.kind=? AND d.opensolar_id=?"
            params = [kind, opensolar_id]
        else:
            sql = f"SELECT {_SELECT} FROM status_documents d WHERE (d.number=? OR d.doc_id=?)"
            params = [reference, reference]
        if org is not None:
            sql += " AND d.org=?"
            params.append(org)
        with self.db.read() as tx:
            return [row_from(r) for r in tx.all(sql + _ORDER, params)]

    def payments_of(self, invoice_doc: str) -> list[StatusRow]:
        with self.db.read() as tx:
            found = tx.all(
                f"SELECT {_SELECT} FROM status_documents d WHERE d.invoice_doc=?" + _ORDER,
                (invoice_doc,),
            )
        return [row_from(r) for r in found]

    def organisations(self) -> list[OrgRow]:
        with self.db.read() as tx:
            rows = tx.all(
                "SELECT key, org, connected_at, tenant_id FROM status_organisations ORDER BY org"
            )
        return [OrgRow(*r) for r in rows]

    def counts(self) -> dict[str, int]:
        with self.db.read() as tx:
            found = tx.all(
                "SELECT status, COUNT(*) FROM status_documents WHERE visible=1 GROUP BY status"
            )
        return {str(status): int(count) for status, count in found}


def _view(values: Row) -> StatusView:
    width = len(COLUMNS)
    row = row_from(values[:width])
    invoice = row_from(values[width : 2 * width]) if values[width] is not None else None
    org = OrgRow(*values[2 * width :]) if values[2 * width] is not None else None
    return StatusView(shown(row, invoice), reason(row, invoice, org))
