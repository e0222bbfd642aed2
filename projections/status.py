"""The status projection: one row per document, Synced | Pending | Not Attempted | Failed.

``next_row`` is the pure rule that moves a row on by one event; ``StatusProjection`` applies it
to batches of the log through a ``StatusStore`` (one module per backend). Rows hold facts from
the log only; the human reason a document waits ("waiting for invoice INV-00019", "issued before
the Xero connection") is composed when the rows are read, from the row, its invoice's row and its
organisation's connection, so it is always current and a rebuild reproduces it exactly.

Once a document is in Xero its row shows what Xero holds: the invoice's number there, its total
(tax included), what payments and credit took off it (the amount due), a refund due after a
cancellation, and the contact. A Failed row carries its reason and the action a person can take.
A payment waiting for an invoice that is Failed is Failed too ("blocked"), because nothing will
move until someone fixes the invoice; it goes back to Pending once the invoice does.
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

from domain.actions import default_action
from domain.documents import (
    CANCELLED_UNSENT,
    CREDITED,
    OP_CREDIT_NOTE,
    OP_INVOICE,
    OP_INVOICE_UPDATE,
    OP_PAYMENT,
    OP_PAYMENT_DELETE,
    WITHDRAWN_UNSENT,
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

ZERO = Decimal("0.00")
QUEUED: dict[str, str] = {
    OP_CREDIT_NOTE: "cancellation queued: Xero's state of the invoice decides how",
    OP_INVOICE_UPDATE: "update queued",
    OP_PAYMENT_DELETE: "deletion queued",
}


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
    xero_number: str | None = None
    contact: str | None = None
    action: str | None = None
    category: str | None = None
    paid: str | None = None
    """Invoices: money applied to it in Xero by synced payments."""
    credited: str | None = None
    refund_due: str | None = None
    applied_to: str | None = None
    """Payments: the invoice (ledger id) the payment Xero holds is applied to."""
    blocked: bool = False
    """Payments: shown Failed because the invoice they wait for is Failed."""

    @property
    def document(self) -> str:
        """The reference used on the CLI: ``invoice:1042``."""
        return f"{self.kind}:{self.opensolar_id}"

    @property
    def amount_due(self) -> str | None:
        """Invoices in Xero: what is still due there (total less payments and credit)."""
        if self.kind != "invoice" or self.xero_id is None or self.amount is None:
            return None
        due = Decimal(self.amount) - Decimal(self.paid or "0") - Decimal(self.credited or "0")
        return str(max(due, ZERO).quantize(Decimal("0.01")))


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
    """The row with what OpenSolar says now; once in Xero, the amount stays what Xero holds."""
    fields = change.fields
    in_xero = row.xero_id is not None
    if isinstance(fields, InvoiceFields):
        total = fields.stated_total if fields.stated_total is not None else fields.total
        return dataclasses.replace(
            row,
            number=fields.invoice_number,
            project=fields.project_id,
            customer=fields.customer.name,
            email=fields.customer.email,
            amount=row.amount if in_xero else str(total),
            currency=row.currency if in_xero else fields.currency,
            doc_date=(fields.issued_date or change.timestamp.date()).isoformat(),
        )
    if isinstance(fields, PaymentFields):
        return dataclasses.replace(
            row,
            number=row.number if row.number != row.document else f"payment {row.opensolar_id}",
            amount=row.amount if in_xero else str(fields.amount),
            currency=row.currency if in_xero else fields.currency,
            doc_date=(fields.paid_date or change.timestamp.date()).isoformat(),
            invoice_doc=str(document_id(row.org, "invoice", fields.invoice_id)),
            project=row.project,
        )
    return row


def _failed(row: StatusRow, error: str, category: str, action: str) -> StatusRow:
    return dataclasses.replace(
        row,
        status=FAILED,
        error=error,
        note=None,
        category=category,
        action=action
        or default_action(category, row.number if row.kind == "invoice" else row.document),
    )


def _clear(row: StatusRow, status: str, note: str | None) -> StatusRow:
    return dataclasses.replace(
        row, status=status, error=None, note=note, action=None, category=None
    )


def _succeeded(row: StatusRow, event: Any) -> StatusRow:
    """The row after Xero accepted a delivery: what Xero holds now."""
    xero = event.xero or {}
    row = dataclasses.replace(
        _clear(row, SYNCED, event.detail or None),
        operation=event.operation,
        attempts=row.attempts + 1,
    )
    if event.operation == OP_INVOICE:
        contact = xero.get("contact_name") or None
        how = xero.get("contact_how")
        return dataclasses.replace(
            row,
            xero_id=event.xero_id,
            xero_number=xero.get("number") or row.number,
            amount=str(xero["total"]) if xero.get("total") is not None else row.amount,
            currency=xero.get("currency") or row.currency,
            contact=f"{contact} ({how})" if contact and how else contact,
        )
    if event.operation == OP_INVOICE_UPDATE:
        total = xero.get("total")
        return dataclasses.replace(row, amount=str(total) if total is not None else row.amount)
    if event.operation == OP_CREDIT_NOTE:
        credited = xero.get("cancellation", CREDITED) == CREDITED
        return dataclasses.replace(
            row,
            credit_note_id=event.xero_id if credited else row.credit_note_id,
            credited=str(xero.get("allocated", row.amount if credited else "0")),
            refund_due=str(xero["refund_due"]) if xero.get("refund_due") else None,
        )
    if event.operation == OP_PAYMENT_DELETE:
        return dataclasses.replace(row, xero_id=None, applied_to=None)
    if event.operation == OP_PAYMENT:
        sent = event.sent
        amount = xero.get("amount")
        if amount is None and isinstance(sent, PaymentFields):
            amount = sent.amount
        return dataclasses.replace(
            row,
            xero_id=event.xero_id,
            amount=str(amount) if amount is not None else row.amount,
            applied_to=xero.get("invoice_doc") or row.invoice_doc,
        )
    return dataclasses.replace(row, xero_id=event.xero_id)


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
    """The row after one event of its document (pure; the heart of the status rules). A row
    shown blocked by its invoice is moved on from what it is itself (Pending)."""
    if row.blocked:
        row = dataclasses.replace(
            row, status=PENDING, error=None, action=None, category=None, blocked=False
        )
    row = dataclasses.replace(row, updated_at=_iso(event.timestamp))
    if isinstance(event, Invoice.Issued):
        return dataclasses.replace(
            _with_change(row, event.change), visible=True, moment=_iso(event.change.timestamp)
        )
    if isinstance(
        event,
        Invoice.Drafted | Invoice.Updated | Invoice.Amended | Payment.Recorded | Payment.Updated,
    ):
        return _with_change(row, event.change)
    if isinstance(event, Invoice.Cancelled):
        row = dataclasses.replace(_with_change(row, event.change), cancelled=True)
        if row.xero_id is None:
            return _clear(row, NOT_ATTEMPTED, CANCELLED_UNSENT)
        if row.status == FAILED and row.operation in (OP_INVOICE, OP_INVOICE_UPDATE):
            return _clear(row, SYNCED, None)
        return row
    if isinstance(event, Invoice.AmendedAfterSync | Payment.AmendedAfterSync):
        return _failed(_with_change(row, event.change), event.guidance, "amendment", "")
    if isinstance(event, Payment.Paid):
        return dataclasses.replace(
            _with_change(row, event.change),
            visible=True,
            cancelled=False,
            moment=_iso(event.change.timestamp),
        )
    if isinstance(event, Payment.Voided):
        row = dataclasses.replace(_with_change(row, event.change), cancelled=True)
        if row.xero_id is not None:
            return row
        return _clear(row, NOT_ATTEMPTED, WITHDRAWN_UNSENT)
    if isinstance(event, Document.SyncRequested | Document.RetryRequested):
        note = QUEUED.get(event.operation)
        if note and event.operation != OP_CREDIT_NOTE:
            note = f"{note}: {event.reason}"
        return dataclasses.replace(_clear(row, PENDING, note), operation=event.operation)
    if isinstance(event, Document.SyncSucceeded):
        return _succeeded(row, event)
    if isinstance(event, Document.SyncSkipped):
        row = dataclasses.replace(row, operation=event.operation)
        return _clear(row, SYNCED if row.xero_id is not None else NOT_ATTEMPTED, event.reason)
    if isinstance(event, Document.BackInLine):
        return _clear(row, SYNCED, event.reason)
    if isinstance(event, Document.SyncFailed):
        row = dataclasses.replace(row, attempts=row.attempts + 1, operation=event.operation)
        if row.cancelled and row.xero_id is None and event.operation == OP_INVOICE:
            return _clear(row, NOT_ATTEMPTED, CANCELLED_UNSENT)
        if event.final:
            return _failed(row, event.error, event.category, event.action)
        when = event.retry_at.strftime("%H:%M:%S UTC") if event.retry_at else "soon"
        return _clear(
            row, PENDING, f"will retry at {when} after: {event.error} (attempt {row.attempts})"
        )
    return row


def paid_changes(before: StatusRow | None, after: StatusRow) -> list[tuple[str, Decimal]]:
    """How a payment row's change moves money on the invoices it is applied to in Xero:
    (invoice ledger id, amount added; negative when taken off)."""
    changes: list[tuple[str, Decimal]] = []
    was = (
        (before.applied_to, Decimal(before.amount or "0")) if before and before.applied_to else None
    )
    now = (after.applied_to, Decimal(after.amount or "0")) if after.applied_to else None
    if was == now:
        return changes
    if was is not None and was[0] is not None:
        changes.append((was[0], -was[1]))
    if now is not None and now[0] is not None:
        changes.append((now[0], now[1]))
    return changes


def blocked_view(payment: StatusRow, invoice: StatusRow | None) -> StatusRow:
    """A payment as shown given its invoice: Failed while it waits for a Failed invoice (and
    back to Pending once the invoice is not Failed)."""
    base = payment
    if payment.blocked:
        base = dataclasses.replace(
            payment, status=PENDING, error=None, action=None, category=None, blocked=False
        )
    waits = (
        base.kind == "payment"
        and base.status == PENDING
        and base.operation == OP_PAYMENT
        and base.xero_id is None
        and invoice is not None
        and invoice.status == FAILED
        and invoice.xero_id is None
    )
    if not waits or invoice is None:
        return base
    return dataclasses.replace(
        base,
        status=FAILED,
        error=f"waiting for invoice {invoice.number}, which is Failed: {invoice.error}",
        action=(
            f"fix invoice {invoice.number} ({invoice.action or 'see its reason'}); this payment "
            "is sent automatically once the invoice is synced"
        ),
        category="blocked",
        blocked=True,
    )


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
        if invoice is None or not invoice.visible:
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
        """The ``status --json`` object (field names are a public interface: fields are added,
        never renamed)."""
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
            "action": row.action if row.status == FAILED else None,
            "xero_number": row.xero_number,
            "amount_due": row.amount_due,
            "refund_due": row.refund_due,
            "credited": row.credited,
            "contact": row.contact,
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
    def payments_of(self, invoice_docs: Collection[str]) -> dict[str, StatusRow]:
        """The payment rows against these invoices, by document id."""

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
        follow_payments(batch, rows, found)
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


def follow_payments(
    batch: StatusBatch, rows: dict[str, StatusRow | None], before: dict[str, StatusRow]
) -> None:
    """What payments changed in a batch mean for their invoices (money applied in Xero), and
    what invoices changed mean for their payments (blocked while a waited-for invoice is
    Failed). Rows are loaded as needed and updated in ``rows``."""
    changes: list[tuple[str, Decimal]] = []
    for doc_id, row in list(rows.items()):
        if row is not None and row.kind == "payment":
            changes.extend(paid_changes(before.get(doc_id), row))
    invoices = {i for i, _ in changes}
    invoices |= {
        r.invoice_doc for r in rows.values() if r and r.kind == "payment" and r.invoice_doc
    }
    missing = [i for i in invoices if i not in rows]
    rows.update(batch.load_many(missing))
    for invoice_id, amount in changes:
        invoice = rows.get(invoice_id)
        if invoice is not None:
            paid = Decimal(invoice.paid or "0") + amount
            rows[invoice_id] = dataclasses.replace(invoice, paid=str(paid))
    changed_invoices = [
        doc_id
        for doc_id, row in rows.items()
        if row is not None and row.kind == "invoice" and before.get(doc_id) != row
    ]
    for doc_id, payment in batch.payments_of(changed_invoices).items():
        if doc_id not in rows:
            invoice = rows.get(payment.invoice_doc) if payment.invoice_doc else None
            shown_now = blocked_view(payment, invoice)
            if shown_now != payment:
                rows[doc_id] = shown_now
    for doc_id, row in list(rows.items()):
        if row is not None and row.kind == "payment":
            invoice = rows.get(row.invoice_doc) if row.invoice_doc else None
            rows[doc_id] = blocked_view(row, invoice)


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
