"""The sandbox's own inspection format (``GET /sandbox/state``, ``Sandbox.state``): everything
an organisation holds, with snake_case keys and amounts as strings, for tests to assert on."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from syncledger.sandbox import wire
from syncledger.sandbox.model import Document, Organisation


def _money(value: Decimal) -> str:
    return wire.decimal_text(value)


def _document_state(doc: Document) -> dict[str, Any]:
    return {
        "type": doc.type,
        "status": doc.status,
        "contact_id": doc.contact_id,
        "reference": doc.reference,
        "date": doc.date.isoformat(),
        "due_date": doc.due_date.isoformat() if doc.due_date else None,
        "line_amount_types": doc.line_amount_types,
        "currency_code": doc.currency_code,
        "sub_total": _money(doc.sub_total),
        "total_tax": _money(doc.total_tax),
        "total": _money(doc.total),
        "amount_paid": _money(doc.amount_paid),
        "fully_paid_on": doc.fully_paid_on.isoformat() if doc.fully_paid_on else None,
        "line_items": [
            {
                "line_item_id": line.line_item_id,
                "description": line.description,
                "quantity": wire.decimal_text(line.quantity),
                "unit_amount": wire.decimal_text(line.unit_amount),
                "account_code": line.account_code,
                "tax_type": line.tax_type,
                "tax_amount": _money(line.tax_amount),
                "line_amount": _money(line.line_amount),
            }
            for line in doc.lines
        ],
        "created_at": doc.created_at,
        "updated_at": doc.updated_at,
    }


def state_json(org: Organisation) -> dict[str, Any]:
    """Everything the organisation holds, for tests to assert on (amounts as strings)."""
    invoices = []
    for invoice in org.invoices.values():
        item = {"invoice_id": invoice.invoice_id, "invoice_number": invoice.number}
        item.update(_document_state(invoice))
        item["amount_due"] = _money(invoice.amount_due)
        item["amount_credited"] = _money(invoice.amount_credited)
        item["url"] = invoice.url
        invoices.append(item)
    notes = []
    for note in org.credit_notes.values():
        item = {"credit_note_id": note.credit_note_id, "credit_note_number": note.number}
        item.update(_document_state(note))
        item["remaining_credit"] = _money(note.remaining_credit)
        item["amount_allocated"] = _money(note.amount_allocated)
        notes.append(item)
    return {
        "tenant_id": org.tenant_id,
        "name": org.name,
        "base_currency": org.base_currency,
        "currencies": org.enabled_currencies(),
        "period_lock_date": org.period_lock_date.isoformat() if org.period_lock_date else None,
        "contacts": [
            {
                "contact_id": c.contact_id,
                "name": c.name,
                "status": c.status,
                "email": c.email,
                "contact_number": c.contact_number,
                "first_name": c.first_name,
                "last_name": c.last_name,
                "is_customer": c.is_customer,
                "updated_at": c.updated_at,
            }
            for c in org.contacts.values()
        ],
        "invoices": invoices,
        "credit_notes": notes,
        "allocations": [
            {
                "allocation_id": a.allocation_id,
                "credit_note_id": a.credit_note_id,
                "invoice_id": a.invoice_id,
                "amount": _money(a.amount),
                "date": a.date.isoformat(),
                "deleted": a.deleted,
            }
            for a in org.allocations.values()
        ],
        "payments": [
            {
                "payment_id": p.payment_id,
                "invoice_id": p.invoice_id,
                "credit_note_id": p.credit_note_id,
                "account_id": p.account_id,
                "account_code": (
                    org.accounts[p.account_id].code if p.account_id in org.accounts else None
                ),
                "amount": _money(p.amount),
                "date": p.date.isoformat(),
                "reference": p.reference,
                "status": p.status,
                "payment_type": p.payment_type,
            }
            for p in org.payments.values()
        ],
        "accounts": [
            {
                "account_id": a.account_id,
                "code": a.code,
                "name": a.name,
                "type": a.type,
                "status": a.status,
                "tax_type": a.tax_type,
                "enable_payments_to_account": a.enable_payments,
                "system_account": a.system_account,
            }
            for a in org.accounts.values()
        ],
    }
