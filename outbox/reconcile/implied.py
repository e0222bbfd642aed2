"""The ledger's side of a reconciliation: ``implied_invoice`` and ``implied_payment`` fold one
document's events into what the ledger expects Xero to hold for it: the Xero ids it recorded, the
lines it sent (so the total is computed as Xero computes it, rounding each line's tax), the
payments and the credit allocated."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from domain.documents import Document, Invoice, Payment
from domain.mapping import credit_note_number, line_amount_types
from domain.opensolar import InvoiceFields, PaymentFields
from domain.vocabulary import Cancellation, DocumentKind, Operation
from outbox.reconcile.records import XeroSnapshot, decimal, xero_id

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def round_money(value: Decimal) -> Decimal:
    """Half away from zero to cents, as Xero rounds."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class SentLine:
    """A line as it was sent to Xero."""

    quantity: Decimal
    unit_amount: Decimal
    tax_type: str | None
    account: str | None

    @property
    def amount(self) -> Decimal:
        """Xero's LineAmount: quantity times unit amount, rounded to cents."""
        return round_money(self.quantity * self.unit_amount)


def expected_total(
    lines: Sequence[SentLine],
    amount_types: str,
    tax_rates: Mapping[str, Decimal] | None,
    account_tax: Mapping[str, str] | None,
) -> Decimal | None:
    """The Total Xero computes for these lines: tax per line, rounded per line (None when a
    tax-exclusive line's rate is unknown)."""
    amounts = sum((line.amount for line in lines), ZERO)
    if amount_types in ("Inclusive", "NoTax"):
        return amounts
    if tax_rates is None:
        return None
    tax = ZERO
    for line in lines:
        tax_type = line.tax_type
        if tax_type is None and line.account is not None and account_tax is not None:
            tax_type = account_tax.get(line.account.casefold())
        if tax_type is None:
            return None
        rate = tax_rates.get(tax_type.upper())
        if rate is None:
            return None
        tax += round_money(line.amount * rate / 100)
    return amounts + tax


@dataclass
class LedgerInvoice:
    """What the ledger implies Xero holds for one invoice (and its credit note)."""

    aggregate_id: str
    document: str
    number: str
    xero_id: str | None = None
    cancelled: bool = False
    lines: tuple[SentLine, ...] | None = None
    amount_types: str | None = None
    known_total: Decimal | None = None
    credit_note_id: str | None = None
    credit_note_number: str | None = None
    allocated: Decimal | None = None
    gone_in_xero: str | None = None
    """VOIDED or DELETED when the ledger itself found or made it so (a cancellation that
    followed Xero's state): no difference then."""

    def total(self, snapshot: XeroSnapshot) -> Decimal | None:
        """The total the ledger implies, or None when it cannot be known."""
        if self.lines is not None and self.amount_types is not None:
            computed = expected_total(
                self.lines, self.amount_types, snapshot.tax_rates, snapshot.account_tax
            )
            if computed is not None:
                return computed
        return self.known_total


@dataclass
class LedgerPayment:
    """What the ledger implies Xero holds for one payment."""

    aggregate_id: str
    document: str
    opensolar_id: str
    xero_id: str | None = None
    amount: Decimal | None = None
    withdrawn: bool = False
    deleted_ids: tuple[str, ...] = ()
    """Xero payments the ledger deleted (after OpenSolar changed or withdrew the payment)."""

    @property
    def expected_live(self) -> bool:
        """True when the ledger expects the payment to stand in Xero."""
        return self.xero_id is not None and not self.withdrawn


def _ok_calls(event: Any, operation: str) -> list[Mapping[str, Any]]:
    return [
        c
        for c in getattr(event, "calls", None) or []
        if isinstance(c, Mapping) and c.get("operation") == operation and c.get("outcome") == "ok"
    ]


def _ok_requests(event: Any, operation: str) -> list[Mapping[str, Any]]:
    return [call.get("request") or {} for call in _ok_calls(event, operation)]


def _response_item(
    call: Mapping[str, Any], collection: str, id_field: str, wanted: str
) -> Mapping[str, Any] | None:
    response = call.get("response") or {}
    for item in response.get(collection) or [] if isinstance(response, Mapping) else []:
        if isinstance(item, Mapping) and xero_id(item.get(id_field)) == wanted.lower():
            return item
    return None


def _sent_lines(summary: Mapping[str, Any]) -> tuple[SentLine, ...] | None:
    lines: list[SentLine] = []
    for line in summary.get("lines") or []:
        if not isinstance(line, Mapping):
            return None
        quantity = decimal(line.get("quantity"))
        unit = decimal(line.get("unit_amount"))
        if quantity is None or unit is None:
            return None
        tax_type = line.get("tax_type")
        account = line.get("account")
        lines.append(
            SentLine(
                quantity,
                unit,
                str(tax_type) if tax_type else None,
                str(account) if account else None,
            )
        )
    return tuple(lines)


def _fields_total(fields: InvoiceFields) -> Decimal | None:
    """A total that does not depend on tax rates: only when amounts include tax."""
    return fields.total if fields.amounts_include_tax else None


def _sent_fields(result: LedgerInvoice, sent: InvoiceFields | None) -> None:
    if sent is not None:
        result.amount_types = line_amount_types(sent)
        result.known_total = _fields_total(sent)


def _lines_sent(result: LedgerInvoice, event: Any, operation: str, default: str | None) -> None:
    """The lines of the ledger's successful ``operation`` calls (``default`` None: the amount
    types known so far stand when a call names none)."""
    for request in _ok_requests(event, operation):
        lines = _sent_lines(request)
        if lines is not None:
            result.lines = lines
            fallback = default if default is not None else result.amount_types
            result.amount_types = str(request.get("line_amount_types") or fallback)


def implied_invoice(events: Iterable[Any]) -> LedgerInvoice | None:
    """Fold an invoice's events into what the ledger implies Xero holds for it."""
    result: LedgerInvoice | None = None
    for event in events:
        if isinstance(event, Document.Received):
            document = f"{DocumentKind.INVOICE}:{event.opensolar_id}"
            result = LedgerInvoice(str(event.originator_id), document, document)
            continue
        if result is None:
            continue
        fields = getattr(getattr(event, "change", None), "fields", None)
        if isinstance(fields, InvoiceFields) and result.xero_id is None:
            result.number = fields.invoice_number
        if isinstance(event, Invoice.Cancelled):
            result.cancelled = True
        if isinstance(event, Document.SyncSucceeded):
            _succeeded_invoice(result, event)
    return result


def _succeeded_invoice(result: LedgerInvoice, event: Any) -> None:
    sent = event.sent if isinstance(event.sent, InvoiceFields) else None
    facts = getattr(event, "xero", None) or {}
    if event.operation == Operation.INVOICE_UPDATE:
        _sent_fields(result, sent)
        _lines_sent(result, event, "update_invoice", None)
        if facts.get("total") is not None:
            result.known_total = Decimal(str(facts["total"]))
        return
    cancellation = facts.get("cancellation", Cancellation.CREDITED)
    if event.operation == Operation.CREDIT_NOTE and cancellation != Cancellation.CREDITED:
        gone = cancellation == Cancellation.VOIDED_IN_XERO
        result.gone_in_xero = "VOIDED" if gone else "DELETED"
        return
    if event.operation == Operation.INVOICE:
        _succeeded_push(result, event, sent, facts)
    elif event.operation == Operation.CREDIT_NOTE:
        _succeeded_credit_note(result, event, sent, facts)


def _succeeded_push(
    result: LedgerInvoice, event: Any, sent: InvoiceFields | None, facts: Mapping[str, Any]
) -> None:
    if facts.get("number"):
        result.number = str(facts["number"])
    result.xero_id = str(event.xero_id).lower()
    if sent is not None:
        result.number = sent.invoice_number
    _sent_fields(result, sent)
    _lines_sent(result, event, "create_invoice", "Exclusive")
    # The total Xero reported when the invoice was created (or adopted) stands in when the
    # lines' total cannot be computed (a tax rate unknown).
    if facts.get("total") is not None:
        result.known_total = Decimal(str(facts["total"]))
        return
    for name in ("create_invoice", "find_invoice", "get_invoice"):
        for call in _ok_calls(event, name):
            item = _response_item(call, "Invoices", "InvoiceID", result.xero_id)
            total = decimal(item.get("Total")) if item else None
            if total is not None:
                result.known_total = total
                return


def _succeeded_credit_note(
    result: LedgerInvoice, event: Any, sent: InvoiceFields | None, facts: Mapping[str, Any]
) -> None:
    result.credit_note_id = str(event.xero_id).lower()
    if sent is not None:
        result.credit_note_number = credit_note_number(sent.invoice_number)
    for request in _ok_requests(event, "create_credit_note"):
        if request.get("number"):
            result.credit_note_number = str(request["number"])
    if facts.get("credit_note_number"):
        result.credit_note_number = str(facts["credit_note_number"])
    if facts.get("allocated") is not None:
        result.allocated = Decimal(str(facts["allocated"]))
        return
    for request in _ok_requests(event, "allocate_credit_note"):
        amount = decimal(request.get("amount"))
        if amount is not None:
            result.allocated = (result.allocated or ZERO) + amount


def implied_payment(events: Iterable[Any]) -> LedgerPayment | None:
    """Fold a payment's events into what the ledger implies Xero holds for it."""
    result: LedgerPayment | None = None
    for event in events:
        if isinstance(event, Document.Received):
            result = LedgerPayment(
                str(event.originator_id),
                f"{DocumentKind.PAYMENT}:{event.opensolar_id}",
                str(event.opensolar_id),
            )
            continue
        if result is None:
            continue
        fields = getattr(getattr(event, "change", None), "fields", None)
        if isinstance(fields, PaymentFields) and result.xero_id is None:
            result.amount = fields.amount
        succeeded = isinstance(event, Document.SyncSucceeded)
        if succeeded and event.operation == Operation.PAYMENT_DELETE:
            result.deleted_ids = (*result.deleted_ids, str(event.xero_id).lower())
            result.xero_id = None
            result.withdrawn = False
        elif succeeded:
            result.xero_id = str(event.xero_id).lower()
            result.withdrawn = False
            if isinstance(event.sent, PaymentFields):
                result.amount = event.sent.amount
        if isinstance(event, Payment.Voided) and result.xero_id is not None:
            result.withdrawn = True
        if isinstance(event, Payment.Paid):
            result.withdrawn = False
    return result
