"""The audit tables: their DDL and the transaction that writes one batch of audit rows into them.

``audit_events`` (one row per event, keyed by log position), ``audit_calls`` (one row per Xero
call), ``audit_failures`` (one row per failure), ``audit_timings`` (first delivery of each
operation of a document), ``audit_xero_ids`` (Xero ids the ledger created or adopted),
``audit_aggregates`` (one row per aggregate) and ``audit_tracking`` (the projection's position),
in portable SQL over any ``Database`` backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from projections.audit_rows import (
    AGGREGATE_COLUMNS,
    CALL_COLUMNS,
    EVENT_COLUMNS,
    FAILURE_COLUMNS,
    TIMING_COLUMNS,
    AggregateInfo,
    AuditBatch,
    AuditRows,
)
from projections.storage.database import Transaction, move_position, tracking_ddl

TRACKING = "audit_tracking"
TABLES: tuple[str, ...] = (
    "audit_aggregates",
    "audit_events",
    "audit_calls",
    "audit_failures",
    "audit_timings",
    "audit_xero_ids",
    TRACKING,
)
"""Every audit table, in the order ``db check`` lists them."""


def ddl() -> list[str]:
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


def _info(values: Sequence[Any]) -> AggregateInfo:
    data = dict(zip(AGGREGATE_COLUMNS, values, strict=True))
    data["events"] = int(data["events"])
    return AggregateInfo(**data)


def _values(row: Any) -> tuple[Any, ...]:
    # Not dataclasses.astuple: it deep-copies every value, a third of a catch-up's time.
    return tuple(int(v) if isinstance(v, bool) else v for v in vars(row).values())


class SQLAuditBatch(AuditBatch):
    """One batch of the audit projection, inside a write transaction holding its position."""

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
