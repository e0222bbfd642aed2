"""The CreditNotes and Allocations endpoints (notes §1.4).

Credit notes share the invoice rules (validation, per-line tax, unique ACCRECCREDIT numbers) and
add RemainingCredit. An allocation applies credit to an invoice of the same contact and ledger
side: the credit note must be AUTHORISED, the invoice AUTHORISED, and the amount may exceed
neither the RemainingCredit nor the invoice's AmountDue. Allocating raises the invoice's
AmountCredited, and either document becomes PAID when its balance reaches zero. An allocation
dated on or before the period lock date can be neither made nor deleted (notes §1.3).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from syncledger.sandbox import batch, documents, kinds, periods, wire
from syncledger.sandbox.call import Call
from syncledger.sandbox.errors import ApiError, ElementError
from syncledger.sandbox.exchange import Response, json_response, not_found, validation_error
from syncledger.sandbox.kinds import CREDIT_NOTE, INVOICE
from syncledger.sandbox.model import Allocation, CreditNote, Invoice, name_key
from syncledger.sandbox.money import ZERO, round_money
from syncledger.sandbox.query import select
from syncledger.sandbox.render import envelope
from syncledger.sandbox.transactions import allocation_json, credit_note_json
from syncledger.sandbox.where import DATE, GUID, NUMBER, STRING, Field

_PAIRS = {"ACCRECCREDIT": "ACCREC", "ACCPAYCREDIT": "ACCPAY"}


def _stamp(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC).replace(tzinfo=None)


FIELDS: dict[str, Field[CreditNote]] = {
    "creditnoteid": Field(GUID, lambda c: c.credit_note_id),
    "creditnotenumber": Field(STRING, lambda c: c.number),
    "type": Field(STRING, lambda c: c.type),
    "reference": Field(STRING, lambda c: c.reference),
    "status": Field(STRING, lambda c: c.status),
    "contact.contactid": Field(GUID, lambda c: c.contact_id),
    "contactid": Field(GUID, lambda c: c.contact_id),
    "date": Field(DATE, lambda c: c.date),
    "updateddateutc": Field(DATE, lambda c: _stamp(c.updated_at)),
    "remainingcredit": Field(NUMBER, lambda c: c.remaining_credit),
    "subtotal": Field(NUMBER, lambda c: c.sub_total),
    "totaltax": Field(NUMBER, lambda c: c.total_tax),
    "total": Field(NUMBER, lambda c: c.total),
    "currencycode": Field(STRING, lambda c: c.currency_code),
}


def _render(call: Call, note: CreditNote, *, lines: bool = True) -> dict[str, Any]:
    return credit_note_json(call.org, note, lines=lines, unit_dp=call.unit_dp())


def _find(call: Call, ident: str) -> CreditNote:
    found = kinds.find(call.org, CREDIT_NOTE, ident)
    if not isinstance(found, CreditNote):
        raise ApiError(not_found())
    return found


def list_credit_notes(call: Call, args: Sequence[str]) -> Response:
    """GET /CreditNotes."""
    items = list(call.org.credit_notes.values())
    chosen = select(call, items, FIELDS, "CreditNote", modified=lambda c: c.updated_at)
    lines = chosen.paged and call.request.flag("summaryOnly") is not True
    rendered = [_render(call, note, lines=lines) for note in chosen.items]
    extra = {"pagination": chosen.pagination} if chosen.paged else {}
    return json_response(200, envelope("CreditNotes", rendered, **extra))


def get_credit_note(call: Call, args: Sequence[str]) -> Response:
    """GET /CreditNotes/{CreditNoteID or CreditNoteNumber}."""
    return json_response(200, envelope("CreditNotes", [_render(call, _find(call, args[0]))]))


def _create(call: Call, raw: dict[str, Any]) -> dict[str, Any]:
    prepared = documents.prepare(call, CREDIT_NOTE, raw, None)
    note = documents.create(call, CREDIT_NOTE, prepared)
    if not isinstance(note, CreditNote):
        raise ElementError(["The credit note could not be created."])
    return _render(call, note)


def put_credit_notes(call: Call, args: Sequence[str]) -> Response:
    """PUT /CreditNotes: create only."""
    items = batch.elements(call, "CreditNotes")
    return batch.run(call, "CreditNotes", "CreditNoteID", items, lambda raw: _create(call, raw))


def post_credit_notes(call: Call, args: Sequence[str]) -> Response:
    """POST /CreditNotes: update the credit note named by id or number, else create."""
    items = batch.elements(call, "CreditNotes")

    def process(raw: dict[str, Any]) -> dict[str, Any]:
        ident = raw.get("CreditNoteID")
        existing = None
        if isinstance(ident, str) and ident.strip():
            existing = kinds.find(call.org, CREDIT_NOTE, ident)
            if existing is None:
                raise ElementError([f"Credit note with ID {ident} could not be found."])
        elif isinstance(raw.get("CreditNoteNumber"), str):
            owner = call.org.credit_note_numbers.get(name_key(raw["CreditNoteNumber"]))
            existing = call.org.credit_notes.get(owner) if owner else None
        if not isinstance(existing, CreditNote):
            return _create(call, raw)
        documents.update(call, CREDIT_NOTE, existing, raw)
        return _render(call, existing)

    return batch.run(call, "CreditNotes", "CreditNoteID", items, process)


def post_credit_note(call: Call, args: Sequence[str]) -> Response:
    """POST /CreditNotes/{CreditNoteID}: edit, void or delete one credit note."""
    note = _find(call, args[0])
    raw = batch.one_element(call, "CreditNotes")

    def process(element: dict[str, Any]) -> dict[str, Any]:
        documents.update(call, CREDIT_NOTE, note, element)
        return _render(call, note)

    return batch.single(call, "CreditNotes", "CreditNoteID", raw, process, note.credit_note_id)


def _target_invoice(call: Call, raw: dict[str, Any], errors: list[str]) -> Invoice | None:
    ref = raw.get("Invoice")
    if not isinstance(ref, dict):
        errors.append("An Invoice must be specified for the allocation.")
        return None
    ident = ref.get("InvoiceID") or ref.get("InvoiceNumber")
    if not isinstance(ident, str) or not ident.strip():
        errors.append("An Invoice must be specified for the allocation.")
        return None
    invoice = kinds.find(call.org, INVOICE, ident)
    if not isinstance(invoice, Invoice):
        errors.append(f"Invoice {ident} could not be found.")
        return None
    return invoice


def allocate(call: Call, note: CreditNote, raw: dict[str, Any]) -> Allocation:
    """Apply part of a credit note to an invoice (raises ElementError)."""
    errors: list[str] = []
    if note.status != "AUTHORISED":
        errors.append(
            f"Only AUTHORISED credit notes can be allocated; this credit note is {note.status}."
        )
    invoice = _target_invoice(call, raw, errors)
    amount = wire.to_decimal(raw.get("Amount"))
    if amount is None:
        errors.append("Amount must be specified as a number.")
    elif amount <= ZERO:
        errors.append("Amount must be greater than zero.")
    date = wire.parse_date(raw["Date"]) if raw.get("Date") is not None else call.today()
    if date is None:
        errors.append(f"Date '{raw.get('Date')}' is not a valid date.")
    periods.closed(call.org, date, errors)
    if invoice is not None:
        if invoice.status != "AUTHORISED":
            errors.append(
                "Credit can only be allocated to AUTHORISED invoices; "
                f"invoice {invoice.number or invoice.invoice_id} is {invoice.status}."
            )
        if _PAIRS.get(note.type) != invoice.type:
            errors.append(f"A {note.type} credit note cannot be allocated to an {invoice.type}.")
        if invoice.contact_id != note.contact_id:
            errors.append("The credit note and the invoice must be for the same contact.")
        if invoice.currency_code != note.currency_code:
            errors.append("The credit note and the invoice must be in the same currency.")
    if amount is not None and amount > ZERO:
        amount = round_money(amount)
        if note.status == "AUTHORISED" and amount > note.remaining_credit:
            errors.append(
                f"The amount being allocated ({wire.decimal_text(amount)}) exceeds the "
                f"remaining credit ({wire.decimal_text(note.remaining_credit)}) on the credit note."
            )
        if invoice is not None and invoice.status == "AUTHORISED" and amount > invoice.amount_due:
            errors.append(
                f"The amount being allocated ({wire.decimal_text(amount)}) exceeds the amount "
                f"due ({wire.decimal_text(invoice.amount_due)}) on the invoice."
            )
    if errors or invoice is None or amount is None or date is None:
        raise ElementError(list(dict.fromkeys(errors)) or ["The allocation is not valid."])
    allocation = Allocation(
        allocation_id=str(uuid.uuid4()),
        credit_note_id=note.credit_note_id,
        invoice_id=invoice.invoice_id,
        amount=amount,
        date=date,
        created_at=call.now,
    )
    call.org.add_allocation(allocation)
    _shift(call, note, invoice, amount)
    return allocation


def _shift(call: Call, note: CreditNote, invoice: Invoice, amount: Decimal) -> None:
    note.amount_allocated += amount
    invoice.amount_credited += amount
    note.updated_at = invoice.updated_at = call.now
    documents.settle(note, call)
    documents.settle(invoice, call)
    documents.unsettle(note)
    documents.unsettle(invoice)


def put_allocations(call: Call, args: Sequence[str]) -> Response:
    """PUT /CreditNotes/{CreditNoteID}/Allocations."""
    note = _find(call, args[0])
    items = batch.elements(call, "Allocations")

    def process(raw: dict[str, Any]) -> dict[str, Any]:
        return allocation_json(call.org, allocate(call, note, raw))

    return batch.run(call, "Allocations", "AllocationID", items, process)


def delete_allocation(call: Call, args: Sequence[str]) -> Response:
    """DELETE /CreditNotes/{CreditNoteID}/Allocations/{AllocationID}: undo an allocation."""
    note = _find(call, args[0])
    allocation = call.org.allocations.get(args[1].lower())
    if allocation is None or allocation.credit_note_id != note.credit_note_id:
        raise ApiError(not_found())
    if not allocation.deleted:
        errors: list[str] = []
        periods.closed(call.org, allocation.date, errors)
        if errors:
            failed = {"AllocationID": allocation.allocation_id}
            return validation_error([batch.failed_element(failed, "AllocationID", errors)])
        invoice = call.org.invoices[allocation.invoice_id]
        allocation.deleted = True
        _shift(call, note, invoice, -allocation.amount)
    return json_response(200, allocation_json(call.org, allocation))
