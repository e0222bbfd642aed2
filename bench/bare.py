"""The bare eventsourcing baselines the product is measured against, in the same run.

- ``BareAppend``: a plain eventsourcing ``Application`` (with the domain's transcodings, nothing
  else) that appends already-made domain events with ``save`` in batches: the floor under
  ``ingest``, which also parses, validates and runs the domain.
- ``BareStatus`` and ``BareOutbox``: projections written the way eventsourcing 9.5's docs and
  ``notes/eventsourcing-9.5.md`` §4.4/§7.3 describe, a view that subclasses the library's
  ``SQLiteTrackingRecorder`` / ``PostgresTrackingRecorder`` and, per batch of notifications read
  with ``select_notifications``, folds the batch in memory (rows it does not hold are loaded with
  one query per table), writes the changed rows with ``executemany`` and inserts ONE tracking
  record, all in one transaction. They write the same rows as the product's status table and
  outbox (the same tables and indexes, created with the product's own DDL, in their own SQLite
  file or PostgreSQL schema) and ``compare_*`` checks that they did. The status rows come from
  the product's pure ``next_row`` rule, so the difference measured is plumbing, not rules. The
  outbox baseline asks the database for the topics it needs (the library's ``topics``), as an
  eventsourcing ``Projection`` would.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.application import Application
from eventsourcing.persistence import InfrastructureFactory, Tracking, TrackingRecorder, Transcoder
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder
from eventsourcing.utils import Environment, EnvType

from domain.documents import Document, Invoice
from domain.numbers import number_key
from domain.opensolar import InvoiceFields
from domain.organisation import Organisation
from domain.transcodings import register_domain_transcodings
from domain.vocabulary import FailureCategory, Operation
from outbox.store import MessageState
from outbox.writer import RELEVANT_TOPICS
from projections.status import (
    COLUMNS,
    OrgRow,
    StatusRow,
    follow_payments,
    new_row,
    next_org,
    next_row,
)
from projections.status_table import row_from

BATCH = 1000
"""Notifications per batch: the product's ``catch_up`` default, so both do as many commits."""


class _DomainApp(Application[UUID]):
    """A plain eventsourcing application that can encode and decode the domain's values."""

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        return Environment(name, dict(env or {}))

    def register_transcodings(self, transcoder: Transcoder) -> None:
        super().register_transcodings(transcoder)  # type: ignore[arg-type]
        register_domain_transcodings(transcoder)


class BareAppend(_DomainApp):
    """Appends events with nothing but eventsourcing (its own SQLite file or table)."""

    name = "Bare"


class LogReader(_DomainApp):
    """Reads the product's log (same name, so the same table on PostgreSQL)."""

    name = "Ledger"


# views -------------------------------------------------------------------------------------------


_TABLES = re.compile(
    r"\b(status_documents|status_organisations|outbox_messages|outbox_documents|"
    r"outbox_organisations|outbox_numbers)\b"
)


class _Sql:
    """The few SQL differences between the backends' DB-API cursors: placeholders, and on
    PostgreSQL table names qualified with the view's schema (eventsourcing's datastore does not
    set a search path)."""

    postgres = False
    datastore: Any

    def q(self, statement: str) -> str:
        if not self.postgres:
            return statement
        schema = self.datastore.schema
        return _TABLES.sub(rf"{schema}.\1", statement.replace("?", "%s"))

    def select_in(
        self, cursor: Any, columns: str, table: str, column: str, keys: Iterable[str]
    ) -> list[Any]:
        keys = list(keys)
        if not keys:
            return []
        if self.postgres:
            statement = f"SELECT {columns} FROM {table} WHERE {column} = ANY(?)"
            cursor.execute(self.q(statement), (keys,))
            # eventsourcing's PostgreSQL connections return rows as dicts
            return [tuple(r.values()) for r in cursor.fetchall()]
        found: list[Any] = []
        for start in range(0, len(keys), 30_000):
            chunk = keys[start : start + 30_000]
            marks = ",".join("?" for _ in chunk)
            cursor.execute(f"SELECT {columns} FROM {table} WHERE {column} IN ({marks})", chunk)
            found.extend(tuple(r) for r in cursor.fetchall())
        return found


class BareSQLiteView(_Sql, SQLiteTrackingRecorder):
    """A view on SQLite: the library's tracking recorder, our rows beside it."""


class BarePostgresView(_Sql, PostgresTrackingRecorder):
    """A view on PostgreSQL: the library's tracking recorder, our rows beside it."""

    postgres = True


def open_view(name: str, env: dict[str, str]) -> BareSQLiteView | BarePostgresView:
    """The view's tracking recorder, built as eventsourcing's ``ProjectionRunner`` builds one."""
    factory = InfrastructureFactory.construct(Environment(name, env))
    postgres = env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
    view_class = BarePostgresView if postgres else BareSQLiteView
    view: Any = factory.tracking_recorder(view_class)  # type: ignore[arg-type]
    return view  # type: ignore[no-any-return]


def _position(view: TrackingRecorder) -> int:
    return view.max_tracking_id("Ledger") or 0


def _commit(view: Any, cursor: Any, position: int) -> None:
    view._insert_tracking(cursor, Tracking("Ledger", position))


# the status baseline -----------------------------------------------------------------------------

_STATUS_UPSERT = (
    f"INSERT INTO status_documents ({', '.join(COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in COLUMNS)}) ON CONFLICT (doc_id) DO UPDATE SET "
    + ", ".join(f"{c}=excluded.{c}" for c in COLUMNS if c != "doc_id")
)
_ORG_UPSERT = (
    "INSERT INTO status_organisations (key, org, connected_at, tenant_id) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (key) DO UPDATE SET org=excluded.org, connected_at=excluded.connected_at, "
    "tenant_id=excluded.tenant_id"
)


def _values(row: StatusRow) -> tuple[Any, ...]:
    return tuple(int(v) if isinstance(v, bool) else v for v in (getattr(row, c) for c in COLUMNS))


class BareStatus:
    """The status table, written by a bare eventsourcing projection."""

    def __init__(self, reader: LogReader, view: BareSQLiteView | BarePostgresView) -> None:
        self.reader = reader
        self.view = view

    def catch_up(self, batch: int = BATCH) -> int:
        applied = 0
        position = _position(self.view)
        recorder, mapper = self.reader.recorder, self.reader.mapper
        while True:
            notes = recorder.select_notifications(
                start=position, limit=batch, inclusive_of_start=False
            )
            if not notes:
                return applied
            events = [mapper.to_domain_event(n) for n in notes]
            position = notes[-1].id
            self._apply(events, position)
            applied += len(notes)

    def _apply(self, events: Sequence[Any], position: int) -> None:
        view = self.view
        docs_needed = {
            str(e.originator_id)
            for e in events
            if isinstance(e, Document.Event) and not isinstance(e, Document.Received)
        }
        orgs_needed = {str(e.originator_id) for e in events if isinstance(e, Organisation.Event)}
        with view.datastore.transaction(commit=True) as cursor:
            select = ", ".join(COLUMNS)
            rows: dict[str, StatusRow | None] = dict.fromkeys(docs_needed)
            for found in view.select_in(cursor, select, "status_documents", "doc_id", docs_needed):
                row = row_from(tuple(found))
                rows[row.doc_id] = row
            orgs: dict[str, OrgRow | None] = dict.fromkeys(orgs_needed)
            columns = "key, org, connected_at, tenant_id"
            for found in view.select_in(
                cursor, columns, "status_organisations", "key", orgs_needed
            ):
                orgs[found[0]] = OrgRow(*found)
            before = {k: r for k, r in rows.items() if r is not None}
            for event in events:
                key = str(event.originator_id)
                if isinstance(event, Organisation.Event):
                    orgs[key] = next_org(orgs.get(key), event)
                elif isinstance(event, Document.Received):
                    kind = "invoice" if isinstance(event, Invoice.Event) else "payment"
                    rows[key] = new_row(event, kind)
                elif isinstance(event, Document.Event):
                    current = rows.get(key)
                    if current is not None:
                        rows[key] = next_row(current, event)
            follow_payments(_Rows(view, cursor), rows, before)
            cursor.executemany(
                view.q(_STATUS_UPSERT), [_values(r) for r in rows.values() if r is not None]
            )
            org_rows = [(o.key, o.org, o.connected_at, o.tenant_id) for o in orgs.values() if o]
            if org_rows:
                cursor.executemany(view.q(_ORG_UPSERT), org_rows)
            _commit(view, cursor, position)


class _Rows:
    """The two row reads the status rules across documents need, on the baseline's cursor."""

    def __init__(self, view: BareSQLiteView | BarePostgresView, cursor: Any) -> None:
        self.view = view
        self.cursor = cursor

    def _rows(self, column: str, keys: Iterable[str]) -> dict[str, StatusRow]:
        select = ", ".join(COLUMNS)
        found = self.view.select_in(self.cursor, select, "status_documents", column, keys)
        rows = [row_from(tuple(values)) for values in found]
        return {row.doc_id: row for row in rows}

    def load_many(self, doc_ids: Iterable[str]) -> dict[str, StatusRow]:
        return self._rows("doc_id", doc_ids)

    def payments_of(self, invoice_docs: Iterable[str]) -> dict[str, StatusRow]:
        return self._rows("invoice_doc", invoice_docs)


# the outbox baseline -----------------------------------------------------------------------------

_MESSAGE_COLUMNS = (
    "doc_id",
    "org",
    "kind",
    "operation",
    "request_version",
    "position",
    "state",
    "waits_for",
    "not_before",
    "attempts",
    "look_first",
    "last_error",
    "requested_at",
    "group_id",
)
_MESSAGE_UPSERT = (
    f"INSERT INTO outbox_messages ({', '.join(_MESSAGE_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _MESSAGE_COLUMNS)}) "
    "ON CONFLICT (doc_id, request_version) DO UPDATE SET state=excluded.state, "
    "waits_for=excluded.waits_for, not_before=excluded.not_before, "
    "attempts=excluded.attempts, look_first=excluded.look_first, last_error=excluded.last_error"
)
_DOCUMENT_UPSERT = (
    "INSERT INTO outbox_documents (doc_id, org, kind, synced) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (doc_id) DO UPDATE SET synced=excluded.synced"
)
_NUMBER_INSERT = (
    "INSERT INTO outbox_numbers (org, number_key, doc_id, position) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (org, number_key, doc_id) DO NOTHING"
)
_OUTBOX_ORG_UPSERT = (
    "INSERT INTO outbox_organisations (key, org, connected) VALUES (?, ?, ?) "
    "ON CONFLICT (key) DO UPDATE SET org=excluded.org, connected=excluded.connected"
)


def outbox_topics() -> list[str]:
    """The topics the outbox acts on, built from the domain's event classes."""
    return sorted(RELEVANT_TOPICS)


class BareOutbox:
    """The outbox tables, written by a bare eventsourcing projection (the writer's rules, folded
    per batch)."""

    def __init__(self, reader: LogReader, view: BareSQLiteView | BarePostgresView) -> None:
        self.reader = reader
        self.view = view
        self.topics = outbox_topics()

    def catch_up(self, batch: int = BATCH) -> int:
        """Apply the log; returns the position reached (events covered, read or skipped)."""
        position = _position(self.view)
        recorder, mapper = self.reader.recorder, self.reader.mapper
        while True:
            notes = recorder.select_notifications(
                start=position, limit=batch, topics=self.topics, inclusive_of_start=False
            )
            if not notes:
                return position
            position = notes[-1].id
            self._apply([(n.id, mapper.to_domain_event(n)) for n in notes], position)

    def _apply(self, events: Sequence[tuple[int, Any]], position: int) -> None:
        view = self.view
        doc_keys: set[str] = set()
        message_docs: set[str] = set()
        released: set[str] = set()
        org_keys: set[str] = set()
        numbers: list[tuple[str, str, str, int]] = []
        for at, e in events:
            if isinstance(e, Invoice.Issued | Invoice.Updated) and isinstance(
                e.change.fields, InvoiceFields
            ):
                numbers.append(
                    (
                        e.change.org_id,
                        number_key(e.change.fields.invoice_number),
                        str(e.originator_id),
                        at,
                    )
                )
        for _, e in events:
            key = str(e.originator_id)
            if isinstance(e, Organisation.Event):
                org_keys.add(key)
                continue
            doc_keys.add(key)
            if isinstance(e, Document.SyncRequested | Document.RetryRequested) and e.depends_on:
                doc_keys.add(e.depends_on)
            if not isinstance(e, Document.Received | Document.SyncRequested):
                message_docs.add(key)
            if isinstance(e, Document.SyncSucceeded) and e.operation == Operation.INVOICE:
                released.add(key)
        with view.datastore.transaction(commit=True) as cursor:
            docs: dict[str, list[Any] | None] = dict.fromkeys(doc_keys)
            for d, org, kind, synced in view.select_in(
                cursor, "doc_id, org, kind, synced", "outbox_documents", "doc_id", doc_keys
            ):
                docs[d] = [org, kind, synced]
            orgs: dict[str, list[Any] | None] = dict.fromkeys(org_keys)
            for k, org, connected in view.select_in(
                cursor, "key, org, connected", "outbox_organisations", "key", org_keys
            ):
                orgs[k] = [org, connected]
            columns = ", ".join(_MESSAGE_COLUMNS)
            loaded = view.select_in(cursor, columns, "outbox_messages", "doc_id", message_docs)
            if released:
                loaded += [
                    r
                    for r in view.select_in(
                        cursor, columns, "outbox_messages", "waits_for", released
                    )
                    if r[6] == MessageState.WAITING
                ]
            messages: dict[tuple[str, int], list[Any]] = {(r[0], r[4]): list(r) for r in loaded}
            changed: set[tuple[str, int]] = set()
            docs_changed: set[str] = set()
            orgs_changed: set[str] = set()
            for at, e in events:
                _fold(e, at, docs, orgs, messages, changed, docs_changed, orgs_changed)
            if changed:
                cursor.executemany(
                    view.q(_MESSAGE_UPSERT), [messages[k] for k in sorted_keys(changed, messages)]
                )
            document_rows = [(d, *docs[d]) for d in docs_changed if docs[d] is not None]
            if document_rows:
                cursor.executemany(view.q(_DOCUMENT_UPSERT), document_rows)
            org_rows = [(k, *orgs[k]) for k in orgs_changed if orgs[k] is not None]
            if org_rows:
                cursor.executemany(view.q(_OUTBOX_ORG_UPSERT), org_rows)
            if numbers:
                cursor.executemany(view.q(_NUMBER_INSERT), numbers)
            _commit(view, cursor, position)


def sorted_keys(
    keys: set[tuple[str, int]], messages: dict[tuple[str, int], list[Any]]
) -> list[tuple[str, int]]:
    """Messages in log order (new ones get ids in the order the writer would give them)."""
    return sorted(keys, key=lambda k: messages[k][5])


def _open(message: list[Any]) -> bool:
    return message[6] in (MessageState.READY, MessageState.WAITING)


def _fold(
    e: Any,
    at: int,
    docs: dict[str, list[Any] | None],
    orgs: dict[str, list[Any] | None],
    messages: dict[tuple[str, int], list[Any]],
    changed: set[tuple[str, int]],
    docs_changed: set[str],
    orgs_changed: set[str],
) -> None:
    """One event of the log applied to the outbox rows (the rules of ``outbox.writer.apply``)."""
    key = str(e.originator_id)
    if isinstance(e, Organisation.Registered):
        row = orgs.get(key)
        orgs[key] = [e.org_id, row[1] if row else 0]
        orgs_changed.add(key)
    elif isinstance(e, Organisation.Connected | Organisation.Disconnected):
        row = orgs.get(key)
        if row is not None:
            row[1] = int(isinstance(e, Organisation.Connected))
            orgs_changed.add(key)
    elif isinstance(e, Document.Received):
        if docs.get(key) is None:
            kind = "invoice" if isinstance(e, Invoice.Event) else "payment"
            docs[key] = [e.org_id, kind, 0]
            docs_changed.add(key)
    elif isinstance(e, Document.SyncRequested | Document.RetryRequested):
        known = docs.get(key)
        if known is None:
            return
        waits_for = e.depends_on
        if waits_for is not None:
            dependency = docs.get(waits_for)
            if dependency is not None and dependency[2]:
                waits_for = None
        mkey = (key, e.originator_version)
        if mkey in messages:
            return
        messages[mkey] = [
            key,
            known[0],
            known[1],
            e.operation,
            e.originator_version,
            at,
            MessageState.WAITING if waits_for else MessageState.READY,
            waits_for,
            None,
            0,
            0,
            None,
            e.timestamp.timestamp(),
            e.group or key,
        ]
        changed.add(mkey)
    elif isinstance(e, Document.SyncSucceeded):
        _finish(messages, changed, key, e.request_version, MessageState.DONE, None)
        if e.operation == Operation.INVOICE:
            doc = docs.get(key)
            if doc is not None:
                doc[2] = 1
                docs_changed.add(key)
            for mkey, message in messages.items():
                if message[7] == key and message[6] == MessageState.WAITING:
                    message[6], message[7] = MessageState.READY, None
                    changed.add(mkey)
    elif isinstance(e, Document.SyncFailed):
        if e.final:
            _finish(messages, changed, key, e.request_version, MessageState.FAILED, e.error)
        elif e.retry_at is not None:
            message = messages.get((key, e.request_version))
            if message is not None and _open(message):
                message[8] = e.retry_at.timestamp()
                message[11] = e.error
                message[9] += 1
                if e.category == FailureCategory.UNCERTAIN:
                    message[10] = 1
                changed.add((key, e.request_version))
    elif isinstance(e, Document.SyncSkipped):
        _finish(messages, changed, key, e.request_version, MessageState.DROPPED, None)


def _finish(
    messages: dict[tuple[str, int], list[Any]],
    changed: set[tuple[str, int]],
    doc: str,
    version: int,
    state: str,
    error: str | None,
) -> None:
    message = messages.get((doc, version))
    if message is not None:
        message[6], message[11], message[8] = state, error, None
        changed.add((doc, version))


# comparing -------------------------------------------------------------------------------------

STATUS_TABLES = {
    "status_documents": ", ".join(COLUMNS),
    "status_organisations": "key, org, connected_at, tenant_id",
}
OUTBOX_TABLES = {
    "outbox_messages": ", ".join(_MESSAGE_COLUMNS),
    "outbox_documents": "doc_id, org, kind, synced",
    "outbox_organisations": "key, org, connected",
    "outbox_numbers": "org, number_key, doc_id, position",
}


def differences(
    postgres: bool, product: str, bare: str, tables: dict[str, str], server: str | None = None
) -> int:
    """Rows that differ (either way) between the product's tables and the baseline's: 0 means
    the baseline wrote the same rows. ``product``/``bare`` are SQLite paths or schema names."""
    total = 0
    if postgres:
        assert server is not None
        with psycopg.connect(server) as conn:
            for table, columns in tables.items():
                for a, b in ((product, bare), (bare, product)):
                    row = conn.execute(
                        f"SELECT COUNT(*) FROM (SELECT {columns} FROM {a}.{table} "
                        f"EXCEPT SELECT {columns} FROM {b}.{table}) d"
                    ).fetchone()
                    total += int(row[0]) if row else 0
        return total
    conn = sqlite3.connect(product)
    try:
        conn.execute("ATTACH DATABASE ? AS bare", (bare,))
        for table, columns in tables.items():
            for a, b in (("main", "bare"), ("bare", "main")):
                row = conn.execute(
                    f"SELECT COUNT(*) FROM (SELECT {columns} FROM {a}.{table} "
                    f"EXCEPT SELECT {columns} FROM {b}.{table})"
                ).fetchone()
                total += int(row[0]) if row else 0
    finally:
        conn.close()
    return total
