"""The Invoices endpoints (notes §1.2, §1.3).

PUT creates only (a reused ACCREC number is "Invoice # must be unique."), POST on the collection
updates the invoice named by InvoiceID or number or else creates, POST on one invoice edits,
voids or deletes it. GET lists with Xero's filters (`IDs`, `InvoiceNumbers`, `ContactIDs`,
`Statuses`, `where`, `order`, `page`) or fetches one by InvoiceID or InvoiceNumber; every invoice
carries its Payments and allocated CreditNotes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from syncledger.sandbox import batch, documents, kinds
from syncledger.sandbox.call import Call
from syncledger.sandbox.errors import ApiError, ElementError
from syncledger.sandbox.exchange import Response, json_response, not_found
from syncledger.sandbox.kinds import INVOICE
from syncledger.sandbox.model import Invoice, name_key
from syncledger.sandbox.query import select
from syncledger.sandbox.render import envelope
from syncledger.sandbox.transactions import invoice_json
from syncledger.sandbox.where import BOOL, DATE, GUID, NUMBER, STRING, Field


def _stamp(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC).replace(tzinfo=None)


FIELDS: dict[str, Field[Invoice]] = {
    "invoiceid": Field(GUID, lambda i: i.invoice_id),
    "type": Field(STRING, lambda i: i.type),
    "invoicenumber": Field(STRING, lambda i: i.number),
    "reference": Field(STRING, lambda i: i.reference),
    "status": Field(STRING, lambda i: i.status),
    "contact.contactid": Field(GUID, lambda i: i.contact_id),
    "contactid": Field(GUID, lambda i: i.contact_id),
    "date": Field(DATE, lambda i: i.date),
    "duedate": Field(DATE, lambda i: i.due_date),
    "fullypaidondate": Field(DATE, lambda i: i.fully_paid_on),
    "updateddateutc": Field(DATE, lambda i: _stamp(i.updated_at)),
    "amountdue": Field(NUMBER, lambda i: i.amount_due),
    "amountpaid": Field(NUMBER, lambda i: i.amount_paid),
    "amountcredited": Field(NUMBER, lambda i: i.amount_credited),
    "subtotal": Field(NUMBER, lambda i: i.sub_total),
    "totaltax": Field(NUMBER, lambda i: i.total_tax),
    "total": Field(NUMBER, lambda i: i.total),
    "currencycode": Field(STRING, lambda i: i.currency_code),
    "lineamounttypes": Field(STRING, lambda i: i.line_amount_types),
    "senttocontact": Field(BOOL, lambda i: i.sent_to_contact),
    "hasattachments": Field(BOOL, lambda _i: False),
}


def _render(call: Call, invoice: Invoice, *, lines: bool = True) -> dict[str, Any]:
    return invoice_json(call.org, invoice, lines=lines, unit_dp=call.unit_dp())


def list_invoices(call: Call, args: Sequence[str]) -> Response:
    """GET /Invoices."""
    request = call.request
    items = list(call.org.invoices.values())
    ids = {value.lower() for value in request.list_param("IDs")}
    if ids:
        items = [i for i in items if i.invoice_id in ids]
    numbers = {name_key(value) for value in request.list_param("InvoiceNumbers")}
    if numbers:
        items = [i for i in items if i.number is not None and name_key(i.number) in numbers]
    contacts = {value.lower() for value in request.list_param("ContactIDs")}
    if contacts:
        items = [i for i in items if i.contact_id in contacts]
    statuses = {value.upper() for value in request.list_param("Statuses")}
    if statuses:
        items = [i for i in items if i.status in statuses]
    if request.flag("createdByMyApp") is True:
        items = [i for i in items if i.created_by == call.client_key]
    term = (request.param("searchTerm") or "").strip().casefold()
    if term:
        items = [
            i
            for i in items
            if term in (i.number or "").casefold() or term in (i.reference or "").casefold()
        ]
    chosen = select(call, items, FIELDS, "Invoice", modified=lambda i: i.updated_at)
    # Xero shows line items on lists only when paging (spec: getInvoices `page`).
    lines = chosen.paged and request.flag("summaryOnly") is not True
    rendered = [_render(call, invoice, lines=lines) for invoice in chosen.items]
    extra = {"pagination": chosen.pagination} if chosen.paged else {}
    return json_response(200, envelope("Invoices", rendered, **extra))


def _find(call: Call, ident: str) -> Invoice:
    found = kinds.find(call.org, INVOICE, ident)
    if not isinstance(found, Invoice):
        raise ApiError(not_found())
    return found


def get_invoice(call: Call, args: Sequence[str]) -> Response:
    """GET /Invoices/{InvoiceID or InvoiceNumber}."""
    return json_response(200, envelope("Invoices", [_render(call, _find(call, args[0]))]))


def _create(call: Call, raw: dict[str, Any]) -> dict[str, Any]:
    prepared = documents.prepare(call, INVOICE, raw, None)
    invoice = documents.create(call, INVOICE, prepared)
    if not isinstance(invoice, Invoice):
        raise ElementError(["The invoice could not be created."])
    return _render(call, invoice)


def put_invoices(call: Call, args: Sequence[str]) -> Response:
    """PUT /Invoices: create only."""
    items = batch.elements(call, "Invoices")
    return batch.run(call, "Invoices", "InvoiceID", items, lambda raw: _create(call, raw))


def post_invoices(call: Call, args: Sequence[str]) -> Response:
    """POST /Invoices: update the invoice named by InvoiceID or number, else create."""
    items = batch.elements(call, "Invoices")

    def process(raw: dict[str, Any]) -> dict[str, Any]:
        invoice_id = raw.get("InvoiceID")
        existing = None
        if isinstance(invoice_id, str) and invoice_id.strip():
            existing = kinds.find(call.org, INVOICE, invoice_id)
            if existing is None:
                raise ElementError([f"Invoice with ID {invoice_id} could not be found."])
        elif isinstance(raw.get("InvoiceNumber"), str) and raw.get("Type", "ACCREC") == "ACCREC":
            owner = call.org.invoice_numbers.get(name_key(raw["InvoiceNumber"]))
            existing = call.org.invoices.get(owner) if owner else None
        if not isinstance(existing, Invoice):
            return _create(call, raw)
        documents.update(call, INVOICE, existing, raw)
        return _render(call, existing)

    return batch.run(call, "Invoices", "InvoiceID", items, process)


def post_invoice(call: Call, args: Sequence[str]) -> Response:
    """POST /Invoices/{InvoiceID}: edit, void or delete one invoice."""
    invoice = _find(call, args[0])
    raw = batch.one_element(call, "Invoices")

    def process(element: dict[str, Any]) -> dict[str, Any]:
        documents.update(call, INVOICE, invoice, element)
        return _render(call, invoice)

    return batch.single(call, "Invoices", "InvoiceID", raw, process, invoice.invoice_id)
