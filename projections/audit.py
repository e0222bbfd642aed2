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
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.customer import Customer
from domain.describe import describe as describe_event
from domain.documents import (
    OP_CREDIT_NOTE,
    OP_INVOICE,
    OP_INVOICE_UPDATE,
    OP_PAYMENT,
    OP_PAYMENT_DELETE,
    PAYMENT_VOIDED_GUIDANCE,
    Document,
    Invoice,
    Payment,
)
from domain.ids import document_id
from domain.opensolar import Change, InvoiceFields, PaymentFields
from domain.organisation import Organisation
from domain.redaction import redact, redact_text
from projections.base import LogReader, Projection, Recorded, apply_next_batch

INVOICE = "invoice"
PAYMENT = "payment"
ORGANISATION = "organisation"
CUSTOMER = "customer"
KINDS: tuple[str, ...] = (INVOICE, PAYMENT, ORGANISATION, CUSTOMER)
OPERATIONS: tuple[str, ...] = (OP_INVOICE, OP_CREDIT_NOTE, OP_PAYMENT)

# results of the delivery a call belonged to
SYNCED = "synced"
FAILED = "failed"
RETRYING = "retrying"
DEFERRED = "deferred"
SKIPPED = "skipped"
AMENDMENT = "amendment"


def plain(value: Any) -> Any:
    """A value as plain JSON data (decimals as strings, dates as ISO text)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if hasattr(value, "__dataclass_fields__") and not isinstance(value, type):
        return {name: plain(getattr(value, name)) for name in value.__dataclass_fields__}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return value


_SKIP = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic"})


def event_data(event: Any) -> dict[str, Any]:
    """An event's own attributes as plain, redacted data."""
    data = {k: plain(v) for k, v in vars(event).items() if k not in _SKIP}
    result: dict[str, Any] = redact(data)
    return result


def stamp(moment: datetime) -> str:
    """A moment as fixed-width UTC text, so that text order is time order in every database."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def parse_stamp(text: str) -> datetime:
    """The moment a ``stamp`` (or any ISO 8601 text; UTC when no offset) names."""
    moment = datetime.fromisoformat(text.strip())
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def restamp(text: str | None) -> str | None:
    """ISO 8601 text (e.g. a call record's ``at``) as a ``stamp``; unreadable text as it is."""
    if not text:
        return None
    try:
        return stamp(parse_stamp(text))
    except ValueError:
        return text


def event_type(event: Any) -> str:
    """``Invoice.Issued`` and the like."""
    return type(event).__qualname__


def known_event_types() -> tuple[str, ...]:
    """Every event type the domain defines (``Invoice.Issued``, ``Organisation.Connected``...)."""
    names: set[str] = set()
    for cls in (Invoice, Payment, Organisation, Customer):
        for name in dir(cls):
            attribute = getattr(cls, name)
            if isinstance(attribute, type) and issubclass(attribute, Aggregate.Event):
                names.add(attribute.__qualname__)
    return tuple(sorted(n for n in names if not n.endswith((".Event", ".Created"))))


def kind_of(event: Any) -> str:
    """The kind of aggregate an event belongs to."""
    if isinstance(event, Invoice.Event):
        return INVOICE
    if isinstance(event, Payment.Event):
        return PAYMENT
    if isinstance(event, Organisation.Event):
        return ORGANISATION
    if isinstance(event, Customer.Event):
        return CUSTOMER
    return type(event).__qualname__.split(".", 1)[0].lower()


def describe(event: Any) -> str:
    """One line saying what an event means (redacted)."""
    return redact_text(describe_event(event))


# rows -----------------------------------------------------------------------------------------


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
        if self.kind == PAYMENT and self.invoice_doc:
            return self.invoice_doc
        return self.aggregate_id


AGGREGATE_COLUMNS: tuple[str, ...] = (
    "aggregate_id",
    "kind",
    "org",
    "ref",
    "document",
    "number",
    "created_at",
    "last_at",
    "email",
    "invoice_doc",
    "doc_date",
    "started_at",
    "requested_at",
    "cancelled_at",
    "credit_requested_at",
    "xero_id",
    "credit_note_id",
    "events",
)


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


EVENT_COLUMNS: tuple[str, ...] = (
    "position",
    "at",
    "org",
    "aggregate_id",
    "version",
    "kind",
    "document",
    "number",
    "event_type",
    "email",
    "summary",
)


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


CALL_COLUMNS: tuple[str, ...] = (
    "position",
    "seq",
    "at",
    "org",
    "aggregate_id",
    "document",
    "number",
    "operation",
    "xero_operation",
    "method",
    "path",
    "idempotency_key",
    "status",
    "outcome",
    "request",
    "response",
    "duration_us",
    "result",
)


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


FAILURE_COLUMNS: tuple[str, ...] = (
    "position",
    "at",
    "org",
    "aggregate_id",
    "document",
    "number",
    "kind",
    "operation",
    "category",
    "message",
    "final",
)


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


TIMING_COLUMNS: tuple[str, ...] = (
    "aggregate_id",
    "operation",
    "org",
    "document",
    "number",
    "started_at",
    "requested_at",
    "synced_at",
    "millis",
    "delivery_millis",
)


@dataclass(frozen=True)
class XeroIdRow:
    """A Xero id the ledger created or adopted for a document."""

    xero_id: str
    aggregate_id: str
    record: str
    position: int


# queries --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """A time window ``[since, until)`` as stamps (None: unbounded)."""

    since: str | None = None
    until: str | None = None


@dataclass(frozen=True)
class EventFilter:
    """Which events a query returns."""

    org: str | None = None
    aggregate_id: str | None = None
    kinds: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    email: str | None = None
    window: Window = field(default_factory=Window)


@dataclass(frozen=True)
class FailureGroup:
    """Failures sharing one message."""

    message: str
    category: str
    failures: int
    final: int
    documents: int
    first_seen: str
    last_seen: str


@dataclass(frozen=True)
class TimingStats:
    """Durations (milliseconds) of one kind of delivery."""

    operation: str
    count: int
    median: float | None
    p95: int | None
    max: int | None


@dataclass(frozen=True)
class DocumentRef:
    """A document of the ledger, as the audit index knows it."""

    aggregate_id: str
    kind: str
    org: str | None
    document: str | None
    number: str
    invoice_doc: str | None
    group_key: str


class AuditBatch(ABC):
    """Rows and position inside one projection transaction (per backend)."""

    position: int

    @abstractmethod
    def load(self, aggregate_id: str) -> AggregateInfo | None:
        """What is known of an aggregate, or None."""

    @abstractmethod
    def save(self, rows: AuditRows, position: int) -> None:
        """Write the rows of a batch and move the position, in this transaction."""


class AuditStore(ABC):
    """Storage and queries of the audit projection (one implementation per backend)."""

    @abstractmethod
    def batch(self) -> AbstractContextManager[AuditBatch]:
        """A transaction that holds the projection's position exclusively."""

    @abstractmethod
    def position(self) -> int: ...

    @abstractmethod
    def reset(self) -> None:
        """Delete every row and the position."""

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


# the projection -------------------------------------------------------------------------------


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


def _millis(start: str, end: str) -> int:
    return int((parse_stamp(end) - parse_stamp(start)).total_seconds() * 1000)


def _json(value: Any) -> str:
    return json.dumps(redact(plain(value)), sort_keys=True, separators=(",", ":"))


_CREATED_COLLECTIONS: dict[str, tuple[str, str]] = {
    "create_invoice": ("Invoices", "InvoiceID"),
    "create_credit_note": ("CreditNotes", "CreditNoteID"),
    "create_payment": ("Payments", "PaymentID"),
}
_RECORDS = {"create_invoice": OP_INVOICE, "create_credit_note": OP_CREDIT_NOTE}


class Indexer:
    """Turns the events of one batch into audit rows (pure apart from ``load``)."""

    def __init__(self, batch: AuditBatch) -> None:
        self.batch = batch
        self.rows = AuditRows()
        self._pending: dict[str, list[EventRow]] = {}

    def info(self, aggregate_id: str) -> AggregateInfo | None:
        """An aggregate's info, from this batch or the table."""
        found = self.rows.aggregates.get(aggregate_id)
        if found is None:
            found = self.batch.load(aggregate_id)
            if found is not None:
                self.rows.aggregates[aggregate_id] = found
        return found

    def add(self, position: int, event: Any) -> None:
        """Index one event."""
        if event is None:
            return
        aggregate_id = str(event.originator_id)
        at = stamp(event.timestamp)
        first = isinstance(event, Aggregate.Created) and aggregate_id not in self.rows.aggregates
        # An aggregate's first event needs no lookup: nothing is known of it yet.
        info = None if first else self.info(aggregate_id)
        if info is None:
            info = self._start(aggregate_id, event, at)
        self.rows.aggregates[aggregate_id] = info
        info.last_at = at
        info.events += 1
        email, number = info.email, info.number
        self._update(info, event, at)
        if email is None and info.email is not None:
            self.rows.emails.setdefault(aggregate_id, info.email)
            if info.kind == INVOICE:
                self._payments_learn(aggregate_id, info.email)
        if number == info.document and info.number != info.document:
            self.rows.numbers.setdefault(aggregate_id, info.number)
        row = EventRow(
            position=position,
            at=at,
            org=info.org,
            aggregate_id=aggregate_id,
            version=int(event.originator_version),
            kind=info.kind,
            document=info.document,
            number=info.number,
            event_type=event_type(event),
            email=info.email,
            summary=describe(event),
        )
        self.rows.events.append(row)
        self._backfill(info, row)
        if isinstance(
            event,
            Document.SyncSucceeded
            | Document.SyncFailed
            | Document.SyncDeferred
            | Document.SyncSkipped,
        ):
            self._calls(position, info, event)
        if isinstance(event, Document.SyncFailed):
            self.rows.failures.append(
                FailureRow(
                    position,
                    at,
                    info.org,
                    aggregate_id,
                    info.document,
                    info.number,
                    info.kind,
                    event.operation,
                    event.category,
                    redact_text(event.error),
                    bool(event.final),
                )
            )
        if isinstance(event, Invoice.AmendedAfterSync | Payment.AmendedAfterSync):
            self._amendment(position, at, info, event.guidance)
        if isinstance(event, Payment.Voided) and info.xero_id is not None:
            self._amendment(position, at, info, PAYMENT_VOIDED_GUIDANCE)
        if isinstance(event, Document.SyncSucceeded):
            self._succeeded(position, at, info, event)

    def _amendment(self, position: int, at: str, info: AggregateInfo, message: str) -> None:
        self.rows.failures.append(
            FailureRow(
                position,
                at,
                info.org,
                info.aggregate_id,
                info.document,
                info.number,
                info.kind,
                None,
                AMENDMENT,
                redact_text(message),
                True,
            )
        )

    def _start(self, aggregate_id: str, event: Any, at: str) -> AggregateInfo:
        kind = kind_of(event)
        if isinstance(event, Document.Received):
            document = f"{kind}:{event.opensolar_id}"
            number = document if kind == INVOICE else f"payment {event.opensolar_id}"
            return AggregateInfo(
                aggregate_id, kind, event.org_id, event.opensolar_id, document, number, at, at
            )
        if isinstance(event, Organisation.Registered):
            return AggregateInfo(
                aggregate_id,
                kind,
                event.org_id,
                event.org_id,
                f"organisation:{event.org_id}",
                event.org_id,
                at,
                at,
            )
        if isinstance(event, Customer.Registered):
            key = str(event.key)
            email = key.removeprefix("email:").casefold() if key.startswith("email:") else None
            return AggregateInfo(
                aggregate_id,
                kind,
                event.org_id,
                key,
                f"customer:{key}",
                key,
                at,
                at,
                email=email,
            )
        org = getattr(event, "org_id", None)
        return AggregateInfo(aggregate_id, kind, org, None, None, aggregate_id, at, at)

    def _update(self, info: AggregateInfo, event: Any, at: str) -> None:
        change: Change | None = getattr(event, "change", None)
        if isinstance(change, Change):
            fields = change.fields
            if isinstance(fields, InvoiceFields):
                info.number = fields.invoice_number
                if fields.customer.email:
                    info.email = fields.customer.email.casefold()
                info.doc_date = (fields.issued_date or change.timestamp.date()).isoformat()
            elif isinstance(fields, PaymentFields):
                info.invoice_doc = _invoice_doc(info, fields)
                info.doc_date = (fields.paid_date or change.timestamp.date()).isoformat()
        if info.kind == PAYMENT and info.invoice_doc is not None:
            invoice = self.info(info.invoice_doc)
            if invoice is not None and invoice.email:
                info.email = invoice.email
        if isinstance(event, Invoice.Issued | Payment.Paid) and info.started_at is None:
            info.started_at = at
        if isinstance(event, Invoice.Cancelled) and info.cancelled_at is None:
            info.cancelled_at = at
        if isinstance(event, Document.SyncRequested | Document.RetryRequested):
            if event.operation == OP_CREDIT_NOTE:
                info.credit_requested_at = at
            else:
                info.requested_at = at

    def _payments_learn(self, invoice_id: str, email: str) -> None:
        """Payments recorded before their invoice learn its customer's email."""
        self.rows.invoice_emails.setdefault(invoice_id, email)
        for other in self.rows.aggregates.values():
            if other.kind == PAYMENT and other.invoice_doc == invoice_id and other.email is None:
                other.email = email
                for row in self._pending.get(other.aggregate_id, []):
                    if row.email is None:
                        row.email = email

    def _backfill(self, info: AggregateInfo, row: EventRow) -> None:
        """Earlier rows of this aggregate in this batch learn its number and email (the first
        event of a document names neither; the next one does). Rows of earlier batches learn
        them in ``AuditBatch.save``, so batch boundaries never change the result."""
        pending = self._pending.setdefault(info.aggregate_id, [])
        for earlier in pending:
            if earlier.email is None and info.email is not None:
                earlier.email = info.email
            if earlier.number == earlier.document and info.number != info.document:
                earlier.number = info.number
        pending.append(row)

    def _calls(self, position: int, info: AggregateInfo, event: Any) -> None:
        if isinstance(event, Document.SyncSucceeded):
            result = SYNCED
        elif isinstance(event, Document.SyncDeferred):
            result = DEFERRED
        elif isinstance(event, Document.SyncSkipped):
            result = SKIPPED
        else:
            result = FAILED if event.final else RETRYING
        for seq, call in enumerate(getattr(event, "calls", None) or []):
            if not isinstance(call, Mapping):
                continue
            duration = call.get("duration_ms")
            try:
                duration_us = round(float(duration or 0) * 1000)
            except (TypeError, ValueError):
                duration_us = 0
            status = call.get("status")
            self.rows.calls.append(
                CallRow(
                    position=position,
                    seq=seq,
                    at=restamp(str(call.get("at") or "")) or stamp(event.timestamp),
                    org=info.org,
                    aggregate_id=info.aggregate_id,
                    document=info.document,
                    number=info.number,
                    operation=str(event.operation),
                    xero_operation=str(call.get("operation") or ""),
                    method=str(call.get("method") or ""),
                    path=redact_text(str(call.get("path") or "")),
                    idempotency_key=_text_or_none(call.get("idempotency_key")),
                    status=int(status) if isinstance(status, int) else None,
                    outcome=redact_text(str(call.get("outcome") or "")),
                    request=_json(call.get("request") or {}),
                    response=_json(call.get("response") or {}),
                    duration_us=duration_us,
                    result=result,
                )
            )
            self._created_ids(position, info, call)

    def _created_ids(self, position: int, info: AggregateInfo, call: Mapping[str, Any]) -> None:
        name = str(call.get("operation") or "")
        collection = _CREATED_COLLECTIONS.get(name)
        if collection is None or call.get("outcome") != "ok":
            return
        response = call.get("response") or {}
        items = response.get(collection[0]) if isinstance(response, Mapping) else None
        for item in items or []:
            if isinstance(item, Mapping) and item.get(collection[1]):
                record = _RECORDS.get(name, OP_PAYMENT)
                self.rows.xero_ids.append(
                    XeroIdRow(str(item[collection[1]]).lower(), info.aggregate_id, record, position)
                )

    def _succeeded(self, position: int, at: str, info: AggregateInfo, event: Any) -> None:
        operation = str(event.operation)
        xero_id = str(event.xero_id)
        cancellation = (getattr(event, "xero", None) or {}).get("cancellation", "credited")
        if operation in (OP_INVOICE_UPDATE, OP_PAYMENT_DELETE) or (
            operation == OP_CREDIT_NOTE and cancellation != "credited"
        ):
            return  # no new Xero record: an edit, a deletion, or a cancellation without credit
        self.rows.xero_ids.append(
            XeroIdRow(xero_id.lower(), info.aggregate_id, operation, position)
        )
        if operation == OP_CREDIT_NOTE:
            info.credit_note_id = xero_id
            started, requested = info.cancelled_at, info.credit_requested_at
        else:
            info.xero_id = xero_id
            started, requested = info.started_at, info.requested_at
        if started is None:
            return
        self.rows.timings.append(
            TimingRow(
                aggregate_id=info.aggregate_id,
                operation=operation,
                org=info.org,
                document=info.document,
                number=info.number,
                started_at=started,
                requested_at=requested,
                synced_at=at,
                millis=max(0, _millis(started, at)),
                delivery_millis=max(0, _millis(requested, at)) if requested else None,
            )
        )


def _invoice_doc(info: AggregateInfo, fields: PaymentFields) -> str | None:
    if info.org is None:
        return None
    return str(document_id(info.org, INVOICE, fields.invoice_id))


def _text_or_none(value: Any) -> str | None:
    return redact_text(str(value)) if value not in (None, "") else None


class AuditProjection(Projection):
    """Applies the log to the audit tables, batch by batch."""

    name = "audit"

    def __init__(self, store: AuditStore) -> None:
        self.store = store

    def position(self) -> int:
        return self.store.position()

    def reset(self) -> None:
        self.store.reset()

    def process_batch(self, log: LogReader, limit: int) -> int:
        return apply_next_batch(self.store.position, self.store.batch, log, limit, _save)


def _save(batch: AuditBatch, recorded: Sequence[Recorded]) -> None:
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
