"""The Payments endpoints (notes §1.5).

A payment applies to an AUTHORISED invoice (by InvoiceID or InvoiceNumber) or refunds an
AUTHORISED credit note, into an active account that is a BANK account or has
EnablePaymentsToAccount; its amount may not exceed what is outstanding ("Payment amount exceeds
the amount outstanding on this document"). The document becomes PAID at zero. Deleting a payment
(`POST /Payments/{id}` with Status DELETED) gives the money back to the document. A payment has
no currency of its own: it is in its document's (notes §1.7). Neither a payment dated on or
before the period lock date nor its deletion is allowed (§1.3).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from syncledger.sandbox import batch, documents, kinds, periods, wire
from syncledger.sandbox.call import Call
from syncledger.sandbox.errors import ApiError, ElementError
from syncledger.sandbox.exchange import Response, json_response, not_found
from syncledger.sandbox.kinds import CREDIT_NOTE, INVOICE
from syncledger.sandbox.model import Account, CreditNote, Document, Invoice, Payment
from syncledger.sandbox.money import ZERO, round_money
from syncledger.sandbox.query import select
from syncledger.sandbox.render import envelope
from syncledger.sandbox.transactions import payment_json
from syncledger.sandbox.where import BOOL, DATE, GUID, NUMBER, STRING, Field

OVERPAYMENT = "Payment amount exceeds the amount outstanding on this document"
_PAYMENT_TYPES = {
    "ACCREC": "ACCRECPAYMENT",
    "ACCPAY": "ACCPAYPAYMENT",
    "ACCRECCREDIT": "ARCREDITPAYMENT",
    "ACCPAYCREDIT": "APCREDITPAYMENT",
}


def _stamp(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC).replace(tzinfo=None)


FIELDS: dict[str, Field[Payment]] = {
    "paymentid": Field(GUID, lambda p: p.payment_id),
    "reference": Field(STRING, lambda p: p.reference),
    "status": Field(STRING, lambda p: p.status),
    "paymenttype": Field(STRING, lambda p: p.payment_type),
    "amount": Field(NUMBER, lambda p: p.amount),
    "date": Field(DATE, lambda p: p.date),
    "isreconciled": Field(BOOL, lambda p: p.is_reconciled),
    "updateddateutc": Field(DATE, lambda p: _stamp(p.updated_at)),
    "invoice.invoiceid": Field(GUID, lambda p: p.invoice_id),
    "creditnote.creditnoteid": Field(GUID, lambda p: p.credit_note_id),
    "account.accountid": Field(GUID, lambda p: p.account_id),
}


def _document(call: Call, raw: dict[str, Any], errors: list[str]) -> Document | None:
    invoice_ref = raw.get("Invoice")
    note_ref = raw.get("CreditNote")
    if isinstance(invoice_ref, dict) or isinstance(raw.get("InvoiceNumber"), str):
        ref = invoice_ref if isinstance(invoice_ref, dict) else {}
        ident = ref.get("InvoiceID") or ref.get("InvoiceNumber") or raw.get("InvoiceNumber")
        found = kinds.find(call.org, INVOICE, ident) if isinstance(ident, str) else None
        if found is None:
            errors.append(f"Invoice {ident} could not be found.")
        return found
    if isinstance(note_ref, dict) or isinstance(raw.get("CreditNoteNumber"), str):
        ref = note_ref if isinstance(note_ref, dict) else {}
        ident = (
            ref.get("CreditNoteID") or ref.get("CreditNoteNumber") or raw.get("CreditNoteNumber")
        )
        found = kinds.find(call.org, CREDIT_NOTE, ident) if isinstance(ident, str) else None
        if found is None:
            errors.append(f"Credit note {ident} could not be found.")
        return found
    errors.append("An Invoice or CreditNote must be specified for the payment.")
    return None


def _account(call: Call, raw: dict[str, Any], errors: list[str]) -> Account | None:
    ref = raw.get("Account")
    ref = ref if isinstance(ref, dict) else {}
    code = ref.get("Code") or raw.get("Code")
    account_id = ref.get("AccountID")
    account: Account | None = None
    if isinstance(account_id, str) and account_id.strip():
        account = call.org.accounts.get(account_id.strip().lower())
        label = account_id
    elif isinstance(code, str) and code.strip():
        account = call.org.account_by_code(code)
        label = code
    else:
        errors.append("An Account must be specified for the payment.")
        return None
    if account is None:
        errors.append(f"Account {label} could not be found.")
        return None
    if account.status != "ACTIVE":
        errors.append(f"Account code '{account.code}' has been archived, or has been deleted.")
        return None
    if account.type != "BANK" and not account.enable_payments:
        errors.append(
            f"Payments cannot be made to account '{account.code}': the account must be of type "
            "BANK or have EnablePaymentsToAccount set to true."
        )
        return None
    return account


def create_payment(call: Call, raw: dict[str, Any]) -> Payment:
    """Validate and record one payment (raises ElementError)."""
    errors: list[str] = []
    doc = _document(call, raw, errors)
    account = _account(call, raw, errors)
    amount = wire.to_decimal(raw.get("Amount"))
    if amount is None:
        errors.append("Amount must be specified as a number.")
    elif amount <= ZERO:
        errors.append("Payment amount must be greater than zero.")
    else:
        amount = round_money(amount)
    date = wire.parse_date(raw["Date"]) if raw.get("Date") is not None else call.today()
    if date is None:
        errors.append(f"Date '{raw.get('Date')}' is not a valid date.")
    periods.closed(call.org, date, errors)
    if doc is not None:
        if doc.status != "AUTHORISED":
            errors.append(
                f"Payments can only be made against AUTHORISED documents; this one is {doc.status}."
            )
        elif amount is not None and amount > ZERO and amount > documents.balance(doc):
            errors.append(OVERPAYMENT)
    reference = raw.get("Reference")
    if errors or doc is None or account is None or amount is None or date is None:
        raise ElementError(list(dict.fromkeys(errors)) or ["The payment is not valid."])
    payment = Payment(
        payment_id=str(uuid.uuid4()),
        account_id=account.account_id,
        amount=amount,
        date=date,
        payment_type=_PAYMENT_TYPES.get(doc.type, "ACCRECPAYMENT"),
        invoice_id=doc.invoice_id if isinstance(doc, Invoice) else None,
        credit_note_id=doc.credit_note_id if isinstance(doc, CreditNote) else None,
        reference=str(reference) if reference is not None else None,
        is_reconciled=raw.get("IsReconciled") is True,
        created_by=call.client_key,
        created_at=call.now,
        updated_at=call.now,
    )
    call.org.add_payment(payment)
    doc.amount_paid += amount
    doc.updated_at = call.now
    documents.settle(doc, call)
    return payment


def delete_payment(call: Call, payment: Payment) -> None:
    """Delete a payment and restore the document's balance (raises ElementError)."""
    if payment.status == "DELETED":
        raise ElementError(["Payment not of valid status for modification"])
    periods.refuse_closed(call.org, payment.date)
    doc: Document | None = None
    if payment.invoice_id is not None:
        doc = call.org.invoices.get(payment.invoice_id)
    elif payment.credit_note_id is not None:
        doc = call.org.credit_notes.get(payment.credit_note_id)
    payment.status = "DELETED"
    payment.updated_at = call.now
    if doc is not None:
        doc.amount_paid -= payment.amount
        doc.updated_at = call.now
        documents.unsettle(doc)


def list_payments(call: Call, args: Sequence[str]) -> Response:
    """GET /Payments."""
    chosen = select(
        call, list(call.org.payments.values()), FIELDS, "Payment", modified=lambda p: p.updated_at
    )
    rendered = [payment_json(call.org, p) for p in chosen.items]
    extra = {"pagination": chosen.pagination} if chosen.paged else {}
    return json_response(200, envelope("Payments", rendered, **extra))


def _find(call: Call, ident: str) -> Payment:
    payment = call.org.payments.get(ident.strip().lower())
    if payment is None:
        raise ApiError(not_found())
    return payment


def get_payment(call: Call, args: Sequence[str]) -> Response:
    """GET /Payments/{PaymentID}."""
    return json_response(200, envelope("Payments", [payment_json(call.org, _find(call, args[0]))]))


def put_payments(call: Call, args: Sequence[str]) -> Response:
    """PUT /Payments (one or a batch)."""
    items = batch.elements(call, "Payments")
    return batch.run(
        call,
        "Payments",
        "PaymentID",
        items,
        lambda raw: payment_json(call.org, create_payment(call, raw)),
    )


def post_payments(call: Call, args: Sequence[str]) -> Response:
    """POST /Payments: create one payment (Xero's createPayment)."""
    return put_payments(call, args)


def post_payment(call: Call, args: Sequence[str]) -> Response:
    """POST /Payments/{PaymentID} with Status DELETED: delete the payment."""
    payment = _find(call, args[0])
    raw = batch.one_element(call, "Payments")

    def process(element: dict[str, Any]) -> dict[str, Any]:
        status = element.get("Status")
        if not isinstance(status, str) or status.strip().upper() != "DELETED":
            raise ElementError(["Only Status DELETED can be set on an existing payment."])
        delete_payment(call, payment)
        return payment_json(call.org, payment)

    return batch.single(call, "Payments", "PaymentID", raw, process, payment.payment_id)
