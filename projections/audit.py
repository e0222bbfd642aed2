"""The audit projection: an index of the ledger's log for questions about its history.

Every event gets one row in ``audit_events`` (its position, time, organisation, aggregate, kind,
document, number, customer email, type and a one-line summary), every Xero call recorded on a
``SyncSucceeded`` / ``SyncFailed`` gets one row in ``audit_calls``, every failure one row in
``audit_failures``, every first delivery of an invoice, credit note or payment one row in
``audit_timings``, and every Xero id the ledger created or adopted one row in ``audit_xero_ids``.
``audit_aggregates`` keeps what later events of an aggregate need (its organisation, document,
number, email, invoice) and what ``as-of`` and ``reconcile`` walk. The rows hold facts from the
log only, so a rebuild reproduces them exactly; the event content itself stays in the log and is
read from there when asked for. Secrets never reach these tables: call records and texts pass
through ``redact`` first.

Here are the projection (``AuditProjection``, whose fold is ``audit_index.Indexer``) and the
port of its store; the rows are in ``audit_rows``, the query types in ``audit_queries``, the
text of events in ``audit_text`` and the tables in ``audit_table``.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Generator, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from domain.redaction import redact, redact_text
from projections.audit_index import Indexer
from projections.audit_queries import (
    DocumentRef,
    EventFilter,
    FailureGroup,
    TimingStats,
    Window,
)
from projections.audit_rows import (
    AGGREGATE_COLUMNS,
    CALL_COLUMNS,
    EVENT_COLUMNS,
    FAILURE_COLUMNS,
    TIMING_COLUMNS,
    AggregateInfo,
    AuditBatch,
    AuditRows,
    CallResult,
    CallRow,
    EventRow,
    FailureRow,
    TimingRow,
    XeroIdRow,
)
from projections.audit_text import (
    CUSTOMER,
    KINDS,
    OPERATIONS,
    ORGANISATION,
    describe,
    event_data,
    event_type,
    kind_of,
    known_event_types,
    parse_stamp,
    plain,
    restamp,
    stamp,
)
from projections.base import ProjectionStore, Recorded, StoredProjection


class AuditStore(ProjectionStore[AuditBatch]):
    """Storage and queries of the audit projection (one implementation per backend)."""

    @abstractmethod
    def events(
        self, where: EventFilter, after: int = 0, limit: int | None = None
    ) -> Generator[EventRow, None, None]:
        """Events matching a filter, in log order, after position ``after`` (streamed)."""

    @abstractmethod
    def calls(self, aggregate_id: str, window: Window) -> Generator[CallRow, None, None]:
        """Every Xero call made for one document, in order (streamed)."""

    @abstractmethod
    def failure_groups(self, org: str | None, window: Window) -> list[FailureGroup]:
        """Failures grouped by message, the most frequent first (one per distinct message)."""

    @abstractmethod
    def failure_documents(
        self, message: str, org: str | None, window: Window, limit: int | None
    ) -> list[tuple[str, str]]:
        """The (document, number) pairs a failure message affected, in document order."""

    @abstractmethod
    def timing_stats(
        self, operation: str, org: str | None, window: Window, from_request: bool
    ) -> TimingStats:
        """Median, p95 and max time to Synced of one operation."""

    @abstractmethod
    def slowest(
        self, org: str | None, window: Window, from_request: bool, limit: int
    ) -> list[TimingRow]:
        """The slowest first deliveries."""

    @abstractmethod
    def documents(
        self, org: str | None, created_before: str | None, window: Window
    ) -> Generator[DocumentRef, None, None]:
        """Invoices and payments, ordered by organisation, kind and number (streamed)."""

    @abstractmethod
    def groups(
        self, org: str, since: str | None, until: str | None
    ) -> Generator[DocumentRef, None, None]:
        """An organisation's invoices each followed by their payments (streamed); with dates,
        only groups whose invoice is dated in ``[since, until)`` (ISO dates)."""

    @abstractmethod
    def count_documents(self, org: str | None) -> int:
        """How many invoices and payments the index holds (of one organisation)."""

    @abstractmethod
    def owners(self, org: str, xero_ids: Sequence[str]) -> dict[str, DocumentRef]:
        """The ledger's documents that created or adopted these Xero ids."""

    @abstractmethod
    def organisations(self) -> list[str]:
        """Every organisation the index knows."""


class AuditProjection(StoredProjection[AuditStore, AuditBatch]):
    """Folds the log into the audit tables, batch by batch."""

    name = "audit"

    def fold(self, batch: AuditBatch, recorded: Sequence[Recorded]) -> None:
        indexer = Indexer(batch)
        for item in recorded:
            indexer.add(item.position, item.event)
        batch.save(indexer.rows, recorded[-1].position)


def fold_until(events: Iterable[Any], moment: datetime) -> Iterator[Any]:
    """The events of one aggregate recorded at or before ``moment``, in order."""
    for event in events:
        if event.timestamp > moment:
            return
        yield event


__all__ = [
    "AGGREGATE_COLUMNS",
    "CALL_COLUMNS",
    "CUSTOMER",
    "EVENT_COLUMNS",
    "FAILURE_COLUMNS",
    "KINDS",
    "OPERATIONS",
    "ORGANISATION",
    "TIMING_COLUMNS",
    "AggregateInfo",
    "AuditBatch",
    "AuditProjection",
    "AuditRows",
    "AuditStore",
    "CallResult",
    "CallRow",
    "DocumentRef",
    "EventFilter",
    "EventRow",
    "FailureGroup",
    "FailureRow",
    "Indexer",
    "TimingRow",
    "TimingStats",
    "Window",
    "XeroIdRow",
    "describe",
    "event_data",
    "event_type",
    "fold_until",
    "kind_of",
    "known_event_types",
    "parse_stamp",
    "plain",
    "redact",
    "redact_text",
    "restamp",
    "stamp",
]
