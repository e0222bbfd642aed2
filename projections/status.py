"""The status projection: one row per document, Synced | Pending | Not Attempted | Failed.

``next_row`` is the pure rule that moves a row on by one event; ``StatusProjection`` applies it
to batches of the log through a ``StatusStore`` (one module per backend). Rows hold facts from
the log only; the human reason a document waits ("waiting for invoice INV-00019", "issued before
the Xero connection") is composed when the rows are read, from the row, its invoice's row and its
organisation's connection, so it is always current and a rebuild reproduces it exactly.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from domain.documents import (
    OP_CREDIT_NOTE,
    OP_INVOICE,
    OP_PAYMENT,
    PAYMENT_VOIDED_GUIDANCE,
    Document,
    Invoice,
    Payment,
)
from domain.ids import document_id
from domain.opensolar import Change, InvoiceFields, PaymentFields
from domain.organisation import Organisation
from projections.base import LogReader, Projection, Recorded, apply_next_batch

SYNCED = "Synced"
PENDING = "Pending"
NOT_ATTEMPTED = "Not Attempted"
FAILED = "Failed"
STATUSES: tuple[str, ...] = (SYNCED, PENDING, NOT_ATTEMPTED, FAILED)

CANCELLED_UNSENT = "cancelled in OpenSolar before it was sent to Xero; nothing to send"
WITHDRAWN_UNSENT = "withdrawn in OpenSolar before it was sent to Xero; nothing to send"


@dataclass(frozen=True)
class StatusRow:
    """The sync status of one document, as derived from the log."""

    doc_id: str
    org: str
    kind: str
    opensolar_id: str
    number: str
    project: str | None = None
    customer: str | None = None
    email: str | None = None
    amount: str | None = None
    currency: str | None = None
    doc_date: str | None = None
    moment: str | None = None
    status: str = NOT_ATTEMPTED
    error: str | None = None
    note: str | None = None
    operation: str | None = None
    xero_id: str | None = None
    credit_note_id: str | None = None
    attempts: int = 0
    updated_at: str = ""
    visible: bool = False
    cancelled: bool = False
    invoice_doc: str | None = None

    @property
    def document(self) -> str:
        """The reference used on the CLI: ``invoice:1042``."""
        return f"{self.kind}:{self.opensolar_id}"


@dataclass(frozen=True)
class OrgRow:
    """What the status projection knows of an organisation: its connection.

    Keyed by the organisation aggregate's id, because only its first event names the org."""

    key: str
    org: str
    connected_at: str | None
    tenant_id: str | None


COLUMNS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(StatusRow))


def _iso(value: datetime) -> str:
    return value.isoformat()


def _with_change(row: StatusRow, change: Change) -> StatusRow:
    fields = change.fields
    if isinstance(fields, InvoiceFields):
        return dataclasses.replace(
            row,
            number=fields.invoice_number,
            project=fields.project_id,
            customer=fields.customer.name,
            email=fields.customer.email,
            amount=str(fields.total),
            currency=fields.currency,
            doc_date=(fields.issued_date or change.timestamp.date()).isoformat(),
        )
    if isinstance(fields, PaymentFields):
        return dataclasses.replace(
            row,
            number=row.number if row.number != row.document else f"payment {row.opensolar_id}",
            amount=str(fields.amount),
            currency=fields.currency,
            doc_date=(fields.paid_date or change.timestamp.date()).isoformat(),
            invoice_doc=str(document_id(row.org, "invoice", fields.invoice_id)),
            project=row.project,
        )
    return row


def new_row(event: Document.Received, kind: str) -> StatusRow:
    """The row of a document the log has just started."""
    return StatusRow(
        doc_id=str(event.originator_id),
        org=event.org_id,
        kind=kind,
        opensolar_id=event.opensolar_id,
        number=f"{kind}:{event.opensolar_id}",
        updated_at=_iso(event.timestamp),
    )


def next_row(row: StatusRow, event: Any) -> StatusRow:
    """The row after one event of its document (pure; the heart of the status rules)."""
    row = dataclasses.replace(row, updated_at=_iso(event.timestamp))
    if isinstance(event, Invoice.Issued):
        return dataclasses.replace(
            _with_change(row, event.change), visible=True, moment=_iso(event.change.timestamp)
        )
    if isinstance(event, Invoice.Drafted | Invoice.Updated | Payment.Recorded | Payment.Updated):
        return _with_change(row, event.change)
    if isinstance(event, Invoice.Cancelled):
        row = dataclasses.replace(_with_change(row, event.change), cancelled=True)
        if row.xero_id is None:
            return dataclasses.replace(row, status=NOT_ATTEMPTED, error=None, note=CANCELLED_UNSENT)
        if row.status == FAILED and row.operation == OP_INVOICE:
            return dataclasses.replace(row, status=SYNCED, error=None, note=None)
        return row
    if isinstance(event, Invoice.AmendedAfterSync | Payment.AmendedAfterSync):
        return dataclasses.replace(
            _with_change(row, event.change), status=FAILED, error=event.guidance, note=None
        )
    if isinstance(event, Payment.Paid):
        return dataclasses.replace(
            _with_change(row, event.change), visible=True, moment=_iso(event.change.timestamp)
        )
    if isinstance(event, Payment.Voided):
        row = dataclasses.replace(_with_change(row, event.change), cancelled=True)
        if row.xero_id is not None:
            return dataclasses.replace(row, status=FAILED, error=PAYMENT_VOIDED_GUIDANCE, note=None)
        return dataclasses.replace(row, status=NOT_ATTEMPTED, error=None, note=WITHDRAWN_UNSENT)
    if isinstance(event, Document.SyncRequested | Document.RetryRequested):
        note = "credit note queued for delivery" if event.operation == OP_CREDIT_NOTE else None
        return dataclasses.replace(
            row, status=PENDING, error=None, note=note, operation=event.operation
        )
    if isinstance(event, Document.SyncSucceeded):
        row = dataclasses.replace(
            row,
            status=SYNCED,
            error=None,
            note=event.detail or None,
            operation=event.operation,
            attempts=row.attempts + 1,
        )
        if event.operation == OP_CREDIT_NOTE:
            return dataclasses.replace(row, credit_note_id=event.xero_id)
        if event.operation == OP_PAYMENT and row.cancelled:
            return dataclasses.replace(
                row, xero_id=event.xero_id, status=FAILED, error=PAYMENT_VOIDED_GUIDANCE, note=None
            )
        return dataclasses.replace(row, xero_id=event.xero_id)
    if isinstance(event, Document.SyncFailed):
        row = dataclasses.replace(row, attempts=row.attempts + 1, operation=event.operation)
        if row.cancelled and row.xero_id is None and event.operation == OP_INVOICE:
            return dataclasses.replace(row, status=NOT_ATTEMPTED, error=None, note=CANCELLED_UNSENT)
        if event.final:
            return dataclasses.replace(row, status=FAILED, error=event.error, note=None)
        when = event.retry_at.strftime("%H:%M:%S UTC") if event.retry_at else "soon"
        return dataclasses.replace(
            row,
            status=PENDING,
            error=None,
            note=f"will retry at {when} after: {event.error} (attempt {row.attempts})",
        )
    return row


def next_org(org: OrgRow | None, event: Any) -> OrgRow | None:
    """The organisation's row after one of its events."""
    if isinstance(event, Organisation.Registered):
        return OrgRow(str(event.originator_id), event.org_id, None, None)
    if org is None:
        return None
    if isinstance(event, Organisation.Connected):
        return dataclasses.replace(
            org, connected_at=_iso(event.connected_at), tenant_id=event.tenant_id
        )
    if isinstance(event, Organisation.Disconnected):
        return dataclasses.replace(org, connected_at=None, tenant_id=None)
    return org


def reason(row: StatusRow, invoice: StatusRow | None, org: OrgRow | None) -> str | None:
    """Why a document is where it is, in words, from its row and the rows it depends on."""
    if row.status == PENDING and row.kind == "payment" and row.operation == OP_PAYMENT:
        if invoice is None:
            return "waiting for its invoice: not received from OpenSolar yet"
        if invoice.xero_id is None:
            if invoice.status == NOT_ATTEMPTED and invoice.cancelled:
                return f"waiting for invoice {invoice.number}: it was cancelled before it was sent"
            if invoice.status == NOT_ATTEMPTED:
                return (
                    f"waiting for invoice {invoice.number} (Not Attempted: run "
                    f"`syncledger sync {invoice.number}`)"
                )
            if invoice.status == FAILED:
                return f"waiting for invoice {invoice.number} (Failed: {invoice.error})"
            return f"waiting for invoice {invoice.number}"
    if row.status == NOT_ATTEMPTED and row.note is None and not row.visible:
        if row.kind == "invoice":
            return "a draft in OpenSolar (not issued yet): nothing to send"
        return "not paid in OpenSolar: nothing to send"
    if row.status == NOT_ATTEMPTED and row.note is None:
        if org is None or org.connected_at is None:
            return f"organisation {row.org} is not connected to Xero"
        verb = "issued" if row.kind == "invoice" else "paid"
        since = datetime.fromisoformat(org.connected_at).strftime("%Y-%m-%d %H:%M UTC")
        name = row.number if row.kind == "invoice" else row.document
        return (
            f"{verb} before the Xero connection ({since}); run `syncledger sync {name}` to send it"
        )
    if row.status == PENDING and org is not None and org.connected_at is None:
        return f"Xero connection lost: run `syncledger connect {row.org}`"
    if row.status == PENDING and row.note is None:
        return "queued for delivery"
    return row.note


def shown(row: StatusRow, invoice: StatusRow | None) -> StatusRow:
    """The row as shown: a payment takes its customer and project from its invoice."""
    if row.kind != "payment" or invoice is None:
        return row
    return dataclasses.replace(
        row, customer=row.customer or invoice.customer, project=row.project or invoice.project
    )


@dataclass(frozen=True)
class StatusView:
    """A row as shown to users: the row plus its composed reason."""

    row: StatusRow
    reason: str | None

    def as_json(self) -> dict[str, Any]:
        """The ``status --json`` object (field names are a public interface)."""
        row = self.row
        return {
            "org": row.org,
            "document": row.document,
            "kind": row.kind,
            "number": row.number,
            "status": row.status,
            "error": row.error,
            "reason": self.reason,
            "xero_id": row.xero_id,
            "credit_note_id": row.credit_note_id,
            "project": row.project,
            "customer": row.customer,
            "amount": row.amount,
            "currency": row.currency,
            "date": row.doc_date,
            "attempts": row.attempts,
            "updated_at": row.updated_at,
        }


@dataclass(frozen=True)
class StatusFilter:
    """Which rows a status query returns."""

    org: str | None = None
    project: str | None = None
    status: str | None = None
    kind: str | None = None
    include_hidden: bool = False


class StatusBatch(ABC):
    """Rows and position inside one projection transaction (per backend)."""

    position: int

    @abstractmethod
    def load_many(self, doc_ids: Collection[str]) -> dict[str, StatusRow]:
        """The rows of these documents that exist (one query per few hundred)."""

    @abstractmethod
    def load_org(self, key: str) -> OrgRow | None: ...

    @abstractmethod
    def save(self, rows: Sequence[StatusRow], orgs: Sequence[OrgRow], position: int) -> None:
        """Write rows and organisations and move the position, in this transaction."""


class StatusStore(ABC):
    """Storage of the status projection (one implementation per backend)."""

    @abstractmethod
    def batch(self) -> AbstractContextManager[StatusBatch]:
        """A transaction that holds the projection's position exclusively."""

    @abstractmethod
    def position(self) -> int: ...

    @abstractmethod
    def reset(self) -> None:
        """Delete every row and the position."""

    @abstractmethod
    def rows(self, where: StatusFilter) -> Iterator[StatusView]:
        """Rows matching a filter, each with its reason, in a stable order."""

    @abstractmethod
    def find(self, reference: str, org: str | None) -> list[StatusRow]:
        """Rows matching a document reference: ``INV-00019``, ``invoice:1042`` or an id."""

    @abstractmethod
    def payments_of(self, invoice_doc: str) -> list[StatusRow]:
        """The payment rows against one invoice."""

    @abstractmethod
    def organisations(self) -> list[OrgRow]:
        """Every organisation the log has named, with its connection."""

    @abstractmethod
    def counts(self) -> dict[str, int]:
        """How many visible documents are in each status."""


class StatusProjection(Projection):
    """Applies the log to the status table, batch by batch."""

    name = "status"

    def __init__(self, store: StatusStore) -> None:
        self.store = store

    def position(self) -> int:
        return self.store.position()

    def reset(self) -> None:
        self.store.reset()

    def process_batch(self, log: LogReader, limit: int) -> int:
        return apply_next_batch(self.store.position, self.store.batch, log, limit, self._save)

    def _save(self, batch: StatusBatch, recorded: Sequence[Recorded]) -> None:
        rows: dict[str, StatusRow | None] = {}
        orgs: dict[str, OrgRow | None] = {}
        needed = _rows_to_load(recorded)
        found = batch.load_many(needed)
        rows.update({doc_id: found.get(doc_id) for doc_id in needed})
        for item in recorded:
            self._apply(batch, rows, orgs, item.event)
        batch.save(
            [r for r in rows.values() if r is not None],
            [o for o in orgs.values() if o is not None],
            recorded[-1].position,
        )

    @staticmethod
    def _apply(
        batch: StatusBatch,
        rows: dict[str, StatusRow | None],
        orgs: dict[str, OrgRow | None],
        event: Any,
    ) -> None:
        if isinstance(event, Organisation.Event):
            key = str(event.originator_id)
            if key not in orgs:
                orgs[key] = batch.load_org(key)
            orgs[key] = next_org(orgs[key], event)
            return
        if not isinstance(event, Document.Event):
            return
        doc_id = str(event.originator_id)
        if isinstance(event, Document.Received):
            kind = "invoice" if isinstance(event, Invoice.Event) else "payment"
            rows[doc_id] = new_row(event, kind)
            return
        row = rows.get(doc_id)  # loaded before the batch (``_rows_to_load``), or None
        if row is not None:
            rows[doc_id] = next_row(row, event)


def _rows_to_load(recorded: Sequence[Recorded]) -> set[str]:
    """The documents whose rows a batch changes without first receiving them anew."""
    received: set[str] = set()
    needed: set[str] = set()
    for item in recorded:
        event = item.event
        if isinstance(event, Document.Event):
            doc_id = str(event.originator_id)
            if isinstance(event, Document.Received):
                received.add(doc_id)
            elif doc_id not in received:
                needed.add(doc_id)
    return needed


def money(value: str | None) -> str:
    """An amount for the table: thousands separators, two places."""
    if value is None:
        return ""
    return f"{Decimal(value):,.2f}"
