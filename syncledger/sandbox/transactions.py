"""Xero's JSON shapes of the transactions: line items, invoices (with their payment and
credit-note summaries), credit notes (with their allocations), allocations and payments, and
the short invoice and credit-note objects embedded in the others. The envelope, dates and
contacts they use are in ``syncledger.sandbox.render``."""

from __future__ import annotations

from typing import Any

from syncledger.sandbox import wire
from syncledger.sandbox.model import (
    Allocation,
    CreditNote,
    Document,
    Invoice,
    LineItem,
    Organisation,
    Payment,
)
from syncledger.sandbox.money import round_places
from syncledger.sandbox.render import ONE, contact_ref, put_date


def line_json(line: LineItem, unit_dp: int) -> dict[str, Any]:
    """One line item."""
    payload: dict[str, Any] = {"LineItemID": line.line_item_id}
    if line.description is not None:
        payload["Description"] = line.description
    payload["Quantity"] = round_places(line.quantity, 4)
    payload["UnitAmount"] = round_places(line.unit_amount, unit_dp)
    if line.item_code:
        payload["ItemCode"] = line.item_code
    if line.account_code is not None:
        payload["AccountCode"] = line.account_code
    if line.account_id is not None:
        payload["AccountID"] = line.account_id
    if line.tax_type is not None:
        payload["TaxType"] = line.tax_type
    payload["TaxAmount"] = line.tax_amount
    payload["LineAmount"] = line.line_amount
    if line.discount_rate is not None:
        payload["DiscountRate"] = line.discount_rate
    if line.discount_amount is not None:
        payload["DiscountAmount"] = line.discount_amount
    payload["Tracking"] = [dict(item) for item in line.tracking]
    return payload


def _document_common(
    org: Organisation, doc: Document, payload: dict[str, Any], lines: bool, unit_dp: int
) -> None:
    payload["Contact"] = contact_ref(org, doc.contact_id)
    put_date(payload, "Date", doc.date)
    put_date(payload, "DueDate", doc.due_date)
    payload["Status"] = doc.status
    payload["LineAmountTypes"] = doc.line_amount_types
    if lines:
        payload["LineItems"] = [line_json(line, unit_dp) for line in doc.lines]
    payload["SubTotal"] = doc.sub_total
    payload["TotalTax"] = doc.total_tax
    payload["Total"] = doc.total
    payload["UpdatedDateUTC"] = wire.ms_timestamp(doc.updated_at)
    payload["CurrencyCode"] = doc.currency_code
    payload["CurrencyRate"] = ONE
    put_date(payload, "FullyPaidOnDate", doc.fully_paid_on)


def payment_summary(payment: Payment) -> dict[str, Any]:
    """A payment as listed on the document it pays."""
    return {
        "PaymentID": payment.payment_id,
        "Date": wire.ms_date(payment.date),
        "Amount": payment.amount,
        "Reference": payment.reference or "",
        "CurrencyRate": ONE,
        "HasAccount": True,
        "HasValidationErrors": False,
    }


def invoice_json(
    org: Organisation, invoice: Invoice, *, lines: bool = True, unit_dp: int = 2
) -> dict[str, Any]:
    """An invoice with its payment and credit-note summaries."""
    payments = [
        payment_summary(p) for p in org.payments_of(invoice.invoice_id) if p.status != "DELETED"
    ]
    credits: list[dict[str, Any]] = []
    for allocation in org.allocations_of(invoice.invoice_id):
        if allocation.deleted:
            continue
        note = org.credit_notes.get(allocation.credit_note_id)
        if note is None:
            continue
        credit: dict[str, Any] = {
            "CreditNoteID": note.credit_note_id,
            "CreditNoteNumber": note.number or "",
            "ID": allocation.allocation_id,
            "AppliedAmount": allocation.amount,
        }
        put_date(credit, "Date", allocation.date)
        credit["LineItems"] = []
        credit["Total"] = note.total
        credits.append(credit)
    payload: dict[str, Any] = {
        "Type": invoice.type,
        "InvoiceID": invoice.invoice_id,
        "InvoiceNumber": invoice.number or "",
        "Reference": invoice.reference or "",
        "Payments": payments,
        "CreditNotes": credits,
        "Prepayments": [],
        "Overpayments": [],
        "AmountDue": invoice.amount_due,
        "AmountPaid": invoice.amount_paid,
        "AmountCredited": invoice.amount_credited,
        "SentToContact": invoice.sent_to_contact,
        "IsDiscounted": any(line.discount_rate or line.discount_amount for line in invoice.lines),
        "HasAttachments": False,
        "HasErrors": False,
    }
    _document_common(org, invoice, payload, lines, unit_dp)
    payload["UpdatedDateUTCString"] = wire.iso_timestamp(invoice.updated_at)
    if invoice.url:
        payload["Url"] = invoice.url
    return payload


def _embedded_invoice() -> dict[str, Any]:
    """The empty collections and flags of an invoice embedded in another object."""
    return {
        "Payments": [],
        "CreditNotes": [],
        "Prepayments": [],
        "Overpayments": [],
        "HasErrors": False,
        "IsDiscounted": False,
        "LineItems": [],
    }


def invoice_ref(invoice: Invoice, org: Organisation) -> dict[str, Any]:
    """The short invoice object embedded in payments and allocations."""
    return {
        "Type": invoice.type,
        "InvoiceID": invoice.invoice_id,
        "InvoiceNumber": invoice.number or "",
        "Contact": contact_ref(org, invoice.contact_id),
        "Status": invoice.status,
        "CurrencyCode": invoice.currency_code,
        **_embedded_invoice(),
    }


def credit_note_ref(note: CreditNote, org: Organisation) -> dict[str, Any]:
    """The short credit-note object embedded in payments and allocations."""
    return {
        "Type": note.type,
        "CreditNoteID": note.credit_note_id,
        "CreditNoteNumber": note.number or "",
        "Contact": contact_ref(org, note.contact_id),
        "Status": note.status,
        "CurrencyCode": note.currency_code,
        "HasErrors": False,
        "LineItems": [],
    }


def allocation_json(org: Organisation, allocation: Allocation) -> dict[str, Any]:
    """An allocation of credit to an invoice."""
    payload: dict[str, Any] = {
        "AllocationID": allocation.allocation_id,
        "Amount": allocation.amount,
    }
    put_date(payload, "Date", allocation.date)
    invoice = org.invoices.get(allocation.invoice_id)
    payload["Invoice"] = (
        invoice_ref(invoice, org) if invoice else {"InvoiceID": allocation.invoice_id}
    )
    note = org.credit_notes.get(allocation.credit_note_id)
    if note is not None:
        payload["CreditNote"] = credit_note_ref(note, org)
    payload["IsDeleted"] = allocation.deleted
    return payload


def credit_note_json(
    org: Organisation, note: CreditNote, *, lines: bool = True, unit_dp: int = 2
) -> dict[str, Any]:
    """A credit note with its allocations and refunds."""
    allocations: list[dict[str, Any]] = []
    for allocation in org.allocations_of(note.credit_note_id):
        if allocation.deleted:
            continue
        item: dict[str, Any] = {
            "AllocationID": allocation.allocation_id,
            "Amount": allocation.amount,
        }
        put_date(item, "Date", allocation.date)
        invoice = org.invoices.get(allocation.invoice_id)
        item["Invoice"] = {
            "InvoiceID": allocation.invoice_id,
            "InvoiceNumber": (invoice.number or "") if invoice else "",
            **_embedded_invoice(),
        }
        allocations.append(item)
    payments = [
        payment_summary(p) for p in org.payments_of(note.credit_note_id) if p.status != "DELETED"
    ]
    payload: dict[str, Any] = {
        "Type": note.type,
        "CreditNoteID": note.credit_note_id,
        "CreditNoteNumber": note.number or "",
        "Reference": note.reference or "",
        "RemainingCredit": note.remaining_credit,
        "Allocations": allocations,
        "Payments": payments,
        "AppliedAmount": note.amount_allocated,
        "SentToContact": False,
        "HasAttachments": False,
        "HasErrors": False,
    }
    _document_common(org, note, payload, lines, unit_dp)
    payload["UpdatedDateUTCString"] = wire.iso_timestamp(note.updated_at)
    return payload


def payment_json(org: Organisation, payment: Payment) -> dict[str, Any]:
    """A payment with its account and the document it applies to."""
    account = org.accounts.get(payment.account_id)
    payload: dict[str, Any] = {
        "PaymentID": payment.payment_id,
        "Date": wire.ms_date(payment.date),
        "DateString": wire.date_string(payment.date),
        "BankAmount": payment.amount,
        "Amount": payment.amount,
        "Reference": payment.reference or "",
        "CurrencyRate": ONE,
        "PaymentType": payment.payment_type,
        "Status": payment.status,
        "UpdatedDateUTC": wire.ms_timestamp(payment.updated_at),
        "HasAccount": True,
        "IsReconciled": payment.is_reconciled,
        "HasValidationErrors": False,
        "Account": {
            "AccountID": payment.account_id,
            "Code": account.code if account else "",
            "Name": account.name if account else "",
        },
    }
    if payment.invoice_id is not None:
        invoice = org.invoices.get(payment.invoice_id)
        if invoice is not None:
            payload["Invoice"] = invoice_ref(invoice, org)
    if payment.credit_note_id is not None:
        note = org.credit_notes.get(payment.credit_note_id)
        if note is not None:
            payload["CreditNote"] = credit_note_ref(note, org)
    return payload
