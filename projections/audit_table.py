"""The audit projection's tables, in portable SQL over any ``Database`` backend.

``audit_events`` (one row per event, keyed by log position), ``audit_calls`` (one row per Xero
call), ``audit_failures`` (one row per failure), ``audit_timings`` (first delivery of each
operation of a document), ``audit_xero_ids`` (Xero ids the ledger created or adopted),
``audit_aggregates`` (one row per aggregate) and ``audit_tracking`` (the projection's position).
Every query is keyed on an index and read with ``Transaction.stream``, so answers start at once
and memory stays flat on a large log.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from projections.audit import (
    AGGREGATE_COLUMNS,
    CALL_COLUMNS,
    EVENT_COLUMNS,
    FAILURE_COLUMNS,
    INVOICE,
    PAYMENT,
    TIMING_COLUMNS,
    AggregateInfo,
    AuditBatch,
    AuditRows,
    AuditStore,
    CallRow,
    DocumentRef,
    EventFilter,
    EventRow,
    FailureGroup,
    TimingRow,
    TimingStats,
    Window,
)
from projections.database import (
    Database,
    TrackedTables,
    Transaction,
    move_position,
    tracking_ddl,
)

TRACKING = "audit_tracking"
TABLES: tuple[str, ...] = (
    "audit_events",
    "audit_calls",
    "audit_failures",
    "audit_timings",
    "audit_xero_ids",
    "audit_aggregates",
    TRACKING,
)
IN_CHUNK = 200


def _ddl() -> list[str]:
    return [
        """CREATE TABLE IF NOT EXISTS audit_aggregates (
            aggregate_id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            org TEXT,
            ref TEXT,
            document TEXT,
            number TEXT NOT NULL,
            created_at TEXT NOT NULL,
            last_at TEXT NOT NULL,
            email TEXT,
            invoice_doc TEXT,
            doc_date TEXT,
            started_at TEXT,
            requested_at TEXT,
            cancelled_at TEXT,
            credit_requested_at TEXT,
            xero_id TEXT,
            credit_note_id TEXT,
            events BIGINT NOT NULL,
            group_key TEXT NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS audit_aggregates_listing "
        "ON audit_aggregates (org, kind, number, ref)",
        "CREATE INDEX IF NOT EXISTS audit_aggregates_group "
        "ON audit_aggregates (org, group_key, kind, aggregate_id)",
        "CREATE INDEX IF NOT EXISTS audit_aggregates_dated "
        "ON audit_aggregates (org, kind, doc_date)",
        "CREATE INDEX IF NOT EXISTS audit_aggregates_invoice ON audit_aggregates (invoice_doc)",
        """CREATE TABLE IF NOT EXISTS audit_events (
            position BIGINT PRIMARY KEY,
            at TEXT NOT NULL,
            org TEXT,
            aggregate_id TEXT NOT NULL,
            version BIGINT NOT NULL,
            kind TEXT NOT NULL,
            document TEXT,
            number TEXT,
            event_type TEXT NOT NULL,
            email TEXT,
            summary TEXT NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS audit_events_aggregate "
        "ON audit_events (aggregate_id, position)",
        "CREATE INDEX IF NOT EXISTS audit_events_org ON audit_events (org, position)",
        "CREATE INDEX IF NOT EXISTS audit_events_kind ON audit_events (kind, position)",
        "CREATE INDEX IF NOT EXISTS audit_events_type ON audit_events (event_type, position)",
        "CREATE INDEX IF NOT EXISTS audit_events_email ON audit_events (email, position)",
        "CREATE INDEX IF NOT EXISTS audit_events_at ON audit_events (at)",
        """CREATE TABLE IF NOT EXISTS audit_calls (
            position BIGINT NOT NULL,
            seq INTEGER NOT NULL,
            at TEXT NOT NULL,
            org TEXT,
            aggregate_id TEXT NOT NULL,
            document TEXT,
            number TEXT,
            operation TEXT NOT NULL,
            xero_operation TEXT NOT NULL,
            method TEXT NOT NULL,
            path TEXT NOT NULL,
            idempotency_key TEXT,
            status INTEGER,
            outcome TEXT NOT NULL,
            request TEXT NOT NULL,
            response TEXT NOT NULL,
            duration_us BIGINT NOT NULL,
            result TEXT NOT NULL,
            PRIMARY KEY (position, seq)
        )""",
        "CREATE INDEX IF NOT EXISTS audit_calls_aggregate "
        "ON audit_calls (aggregate_id, position, seq)",
        "CREATE INDEX IF NOT EXISTS audit_calls_org ON audit_calls (org, at)",
        """CREATE TABLE IF NOT EXISTS audit_failures (
            position BIGINT PRIMARY KEY,
            at TEXT NOT NULL,
            org TEXT,
            aggregate_id TEXT NOT NULL,
            document TEXT,
            number TEXT,
            kind TEXT NOT NULL,
            operation TEXT,
            category TEXT NOT NULL,
            message TEXT NOT NULL,
            final INTEGER NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS audit_failures_message ON audit_failures (message, document)",
        "CREATE INDEX IF NOT EXISTS audit_failures_org ON audit_failures (org, at)",
        "CREATE INDEX IF NOT EXISTS audit_failures_at ON audit_failures (at)",
        """CREATE TABLE IF NOT EXISTS audit_timings (
            aggregate_id TEXT NOT NULL,
            operation TEXT NOT NULL,
            org TEXT,
            document TEXT,
            number TEXT,
            started_at TEXT NOT NULL,
            requested_at TEXT,
            synced_at TEXT NOT NULL,
            millis BIGINT NOT NULL,
            delivery_millis BIGINT,
            PRIMARY KEY (aggregate_id, operation)
        )""",
        "CREATE INDEX IF NOT EXISTS audit_timings_millis ON audit_timings (operation, millis)",
        "CREATE INDEX IF NOT EXISTS audit_timings_delivery "
        "ON audit_timings (operation, delivery_millis)",
        "CREATE INDEX IF NOT EXISTS audit_timings_org ON audit_timings (org, operation, millis)",
        """CREATE TABLE IF NOT EXISTS audit_xero_ids (
            xero_id TEXT NOT NULL,
            aggregate_id TEXT NOT NULL,
            record TEXT NOT NULL,
            position BIGINT NOT NULL,
            PRIMARY KEY (xero_id, aggregate_id)
        )""",
        *tracking_ddl(TRACKING),
    ]


def _insert(table: str, columns: Sequence[str], tail: str = "") -> str:
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)}){tail}"
    )


_AGGREGATE_COLUMNS = (*AGGREGATE_COLUMNS, "group_key")
_UPSERT_AGGREGATE = _insert(
    "audit_aggregates",
    _AGGREGATE_COLUMNS,
    " ON CONFLICT (aggregate_id) DO UPDATE SET "
    + ", ".join(f"{c}=excluded.{c}" for c in _AGGREGATE_COLUMNS if c != "aggregate_id"),
)
_INSERT_EVENT = _insert("audit_events", EVENT_COLUMNS)
_INSERT_CALL = _insert("audit_calls", CALL_COLUMNS)
_INSERT_FAILURE = _insert("audit_failures", FAILURE_COLUMNS)
_INSERT_TIMING = _insert(
    "audit_timings", TIMING_COLUMNS, " ON CONFLICT (aggregate_id, operation) DO NOTHING"
)
_INSERT_XERO_ID = _insert(
    "audit_xero_ids",
    ("xero_id", "aggregate_id", "record", "position"),
    " ON CONFLICT (xero_id, aggregate_id) DO NOTHING",
)
_SELECT_AGGREGATE = ", ".join(AGGREGATE_COLUMNS)
_DOCUMENT_REF = "a.aggregate_id, a.kind, a.org, a.document, a.number, a.invoice_doc, a.group_key"
_DOCUMENT_KINDS = f"('{INVOICE}', '{PAYMENT}')"


def _info(values: Sequence[Any]) -> AggregateInfo:
    data = dict(zip(AGGREGATE_COLUMNS, values, strict=True))
    data["events"] = int(data["events"])
    return AggregateInfo(**data)


def _document(values: Sequence[Any]) -> DocumentRef:
    return DocumentRef(*values)


def _values(row: Any) -> tuple[Any, ...]:
    # Not dataclasses.astuple: it deep-copies every value, a third of a catch-up's time.
    return tuple(int(v) if isinstance(v, bool) else v for v in vars(row).values())


class _Batch(AuditBatch):
    def __init__(self, tx: Transaction, position: int) -> None:
        self.tx = tx
        self.position = position

    def load(self, aggregate_id: str) -> AggregateInfo | None:
        found = self.tx.one(
            f"SELECT {_SELECT_AGGREGATE} FROM audit_aggregates WHERE aggregate_id=?",
            (aggregate_id,),
        )
        return _info(found) if found else None

    def save(self, rows: AuditRows, position: int) -> None:
        invoice_emails = list(rows.invoice_emails.items())
        self.tx.many(
            "UPDATE audit_events SET email=? WHERE email IS NULL AND aggregate_id IN "
            "(SELECT aggregate_id FROM audit_aggregates WHERE invoice_doc=?)",
            [(email, invoice) for invoice, email in invoice_emails],
        )
        self.tx.many(
            "UPDATE audit_aggregates SET email=? WHERE invoice_doc=? AND email IS NULL",
            [(email, invoice) for invoice, email in invoice_emails],
        )
        self.tx.many(
            "UPDATE audit_events SET email=? WHERE aggregate_id=? AND email IS NULL",
            [(email, aggregate_id) for aggregate_id, email in rows.emails.items()],
        )
        self.tx.many(
            "UPDATE audit_events SET number=? WHERE aggregate_id=? AND number=document",
            [(number, aggregate_id) for aggregate_id, number in rows.numbers.items()],
        )
        self.tx.many(
            _UPSERT_AGGREGATE,
            [
                (*(getattr(info, c) for c in AGGREGATE_COLUMNS), info.group_key)
                for info in rows.aggregates.values()
            ],
        )
        self.tx.many(_INSERT_EVENT, [_values(r) for r in rows.events])
        self.tx.many(_INSERT_CALL, [_values(r) for r in rows.calls])
        self.tx.many(_INSERT_FAILURE, [_values(r) for r in rows.failures])
        self.tx.many(_INSERT_TIMING, [_values(r) for r in rows.timings])
        self.tx.many(_INSERT_XERO_ID, [_values(r) for r in rows.xero_ids])
        move_position(self.tx, TRACKING, self.position, position)


def _window(column: str, window: Window, clauses: list[str], params: list[Any]) -> None:
    if window.since is not None:
        clauses.append(f"{column} >= ?")
        params.append(window.since)
    if window.until is not None:
        clauses.append(f"{column} < ?")
        params.append(window.until)


def _where(clauses: Sequence[str]) -> str:
    return (" WHERE " + " AND ".join(clauses)) if clauses else ""


def _marks(count: int) -> str:
    return ", ".join("?" for _ in range(count))


class SQLAuditStore(TrackedTables, AuditStore):
    """The audit projection's tables on any ``Database``."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.script(_ddl())

    tracking = TRACKING
    tables = TABLES

    @contextmanager
    def batch(self) -> Iterator[AuditBatch]:
        with self.held() as (tx, position):
            yield _Batch(tx, position)

    # events ------------------------------------------------------------------------------------

    def events(
        self, where: EventFilter, after: int = 0, limit: int | None = None
    ) -> Generator[EventRow, None, None]:
        clauses = ["position > ?"]
        params: list[Any] = [after]
        for column, value in (
            ("org", where.org),
            ("aggregate_id", where.aggregate_id),
            ("email", where.email),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        for column, chosen in (("kind", where.kinds), ("event_type", where.types)):
            if chosen:
                clauses.append(f"{column} IN ({_marks(len(chosen))})")
                params.extend(chosen)
        _window("at", where.window, clauses, params)
        sql = (
            f"SELECT {', '.join(EVENT_COLUMNS)} FROM audit_events{_where(clauses)} "
            "ORDER BY position"
        )
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with self.db.read() as tx:
            for values in tx.stream(sql, params):
                yield EventRow(*values)

    def calls(self, aggregate_id: str, window: Window) -> Generator[CallRow, None, None]:
        clauses = ["aggregate_id = ?"]
        params: list[Any] = [aggregate_id]
        _window("at", window, clauses, params)
        sql = (
            f"SELECT {', '.join(CALL_COLUMNS)} FROM audit_calls{_where(clauses)} "
            "ORDER BY position, seq"
        )
        with self.db.read() as tx:
            for values in tx.stream(sql, params):
                yield CallRow(*values)

    # failures ----------------------------------------------------------------------------------

    def failure_groups(self, org: str | None, window: Window) -> list[FailureGroup]:
        clauses: list[str] = []
        params: list[Any] = []
        if org is not None:
            clauses.append("org = ?")
            params.append(org)
        _window("at", window, clauses, params)
        sql = (
            "SELECT message, MIN(category), COUNT(*), SUM(final), COUNT(DISTINCT aggregate_id), "
            f"MIN(at), MAX(at) FROM audit_failures{_where(clauses)} "
            "GROUP BY message ORDER BY COUNT(*) DESC, message"
        )
        with self.db.read() as tx:
            found = tx.all(sql, params)
        return [
            FailureGroup(
                str(message),
                str(category),
                int(count),
                int(final or 0),
                int(docs),
                str(first),
                str(last),
            )
            for message, category, count, final, docs, first, last in found
        ]

    def failure_documents(
        self, message: str, org: str | None, window: Window, limit: int | None
    ) -> list[tuple[str, str]]:
        clauses = ["message = ?"]
        params: list[Any] = [message]
        if org is not None:
            clauses.append("org = ?")
            params.append(org)
        _window("at", window, clauses, params)
        sql = (
            f"SELECT DISTINCT document, number FROM audit_failures{_where(clauses)} "
            "ORDER BY document, number"
        )
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with self.db.read() as tx:
            return [(str(d), str(n)) for d, n in tx.all(sql, params)]

    # timings -----------------------------------------------------------------------------------

    @staticmethod
    def _timing_filter(
        operation: str | None, org: str | None, window: Window, column: str
    ) -> tuple[list[str], list[Any]]:
        clauses = [f"{column} IS NOT NULL"]
        params: list[Any] = []
        if operation is not None:
            clauses.append("operation = ?")
            params.append(operation)
        if org is not None:
            clauses.append("org = ?")
            params.append(org)
        _window("started_at", window, clauses, params)
        return clauses, params

    def timing_stats(
        self, operation: str, org: str | None, window: Window, from_request: bool
    ) -> TimingStats:
        column = "delivery_millis" if from_request else "millis"
        clauses, params = self._timing_filter(operation, org, window, column)
        where = _where(clauses)
        with self.db.read() as tx:
            found = tx.one(f"SELECT COUNT(*), MAX({column}) FROM audit_timings{where}", params)
            count = int(found[0]) if found else 0
            if count == 0:
                return TimingStats(operation, 0, None, None, None)

            def nth(offset: int, take: int = 1) -> list[int]:
                rows = tx.all(
                    f"SELECT {column} FROM audit_timings{where} ORDER BY {column} LIMIT ? OFFSET ?",
                    [*params, take, offset],
                )
                return [int(r[0]) for r in rows]

            if count % 2:
                median = float(nth(count // 2)[0])
            else:
                middle = nth(count // 2 - 1, 2)
                median = sum(middle) / 2
            rank = -(-95 * count // 100)
            p95 = nth(rank - 1)[0]
            return TimingStats(operation, count, median, p95, int(found[1]) if found else None)

    def slowest(
        self, org: str | None, window: Window, from_request: bool, limit: int
    ) -> list[TimingRow]:
        column = "delivery_millis" if from_request else "millis"
        clauses, params = self._timing_filter(None, org, window, column)
        sql = (
            f"SELECT {', '.join(TIMING_COLUMNS)} FROM audit_timings{_where(clauses)} "
            f"ORDER BY {column} DESC, aggregate_id, operation LIMIT ?"
        )
        with self.db.read() as tx:
            return [TimingRow(*values) for values in tx.all(sql, [*params, limit])]

    # documents ---------------------------------------------------------------------------------

    def documents(
        self, org: str | None, created_before: str | None, window: Window
    ) -> Generator[DocumentRef, None, None]:
        clauses = [f"a.kind IN {_DOCUMENT_KINDS}"]
        params: list[Any] = []
        if org is not None:
            clauses.append("a.org = ?")
            params.append(org)
        if created_before is not None:
            clauses.append("a.created_at <= ?")
            params.append(created_before)
        _window("a.created_at", window, clauses, params)
        sql = (
            f"SELECT {_DOCUMENT_REF} FROM audit_aggregates a{_where(clauses)} "
            "ORDER BY a.org, a.kind, a.number, a.ref"
        )
        with self.db.read() as tx:
            for values in tx.stream(sql, params):
                yield _document(values)

    def groups(
        self, org: str, since: str | None, until: str | None
    ) -> Generator[DocumentRef, None, None]:
        clauses = ["a.org = ?", f"a.kind IN {_DOCUMENT_KINDS}"]
        params: list[Any] = [org]
        if since is not None or until is not None:
            inner = ["i.org = ?", f"i.kind = '{INVOICE}'"]
            params.append(org)
            _window("i.doc_date", Window(since, until), inner, params)
            clauses.append(
                f"a.group_key IN (SELECT i.aggregate_id FROM audit_aggregates i{_where(inner)})"
            )
        sql = (
            f"SELECT {_DOCUMENT_REF} FROM audit_aggregates a{_where(clauses)} "
            "ORDER BY a.group_key, a.kind, a.aggregate_id"
        )
        with self.db.read() as tx:
            for values in tx.stream(sql, params):
                yield _document(values)

    def count_documents(self, org: str | None) -> int:
        clauses = [f"kind IN {_DOCUMENT_KINDS}"]
        params: list[Any] = []
        if org is not None:
            clauses.append("org = ?")
            params.append(org)
        with self.db.read() as tx:
            found = tx.one(f"SELECT COUNT(*) FROM audit_aggregates{_where(clauses)}", params)
        return int(found[0]) if found else 0

    def owners(self, org: str, xero_ids: Sequence[str]) -> dict[str, DocumentRef]:
        wanted = sorted({x.lower() for x in xero_ids})
        found: dict[str, DocumentRef] = {}
        with self.db.read() as tx:
            for start in range(0, len(wanted), IN_CHUNK):
                chunk = wanted[start : start + IN_CHUNK]
                rows = tx.all(
                    f"SELECT x.xero_id, {_DOCUMENT_REF} FROM audit_xero_ids x "
                    "JOIN audit_aggregates a ON a.aggregate_id = x.aggregate_id "
                    f"WHERE a.org = ? AND x.xero_id IN ({_marks(len(chunk))}) "
                    "ORDER BY x.xero_id, x.position",
                    [org, *chunk],
                )
                for xero_id, *rest in rows:
                    found.setdefault(str(xero_id), _document(rest))
        return found

    def organisations(self) -> list[str]:
        with self.db.read() as tx:
            rows = tx.all(
                "SELECT DISTINCT org FROM audit_aggregates WHERE kind = 'organisation' "
                "AND org IS NOT NULL ORDER BY org"
            )
        return [str(r[0]) for r in rows]
