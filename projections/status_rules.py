"""The status rules: the row of one document (and of one organisation) and the pure fold that
moves it on by one event of the log.

``new_row`` starts a document's row, ``next_row`` moves it on by one event, ``next_org`` does the
same for an organisation's connection, and ``paid_changes`` / ``blocked_view`` say what a payment's
change means for its invoice and what an invoice's status means for its payments. Rows hold facts
from the log only; the words shown to people are composed when rows are read (``status_view``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from domain.actions import default_action
from domain.documents import CANCELLED_UNSENT, WITHDRAWN_UNSENT, Document, Invoice, Payment
from domain.ids import document_id
from domain.opensolar import Change, InvoiceFields, PaymentFields
from domain.organisation import Organisation
from domain.vocabulary import Cancellation, DocumentKind, FailureCategory, Operation, Status

ZERO = Decimal("0.00")
QUEUED: dict[str, str] = {
    Operation.CREDIT_NOTE: "cancellation queued: Xero's state of the invoice decides how",
    Operation.INVOICE_UPDATE: "update queued",
    Operation.PAYMENT_DELETE: "deletion queued",
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
    status: str = Status.NOT_ATTEMPTED
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
        if self.kind != DocumentKind.INVOICE or self.xero_id is None or self.amount is None:
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
            invoice_doc=str(document_id(row.org, DocumentKind.INVOICE, fields.invoice_id)),
            project=row.project,
        )
    return row


def _failed(row: StatusRow, error: str, category: str, action: str) -> StatusRow:
    return dataclasses.replace(
        row,
        status=Status.FAILED,
        error=error,
        note=None,
        category=category,
        action=action
        or default_action(
            category, row.number if row.kind == DocumentKind.INVOICE else row.document
        ),
    )


def _clear(row: StatusRow, status: str, note: str | None) -> StatusRow:
    return dataclasses.replace(
        row, status=status, error=None, note=note, action=None, category=None
    )


def _succeeded(row: StatusRow, event: Any) -> StatusRow:
    """The row after Xero accepted a delivery: what Xero holds now."""
    xero = event.xero or {}
    row = dataclasses.replace(
        _clear(row, Status.SYNCED, event.detail or None),
        operation=event.operation,
        attempts=row.attempts + 1,
    )
    if event.operation == Operation.INVOICE:
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
    if event.operation == Operation.INVOICE_UPDATE:
        total = xero.get("total")
        return dataclasses.replace(row, amount=str(total) if total is not None else row.amount)
    if event.operation == Operation.CREDIT_NOTE:
        credited = xero.get("cancellation", Cancellation.CREDITED) == Cancellation.CREDITED
        return dataclasses.replace(
            row,
            credit_note_id=event.xero_id if credited else row.credit_note_id,
            credited=str(xero.get("allocated", row.amount if credited else "0")),
            refund_due=str(xero["refund_due"]) if xero.get("refund_due") else None,
        )
    if event.operation == Operation.PAYMENT_DELETE:
        return dataclasses.replace(row, xero_id=None, applied_to=None)
    if event.operation == Operation.PAYMENT:
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
            row, status=Status.PENDING, error=None, action=None, category=None, blocked=False
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
            return _clear(row, Status.NOT_ATTEMPTED, CANCELLED_UNSENT)
        if row.status == Status.FAILED and row.operation in (
            Operation.INVOICE,
            Operation.INVOICE_UPDATE,
        ):
            return _clear(row, Status.SYNCED, None)
        return row
    if isinstance(event, Invoice.AmendedAfterSync | Payment.AmendedAfterSync):
        return _failed(
            _with_change(row, event.change), event.guidance, FailureCategory.AMENDMENT, ""
        )
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
        return _clear(row, Status.NOT_ATTEMPTED, WITHDRAWN_UNSENT)
    if isinstance(event, Document.SyncRequested | Document.RetryRequested):
        note = QUEUED.get(event.operation)
        if note and event.operation != Operation.CREDIT_NOTE:
            note = f"{note}: {event.reason}"
        return dataclasses.replace(_clear(row, Status.PENDING, note), operation=event.operation)
    if isinstance(event, Document.SyncSucceeded):
        return _succeeded(row, event)
    if isinstance(event, Document.SyncSkipped):
        row = dataclasses.replace(row, operation=event.operation)
        return _clear(
            row, Status.SYNCED if row.xero_id is not None else Status.NOT_ATTEMPTED, event.reason
        )
    if isinstance(event, Document.BackInLine):
        return _clear(row, Status.SYNCED, event.reason)
    if isinstance(event, Document.SyncFailed):
        row = dataclasses.replace(row, attempts=row.attempts + 1, operation=event.operation)
        if row.cancelled and row.xero_id is None and event.operation == Operation.INVOICE:
            return _clear(row, Status.NOT_ATTEMPTED, CANCELLED_UNSENT)
        if event.final:
            return _failed(row, event.error, event.category, event.action)
        when = event.retry_at.strftime("%H:%M:%S UTC") if event.retry_at else "soon"
        return _clear(
            row,
            Status.PENDING,
            f"will retry at {when} after: {event.error} (attempt {row.attempts})",
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
            payment, status=Status.PENDING, error=None, action=None, category=None, blocked=False
        )
    waits = (
        base.kind == DocumentKind.PAYMENT
        and base.status == Status.PENDING
        and base.operation == Operation.PAYMENT
        and base.xero_id is None
        and invoice is not None
        and invoice.status == Status.FAILED
        and invoice.xero_id is None
    )
    if not waits or invoice is None:
        return base
    return dataclasses.replace(
        base,
        status=Status.FAILED,
        error=f"waiting for invoice {invoice.number}, which is Failed: {invoice.error}",
        action=(
            f"fix invoice {invoice.number} ({invoice.action or 'see its reason'}); this payment "
            "is sent automatically once the invoice is synced"
        ),
        category=FailureCategory.BLOCKED,
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
