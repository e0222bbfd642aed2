"""The audit projection's store: the queries over its tables, in portable SQL over any
``Database`` backend (the tables and their writing are in ``audit_schema``).

Every query is keyed on an index and read with ``Transaction.stream``, so answers start at once
and memory stays flat on a large log.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from domain.vocabulary import DocumentKind
from projections.audit import AuditStore
from projections.audit_queries import (
    DocumentRef,
    EventFilter,
    FailureGroup,
    TimingStats,
    Window,
)
from projections.audit_rows import (
    CALL_COLUMNS,
    EVENT_COLUMNS,
    TIMING_COLUMNS,
    AuditBatch,
    CallRow,
    EventRow,
    TimingRow,
)
from projections.audit_schema import TABLES, TRACKING, SQLAuditBatch, ddl
from projections.storage.database import Database, TrackedTables

IN_CHUNK = 200
_DOCUMENT_REF = "a.aggregate_id, a.kind, a.org, a.document, a.number, a.invoice_doc, a.group_key"
_DOCUMENT_KINDS = f"('{DocumentKind.INVOICE}', '{DocumentKind.PAYMENT}')"


def _document(values: Sequence[Any]) -> DocumentRef:
    return DocumentRef(*values)


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

    TABLES = TABLES
    """Every table this store creates, its tracking table included."""
    tracking = TRACKING

    def __init__(self, db: Database) -> None:
        self.db = db
        db.script(ddl())

    @contextmanager
    def batch(self) -> Iterator[AuditBatch]:
        with self.held() as (tx, position):
            yield SQLAuditBatch(tx, position)

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
            inner = ["i.org = ?", f"i.kind = '{DocumentKind.INVOICE}'"]
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
