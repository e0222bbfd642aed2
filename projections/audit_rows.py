"""The audit index's rows: what it remembers of each aggregate, and the event, call, failure,
timing and Xero id rows one batch of the log adds, with the batch port they are written through.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

from domain.vocabulary import DocumentKind


def _columns(row: Any) -> tuple[str, ...]:
    """A row's columns: its fields, in order."""
    return tuple(f.name for f in fields(row))


class CallResult(StrEnum):
    """How the delivery a Xero call belonged to ended (``audit_calls.result``)."""

    SYNCED = "synced"
    FAILED = "failed"
    RETRYING = "retrying"
    DEFERRED = "deferred"
    SKIPPED = "skipped"


@dataclass
class AggregateInfo:
    """What the audit projection remembers of one aggregate between its events."""

    aggregate_id: str
    kind: str
    org: str | None
    ref: str | None
    document: str | None
    number: str
    created_at: str
    last_at: str
    email: str | None = None
    invoice_doc: str | None = None
    doc_date: str | None = None
    started_at: str | None = None
    requested_at: str | None = None
    cancelled_at: str | None = None
    credit_requested_at: str | None = None
    xero_id: str | None = None
    credit_note_id: str | None = None
    events: int = 0

    @property
    def group_key(self) -> str:
        """Documents sharing a group key belong together: an invoice and its payments."""
        if self.kind == DocumentKind.PAYMENT and self.invoice_doc:
            return self.invoice_doc
        return self.aggregate_id


AGGREGATE_COLUMNS: tuple[str, ...] = _columns(AggregateInfo)


@dataclass
class EventRow:
    """One event of the log, indexed."""

    position: int
    at: str
    org: str | None
    aggregate_id: str
    version: int
    kind: str
    document: str | None
    number: str | None
    event_type: str
    email: str | None
    summary: str


EVENT_COLUMNS: tuple[str, ...] = _columns(EventRow)


@dataclass(frozen=True)
class CallRow:
    """One call to Xero made for a document, and what came back."""

    position: int
    seq: int
    at: str
    org: str | None
    aggregate_id: str
    document: str | None
    number: str | None
    operation: str
    xero_operation: str
    method: str
    path: str
    idempotency_key: str | None
    status: int | None
    outcome: str
    request: str
    response: str
    duration_us: int
    result: str

    @property
    def duration_ms(self) -> float:
        return self.duration_us / 1000


CALL_COLUMNS: tuple[str, ...] = _columns(CallRow)


@dataclass(frozen=True)
class FailureRow:
    """One failure of a document (Xero's refusal, our own check, or an amendment after sync)."""

    position: int
    at: str
    org: str | None
    aggregate_id: str
    document: str | None
    number: str | None
    kind: str
    operation: str | None
    category: str
    message: str
    final: bool


FAILURE_COLUMNS: tuple[str, ...] = _columns(FailureRow)


@dataclass(frozen=True)
class TimingRow:
    """The first delivery of one operation of a document: from issue (or payment, or
    cancellation) and from the delivery request, to Synced."""

    aggregate_id: str
    operation: str
    org: str | None
    document: str | None
    number: str | None
    started_at: str
    requested_at: str | None
    synced_at: str
    millis: int
    delivery_millis: int | None


TIMING_COLUMNS: tuple[str, ...] = _columns(TimingRow)


@dataclass(frozen=True)
class XeroIdRow:
    """A Xero id the ledger created or adopted for a document."""

    xero_id: str
    aggregate_id: str
    record: str
    position: int


@dataclass
class AuditRows:
    """Everything one batch of the log adds to the audit tables."""

    aggregates: dict[str, AggregateInfo] = field(default_factory=dict)
    events: list[EventRow] = field(default_factory=list)
    calls: list[CallRow] = field(default_factory=list)
    failures: list[FailureRow] = field(default_factory=list)
    timings: list[TimingRow] = field(default_factory=list)
    xero_ids: list[XeroIdRow] = field(default_factory=list)
    emails: dict[str, str] = field(default_factory=dict)
    """Aggregates whose email became known in this batch: earlier rows learn it."""
    numbers: dict[str, str] = field(default_factory=dict)
    """Aggregates whose number became known in this batch: earlier rows learn it."""
    invoice_emails: dict[str, str] = field(default_factory=dict)
    """Invoices whose email became known in this batch: their payments' rows learn it."""


class AuditBatch(ABC):
    """Rows and position inside one projection transaction (per backend)."""

    position: int

    @abstractmethod
    def load(self, aggregate_id: str) -> AggregateInfo | None:
        """What is known of an aggregate, or None."""

    @abstractmethod
    def save(self, rows: AuditRows, position: int) -> None:
        """Write the rows of a batch and move the position, in this transaction."""
