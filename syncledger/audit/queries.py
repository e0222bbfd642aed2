"""The audit queries behind ``syncledger audit``: each brings the audit index up to the end of
the log first, then streams its answer from the index (and, for event content and ``as-of``,
from the log itself), so memory stays flat however long the history is."""

from __future__ import annotations

from collections.abc import Generator, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.errors import DomainError
from domain.ids import organisation_id
from domain.vocabulary import DocumentKind, Operation, Status
from projections.audit import (
    KINDS,
    AuditProjection,
    AuditStore,
    CallRow,
    EventFilter,
    EventRow,
    FailureGroup,
    TimingRow,
    TimingStats,
    Window,
    event_data,
    fold_until,
    known_event_types,
    stamp,
)
from projections.audit_table import SQLAuditStore
from projections.base import catch_up
from projections.status import OrgRow, StatusRow, StatusView, new_row, next_org, next_row, reason
from syncledger import service
from syncledger.bootstrap import System

TIMED_OPERATIONS: tuple[str, ...] = tuple(
    op.value for op in (Operation.INVOICE, Operation.CREDIT_NOTE, Operation.PAYMENT)
)
DATA_CHUNK = 200


class AuditQueryError(DomainError):
    """An audit question that cannot be asked as put (an unknown event type, ...)."""


@dataclass
class Audit:
    """The audit index of one system's ledger."""

    system: System
    store: AuditStore
    projection: AuditProjection

    @classmethod
    def open(cls, system: System) -> Audit:
        """The audit index beside the system's other tables: the system's own once it registers
        one as ``audit``, else one made here (tables created if needed)."""
        registered = getattr(system, "audit", None)
        if isinstance(registered, AuditProjection):
            return cls(system, registered.store, registered)
        store = SQLAuditStore(system.database)
        return cls(system, store, AuditProjection(store))

    def refresh(self) -> int:
        """Bring the index up to the end of the log; return how many events it applied."""
        return catch_up(self.projection, self.system.log)


# events ---------------------------------------------------------------------------------------


def event_types(wanted: Sequence[str]) -> tuple[str, ...]:
    """Full event type names for what a user typed: ``Invoice.Issued``, or ``Issued`` /
    ``SyncFailed`` for every aggregate's event of that name (case-insensitive)."""
    known = known_event_types()
    chosen: list[str] = []
    for name in wanted:
        text = name.strip().casefold()
        matches = [k for k in known if k.casefold() == text or k.split(".")[-1].casefold() == text]
        if not matches:
            raise AuditQueryError(f"unknown event type {name!r}; known types: {', '.join(known)}")
        chosen.extend(m for m in matches if m not in chosen)
    return tuple(chosen)


def event_kinds(wanted: Sequence[str]) -> tuple[str, ...]:
    """Aggregate kinds, checked."""
    for kind in wanted:
        if kind not in KINDS:
            raise AuditQueryError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    return tuple(wanted)


@dataclass(frozen=True)
class EventView:
    """An event row, with the event's content when asked for."""

    row: EventRow
    data: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        row = self.row
        result: dict[str, Any] = {
            "position": row.position,
            "at": row.at,
            "org": row.org,
            "kind": row.kind,
            "document": row.document,
            "number": row.number,
            "version": row.version,
            "event_type": row.event_type,
            "email": row.email,
            "summary": row.summary,
        }
        if self.data is not None:
            result["data"] = self.data
        return result


def events(
    audit: Audit,
    where: EventFilter,
    *,
    after: int = 0,
    limit: int | None = None,
    with_data: bool = False,
) -> Generator[EventView, None, None]:
    """Events matching a filter in log order, optionally with their content from the log.
    Close the generator when stopping early (it holds a read transaction)."""
    with closing(audit.store.events(where, after=after, limit=limit)) as rows:
        if not with_data:
            for row in rows:
                yield EventView(row)
            return
        chunk: list[EventRow] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= DATA_CHUNK:
                yield from _with_data(audit, chunk)
                chunk = []
        yield from _with_data(audit, chunk)


def _with_data(audit: Audit, rows: Sequence[EventRow]) -> Iterator[EventView]:
    if not rows:
        return
    log = audit.system.log
    first, last = rows[0].position, rows[-1].position
    found: dict[int, Any] = {}
    if last - first < 4 * len(rows):
        for item in log.read(first - 1, last - first + 1):
            found[item.position] = item.event
    else:
        for row in rows:
            for item in log.read(row.position - 1, 1):
                found[item.position] = item.event
    for row in rows:
        event = found.get(row.position)
        yield EventView(row, event_data(event) if event is not None else {})


# calls ----------------------------------------------------------------------------------------


def calls(
    audit: Audit, reference: str, org: str | None, window: Window
) -> tuple[StatusRow, Generator[CallRow, None, None]]:
    """The document a reference names, and every Xero call made for it (close the generator
    when stopping early)."""
    row = resolve(audit, reference, org)
    return row, audit.store.calls(row.doc_id, window)


def resolve(audit: Audit, reference: str, org: str | None) -> StatusRow:
    """The document a reference names (``INV-00019``, ``invoice:1042``, ``payment:3001``)."""
    service.refresh(audit.system)
    return service.resolve(audit.system, reference, org)


# failures -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FailureView:
    """One failure message, how often, when, and the documents it affected."""

    group: FailureGroup
    documents: list[tuple[str, str]]

    def as_json(self) -> dict[str, Any]:
        g = self.group
        return {
            "message": g.message,
            "category": g.category,
            "failures": g.failures,
            "final_failures": g.final,
            "documents_count": g.documents,
            "first_seen": g.first_seen,
            "last_seen": g.last_seen,
            "documents": [{"document": d, "number": n} for d, n in self.documents],
        }


def failures(
    audit: Audit, org: str | None, window: Window, documents_limit: int | None
) -> Iterator[FailureView]:
    """Failures grouped by message, the most frequent first (one line per distinct message,
    so the groups are read first and each group's documents after)."""
    for group in audit.store.failure_groups(org, window):
        documents = audit.store.failure_documents(group.message, org, window, documents_limit)
        yield FailureView(group, documents)


# as of ----------------------------------------------------------------------------------------


def fold_status(events: Iterable[Any], kind: str) -> StatusRow | None:
    """A document's status row after these events (its history from the start), with the pure
    status rules of the status projection."""
    row: StatusRow | None = None
    for event in events:
        row = new_row(event, kind) if row is None else next_row(row, event)
    return row


def _fold_org(events: Iterable[Any]) -> OrgRow | None:
    row: OrgRow | None = None
    for event in events:
        row = next_org(row, event)
    return row


@dataclass
class _AsOf:
    audit: Audit
    moment: datetime
    orgs: dict[str, OrgRow | None] = field(default_factory=dict)
    invoices: dict[str, StatusRow | None] = field(default_factory=dict)

    def document(self, aggregate_id: str, kind: str) -> StatusRow | None:
        events = self.audit.system.ledger.events_of(UUID(aggregate_id))
        return fold_status(fold_until(events, self.moment), kind)

    def org(self, org: str) -> OrgRow | None:
        if org not in self.orgs:
            events = self.audit.system.ledger.events_of(organisation_id(org))
            self.orgs[org] = _fold_org(fold_until(events, self.moment))
        return self.orgs[org]

    def invoice(self, aggregate_id: str) -> StatusRow | None:
        # The one invoice last asked for is kept: payments usually follow their invoice.
        if aggregate_id not in self.invoices:
            self.invoices = {aggregate_id: self.document(aggregate_id, DocumentKind.INVOICE)}
        return self.invoices[aggregate_id]


def as_of(
    audit: Audit,
    moment: datetime,
    *,
    org: str | None,
    window: Window,
    include_hidden: bool = False,
    status: str | None = None,
    kind: str | None = None,
) -> Generator[StatusView, None, None]:
    """Every document's status at ``moment``, folded from the log (not the status table)."""
    state = _AsOf(audit, moment)
    with closing(audit.store.documents(org, stamp(moment), window)) as refs:
        for ref in refs:
            if kind is not None and ref.kind != kind:
                continue
            row = state.document(ref.aggregate_id, ref.kind)
            if row is None or (not row.visible and not include_hidden):
                continue
            if status is not None and row.status != status:
                continue
            invoice = None
            if (
                row.kind == DocumentKind.PAYMENT
                and row.status == Status.PENDING
                and row.invoice_doc
            ):
                invoice = state.invoice(row.invoice_doc)
            yield StatusView(row, reason(row, invoice, state.org(row.org)))


# timings --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimingsReport:
    """Time to Synced per kind, and the slowest documents."""

    from_request: bool
    stats: list[TimingStats]
    slowest: list[TimingRow]


def timings(
    audit: Audit, org: str | None, window: Window, *, from_request: bool, slowest: int
) -> TimingsReport:
    """Median, p95 and max time to Synced of invoices, credit notes and payments."""
    stats = [
        audit.store.timing_stats(operation, org, window, from_request)
        for operation in TIMED_OPERATIONS
    ]
    return TimingsReport(
        from_request, stats, audit.store.slowest(org, window, from_request, slowest)
    )
