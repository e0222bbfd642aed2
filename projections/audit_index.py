"""The audit fold: ``Indexer`` turns the events of one batch of the log into audit rows.

It remembers each aggregate between its events (its organisation, document, number, email and
invoice) and backfills what a later event teaches the earlier rows of the batch; rows of earlier
batches learn it when the batch is saved, so batch boundaries never change the result. Call
records and texts pass through ``redact`` before they reach a row.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from eventsourcing.domain import Aggregate

from domain.customer import Customer
from domain.documents import PAYMENT_VOIDED_GUIDANCE, Document, Invoice, Payment
from domain.ids import document_id
from domain.opensolar import Change, InvoiceFields, PaymentFields
from domain.organisation import Organisation
from domain.redaction import redact, redact_text
from domain.vocabulary import Cancellation, DocumentKind, FailureCategory, Operation
from projections.audit_rows import (
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
from projections.audit_text import describe, event_type, kind_of, parse_stamp, plain, restamp, stamp


def _millis(start: str, end: str) -> int:
    return int((parse_stamp(end) - parse_stamp(start)).total_seconds() * 1000)


def _json(value: Any) -> str:
    return json.dumps(redact(plain(value)), sort_keys=True, separators=(",", ":"))


_CREATED_COLLECTIONS: dict[str, tuple[str, str]] = {
    "create_invoice": ("Invoices", "InvoiceID"),
    "create_credit_note": ("CreditNotes", "CreditNoteID"),
    "create_payment": ("Payments", "PaymentID"),
}
_RECORDS = {"create_invoice": Operation.INVOICE, "create_credit_note": Operation.CREDIT_NOTE}


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
            if info.kind == DocumentKind.INVOICE:
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
                FailureCategory.AMENDMENT,
                redact_text(message),
                True,
            )
        )

    def _start(self, aggregate_id: str, event: Any, at: str) -> AggregateInfo:
        kind = kind_of(event)
        if isinstance(event, Document.Received):
            document = f"{kind}:{event.opensolar_id}"
            number = document if kind == DocumentKind.INVOICE else f"payment {event.opensolar_id}"
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
        if info.kind == DocumentKind.PAYMENT and info.invoice_doc is not None:
            invoice = self.info(info.invoice_doc)
            if invoice is not None and invoice.email:
                info.email = invoice.email
        if isinstance(event, Invoice.Issued | Payment.Paid) and info.started_at is None:
            info.started_at = at
        if isinstance(event, Invoice.Cancelled) and info.cancelled_at is None:
            info.cancelled_at = at
        if isinstance(event, Document.SyncRequested | Document.RetryRequested):
            if event.operation == Operation.CREDIT_NOTE:
                info.credit_requested_at = at
            else:
                info.requested_at = at

    def _payments_learn(self, invoice_id: str, email: str) -> None:
        """Payments recorded before their invoice learn its customer's email."""
        self.rows.invoice_emails.setdefault(invoice_id, email)
        for other in self.rows.aggregates.values():
            if (
                other.kind == DocumentKind.PAYMENT
                and other.invoice_doc == invoice_id
                and other.email is None
            ):
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
            result = CallResult.SYNCED
        elif isinstance(event, Document.SyncDeferred):
            result = CallResult.DEFERRED
        elif isinstance(event, Document.SyncSkipped):
            result = CallResult.SKIPPED
        else:
            result = CallResult.FAILED if event.final else CallResult.RETRYING
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
                record = _RECORDS.get(name, Operation.PAYMENT)
                self.rows.xero_ids.append(
                    XeroIdRow(str(item[collection[1]]).lower(), info.aggregate_id, record, position)
                )

    def _succeeded(self, position: int, at: str, info: AggregateInfo, event: Any) -> None:
        operation = str(event.operation)
        xero_id = str(event.xero_id)
        cancellation = (getattr(event, "xero", None) or {}).get(
            "cancellation", Cancellation.CREDITED
        )
        if operation in (Operation.INVOICE_UPDATE, Operation.PAYMENT_DELETE) or (
            operation == Operation.CREDIT_NOTE and cancellation != Cancellation.CREDITED
        ):
            return  # no new Xero record: an edit, a deletion, or a cancellation without credit
        self.rows.xero_ids.append(
            XeroIdRow(xero_id.lower(), info.aggregate_id, operation, position)
        )
        if operation == Operation.CREDIT_NOTE:
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
    return str(document_id(info.org, DocumentKind.INVOICE, fields.invoice_id))


def _text_or_none(value: Any) -> str | None:
    return redact_text(str(value)) if value not in (None, "") else None
