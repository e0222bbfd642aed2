"""Rules shared by invoices and credit notes: creating, editing, voiding and deleting them.

`prepare` validates submitted fields (type, status, line amount types, currency, dates, contact,
number uniqueness, lines) into a `Prepared` change without touching the ledger, so a failing
element leaves nothing behind; `create` and `apply` then commit it. Status changes follow Xero
(notes §1.2, §1.3): DELETED only from DRAFT or SUBMITTED, VOIDED only from AUTHORISED with no
payments or allocations, no edits once money has been applied, and an approved document whose
balance reaches zero becomes PAID. A document is in the base currency or one the organisation
has enabled (§1.7), and nothing dated on or before the period lock date is created, edited,
voided or deleted, nor moved there (§1.3).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from syncledger.sandbox import periods, wire
from syncledger.sandbox.call import Call
from syncledger.sandbox.contacts import ContactChoice, choose_contact
from syncledger.sandbox.errors import ElementError
from syncledger.sandbox.kinds import (
    INVOICE,
    Kind,
    doc_id,
    not_modifiable,
    not_subscribed,
    numbers_of,
)
from syncledger.sandbox.lines import LineRules, build_lines, totals
from syncledger.sandbox.model import (
    CreditNote,
    Document,
    Invoice,
    LineItem,
    Organisation,
    name_key,
)
from syncledger.sandbox.money import EXCLUSIVE, LINE_AMOUNT_TYPES, ZERO

CREATE_STATUSES = frozenset({"DRAFT", "SUBMITTED", "AUTHORISED"})
EDIT_BLOCKED = "This document cannot be edited as it has a payment or credit note allocated to it."
_NEXT_STATUSES = {
    "DRAFT": {"DRAFT", "SUBMITTED", "AUTHORISED"},
    "SUBMITTED": {"DRAFT", "SUBMITTED", "AUTHORISED"},
    "AUTHORISED": {"AUTHORISED"},
    "PAID": {"PAID"},
}


def applied(doc: Document) -> Decimal:
    """Money already applied to the document (payments plus credit or allocations)."""
    if isinstance(doc, Invoice):
        return doc.amount_paid + doc.amount_credited
    if isinstance(doc, CreditNote):
        return doc.amount_paid + doc.amount_allocated
    return doc.amount_paid


def balance(doc: Document) -> Decimal:
    """AmountDue of an invoice, RemainingCredit of a credit note."""
    if isinstance(doc, Invoice):
        return doc.amount_due
    if isinstance(doc, CreditNote):
        return doc.remaining_credit
    return ZERO


def settle(doc: Document, call: Call) -> None:
    """An approved document with nothing left to pay or allocate becomes PAID."""
    if doc.status == "AUTHORISED" and balance(doc) <= ZERO:
        doc.status = "PAID"
        doc.fully_paid_on = call.today()


def unsettle(doc: Document) -> None:
    """A PAID document that owes money again goes back to AUTHORISED."""
    if doc.status == "PAID" and balance(doc) > ZERO:
        doc.status = "AUTHORISED"
        doc.fully_paid_on = None


@dataclass
class Prepared:
    """A validated set of fields, ready to commit."""

    type: str
    status: str
    line_amount_types: str
    currency: str
    date: Any
    due_date: Any
    reference: str | None
    contact: ContactChoice | None
    number: str | None
    lines: list[LineItem]
    url: str | None
    sub_total: Decimal
    total_tax: Decimal
    total: Decimal


def _line_as_raw(line: LineItem, keep_tax: bool) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "LineItemID": line.line_item_id,
        "Description": line.description,
        "Quantity": line.quantity,
        "UnitAmount": line.unit_amount,
        "ItemCode": line.item_code,
        "AccountCode": line.account_code,
        "TaxType": line.tax_type,
        "DiscountRate": line.discount_rate,
        "DiscountAmount": line.discount_amount,
        "Tracking": line.tracking,
    }
    if keep_tax:
        raw["TaxAmount"] = line.tax_amount
    return {key: value for key, value in raw.items() if value is not None}


def _choice(
    raw: dict[str, Any], name: str, allowed: tuple[str, ...], errors: list[str]
) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        for option in allowed:
            if option.lower() == value.strip().lower():
                return option
    errors.append(f"{name} '{value}' is not valid.")
    return None


def _date(raw: dict[str, Any], name: str, errors: list[str]) -> Any:
    if raw.get(name) in (None, ""):
        return None
    parsed = wire.parse_date(raw[name])
    if parsed is None:
        errors.append(f"{name} '{raw[name]}' is not a valid date.")
    return parsed


def prepare(call: Call, kind: Kind, raw: dict[str, Any], current: Document | None) -> Prepared:
    """Validate submitted fields for a new (`current` None) or existing document."""
    org = call.org
    errors: list[str] = []
    doc_type = _choice(raw, "Type", tuple(sorted(kind.types)), errors)
    if doc_type is None:
        doc_type = current.type if current else None
        if doc_type is None and "Type" not in raw:
            errors.append(f"{kind.label} Type must be specified.")
    elif current is not None and doc_type != current.type:
        errors.append(f"The Type of an existing {kind.label.lower()} cannot be changed.")
    sales = doc_type in kind.sales_types if doc_type else True

    status = _choice(raw, "Status", ("DRAFT", "SUBMITTED", "AUTHORISED", "PAID"), errors)
    if status is None:
        status = current.status if current else "DRAFT"
    if current is None and status not in CREATE_STATUSES:
        errors.append(f"{kind.label} Status '{status}' is not valid for a new document.")
    elif current is not None and status not in _NEXT_STATUSES.get(current.status, set()):
        errors.append(not_modifiable(kind))

    line_amount_types = _choice(raw, "LineAmountTypes", LINE_AMOUNT_TYPES, errors) or (
        current.line_amount_types if current else EXCLUSIVE
    )
    currency = raw.get("CurrencyCode") or (current.currency_code if current else org.base_currency)
    if isinstance(currency, str):
        currency = currency.strip().upper()
    kept = current is not None and currency == current.currency_code
    if not isinstance(currency, str) or not (kept or org.subscribes_to(currency)):
        errors.append(not_subscribed(currency))
        currency = org.base_currency
    date = _date(raw, "Date", errors) or (current.date if current else call.today())
    if current is None or date != current.date:
        periods.closed(org, date, errors)
    due_date = _date(raw, "DueDate", errors) if "DueDate" in raw else None
    if due_date is None and current is not None and "DueDate" not in raw:
        due_date = current.due_date
    reference = raw.get("Reference", current.reference if current else None)
    if reference is not None and not isinstance(reference, str):
        reference = str(reference)
    url = raw.get("Url", getattr(current, "url", None))
    if url is not None and (not isinstance(url, str) or "xero" in url.lower()):
        errors.append("The Url must be text and must not contain 'xero'.")
        url = None

    contact: ContactChoice | None = None
    if current is None or "Contact" in raw:
        contact = choose_contact(org, raw.get("Contact"), errors)

    number = raw.get(kind.number_field)
    if number is not None:
        if not isinstance(number, str):
            number = str(number)
        number = number.strip() or None
    if number is not None:
        if len(number) > 255:
            errors.append(f"{kind.number_field} must be 255 characters or fewer.")
        if doc_type in kind.unique_types:
            owner = numbers_of(org, kind).get(name_key(number))
            if owner is not None and (current is None or owner != doc_id(current)):
                errors.append(kind.duplicate_message)
    elif current is not None:
        number = current.number

    rules = LineRules(
        org=org,
        sales=sales,
        require_accounts=status != "DRAFT",
        line_amount_types=line_amount_types,
        unit_dp=call.unit_dp(),
        allow_discount=kind.allow_discount and doc_type == "ACCREC",
    )
    if "LineItems" in raw or current is None:
        lines, line_errors = build_lines(rules, raw.get("LineItems"))
    else:
        keep_tax = line_amount_types == current.line_amount_types
        lines, line_errors = build_lines(
            rules, [_line_as_raw(line, keep_tax) for line in current.lines]
        )
    errors.extend(line_errors)
    if status != "DRAFT" and not lines and not line_errors:
        errors.append(f"{kind.label} must have at least one line item to be {status}.")
    sub_total, total_tax, total = totals(lines, line_amount_types)
    if total < ZERO:
        errors.append(f"{kind.label} total cannot be negative.")
    if errors:
        raise ElementError(list(dict.fromkeys(errors)))
    return Prepared(
        type=doc_type or "",
        status=status,
        line_amount_types=line_amount_types,
        currency=currency,
        date=date,
        due_date=due_date,
        reference=reference,
        contact=contact,
        number=number,
        lines=lines,
        url=url,
        sub_total=sub_total,
        total_tax=total_tax,
        total=total,
    )


def _next_number(org: Organisation, kind: Kind) -> str:
    index = numbers_of(org, kind)
    while True:
        if kind is INVOICE:
            org.invoice_seq += 1
            candidate = f"{kind.prefix}{org.invoice_seq:04d}"
        else:
            org.credit_note_seq += 1
            candidate = f"{kind.prefix}{org.credit_note_seq:04d}"
        if name_key(candidate) not in index:
            return candidate


def _register(org: Organisation, kind: Kind, doc: Document) -> None:
    if doc.number and doc.type in kind.unique_types and doc.status != "DELETED":
        numbers_of(org, kind)[name_key(doc.number)] = doc_id(doc)


def _unregister(org: Organisation, kind: Kind, doc: Document) -> None:
    if doc.number:
        index = numbers_of(org, kind)
        if index.get(name_key(doc.number)) == doc_id(doc):
            del index[name_key(doc.number)]


def create(call: Call, kind: Kind, prepared: Prepared) -> Document:
    """Commit a prepared new document."""
    org = call.org
    contact = prepared.contact.materialise(org, call.now) if prepared.contact else None
    if contact is None:
        raise ElementError(["A Contact must be specified for this type of transaction."])
    number = prepared.number
    if number is None and prepared.type in kind.unique_types:
        number = _next_number(org, kind)
    common: dict[str, Any] = {
        "type": prepared.type,
        "number": number,
        "contact_id": contact.contact_id,
        "date": prepared.date,
        "status": prepared.status,
        "line_amount_types": prepared.line_amount_types,
        "currency_code": prepared.currency,
        "lines": prepared.lines,
        "reference": prepared.reference,
        "due_date": prepared.due_date,
        "sub_total": prepared.sub_total,
        "total_tax": prepared.total_tax,
        "total": prepared.total,
        "created_by": call.client_key,
        "created_at": call.now,
        "updated_at": call.now,
    }
    doc: Document
    if kind is INVOICE:
        doc = Invoice(invoice_id=str(uuid.uuid4()), url=prepared.url, **common)
        org.invoices[doc.invoice_id] = doc
    else:
        doc = CreditNote(credit_note_id=str(uuid.uuid4()), **common)
        org.credit_notes[doc.credit_note_id] = doc
    if prepared.type in kind.sales_types:
        contact.is_customer = True
    else:
        contact.is_supplier = True
    _register(org, kind, doc)
    settle(doc, call)
    return doc


def _apply(call: Call, kind: Kind, doc: Document, prepared: Prepared) -> None:
    org = call.org
    if prepared.contact is not None:
        doc.contact_id = prepared.contact.materialise(org, call.now).contact_id
    _unregister(org, kind, doc)
    doc.number = prepared.number
    doc.status = prepared.status
    doc.line_amount_types = prepared.line_amount_types
    doc.currency_code = prepared.currency
    doc.date = prepared.date
    doc.due_date = prepared.due_date
    doc.reference = prepared.reference
    doc.lines = prepared.lines
    doc.sub_total, doc.total_tax, doc.total = prepared.sub_total, prepared.total_tax, prepared.total
    if isinstance(doc, Invoice):
        doc.url = prepared.url
    doc.updated_at = call.now
    _register(org, kind, doc)
    settle(doc, call)


_MONEY_FIELDS = ("LineItems", "LineAmountTypes", "Contact", "CurrencyCode", "Type")


def update(call: Call, kind: Kind, doc: Document, raw: dict[str, Any]) -> None:
    """Apply an update element to an existing document (raises ElementError)."""
    status = raw.get("Status")
    target = status.strip().upper() if isinstance(status, str) else None
    if target in {"VOIDED", "DELETED"} and doc.status == target:
        return
    periods.refuse_closed(call.org, doc.date)
    if target == "VOIDED":
        allocated = any(not a.deleted for a in call.org.allocations_of(doc_id(doc)))
        if applied(doc) > ZERO or allocated:
            raise ElementError([kind.void_blocked])
        if doc.status not in {"AUTHORISED", "PAID"}:
            raise ElementError([not_modifiable(kind)])
        doc.status = "VOIDED"
        doc.fully_paid_on = None
        doc.updated_at = call.now
        return
    if target == "DELETED":
        if doc.status not in {"DRAFT", "SUBMITTED"}:
            raise ElementError([not_modifiable(kind)])
        doc.status = "DELETED"
        doc.updated_at = call.now
        _unregister(call.org, kind, doc)
        return
    if doc.status in {"VOIDED", "DELETED"}:
        raise ElementError([not_modifiable(kind)])
    if (applied(doc) > ZERO or doc.status == "PAID") and any(f in raw for f in _MONEY_FIELDS):
        raise ElementError([EDIT_BLOCKED])
    _apply(call, kind, doc, prepare(call, kind, raw, doc))
