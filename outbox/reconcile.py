"""Reconciliation with Xero: what Xero holds for one organisation, what the ledger implies it
should hold, and a pure comparison of the two.

``XeroReader`` reads the tenant's sales invoices, credit notes and payments page by page through a
``XeroClient`` (so tokens, timeouts and error classification are the client's), honouring 429
``Retry-After`` and retrying transient failures a few times. ``implied_invoice`` and
``implied_payment`` fold one document's events into what the ledger expects in Xero: the Xero ids
it recorded, the lines it sent (so the total is computed as Xero computes it, rounding each line's
tax), the payments and the credit allocated. ``Comparison`` checks one invoice and its payments at
a time against the snapshot, then the Xero records nobody claimed, and says what differs:

    missing             the ledger holds it Synced; Xero does not have it
    voided / deleted    an invoice or credit note voided or deleted by hand in Xero
    removed             a payment deleted by hand in Xero
    duplicate           a second record for one document (same number, same contact, total and
                        reference, or a second payment naming the same OpenSolar payment)
    unexpected          a record syncledger created that the ledger no longer expects
    total_differs       a total (or a payment's amount) differs from what the ledger sent
    amount_due_differs  an invoice's amount due differs from total - payments - credit allocated
    unexplained         a credit note or payment no document explains: a payment on an invoice
                        the ledger holds, or a credit note for one of its invoices' contacts

Errors: ``ReconcileError`` when Xero cannot be read completely (a limit that would take too long
to wait for, a refused token, a persistent failure); ``XeroError``s are translated here.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from domain.documents import (
    OP_CREDIT_NOTE,
    OP_INVOICE,
    OP_INVOICE_UPDATE,
    OP_PAYMENT_DELETE,
    Document,
    Invoice,
    Payment,
)
from domain.mapping import credit_note_number, line_amount_types
from domain.opensolar import InvoiceFields, PaymentFields
from outbox.xero import (
    XeroClient,
    XeroError,
    XeroNotFoundError,
    XeroRateLimitError,
    XeroTransientError,
)

MISSING = "missing"
VOIDED = "voided"
DELETED = "deleted"
REMOVED = "removed"
DUPLICATE = "duplicate"
UNEXPECTED = "unexpected"
TOTAL_DIFFERS = "total_differs"
AMOUNT_DUE_DIFFERS = "amount_due_differs"
UNEXPLAINED = "unexplained"
CATEGORIES: tuple[str, ...] = (
    MISSING,
    VOIDED,
    DELETED,
    REMOVED,
    DUPLICATE,
    UNEXPECTED,
    TOTAL_DIFFERS,
    AMOUNT_DUE_DIFFERS,
    UNEXPLAINED,
)

INVOICE = "invoice"
CREDIT_NOTE = "credit_note"
PAYMENT = "payment"
GONE = frozenset({"VOIDED", "DELETED"})
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
_REFERENCE = re.compile(r"\(?OpenSolar payment ([^\s()]+)\)?\s*$")
_MS_DATE = re.compile(r"/Date\((-?\d+)")


class ReconcileError(Exception):
    """What Xero holds could not be read completely."""


# Xero's records ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class XeroInvoice:
    """A sales invoice as Xero holds it."""

    xero_id: str
    number: str
    status: str
    contact_id: str | None
    total: Decimal | None
    amount_due: Decimal | None
    reference: str
    date: date | None


@dataclass(frozen=True)
class XeroCreditNote:
    """A sales credit note as Xero holds it."""

    xero_id: str
    number: str
    status: str
    total: Decimal | None
    remaining: Decimal | None
    date: date | None
    contact_id: str | None = None


@dataclass(frozen=True)
class XeroPayment:
    """A payment on a sales invoice as Xero holds it."""

    xero_id: str
    invoice_id: str | None
    amount: Decimal | None
    status: str
    reference: str
    date: date | None

    @property
    def opensolar_payment(self) -> str | None:
        """The OpenSolar payment id our Reference names, if it names one."""
        found = _REFERENCE.search(self.reference)
        return found.group(1) if found else None


XeroRecord = XeroInvoice | XeroCreditNote | XeroPayment


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def xero_date(value: Any) -> date | None:
    """A Xero date: ``/Date(1552262400000+0000)/``, ``2026-11-20T00:00:00`` or ``2026-11-20``."""
    if not isinstance(value, str) or not value:
        return None
    found = _MS_DATE.search(value)
    if found:
        return datetime.fromtimestamp(int(found.group(1)) / 1000, UTC).date()
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _id(value: Any) -> str:
    return str(value or "").lower()


def _when(item: Mapping[str, Any]) -> date | None:
    return xero_date(item.get("DateString")) or xero_date(item.get("Date"))


def parse_invoice(item: Mapping[str, Any]) -> XeroInvoice:
    """A compact invoice from Xero's JSON."""
    contact = item.get("Contact") or {}
    return XeroInvoice(
        xero_id=_id(item.get("InvoiceID")),
        number=str(item.get("InvoiceNumber") or ""),
        status=str(item.get("Status") or ""),
        contact_id=_id(contact.get("ContactID")) or None,
        total=_decimal(item.get("Total")),
        amount_due=_decimal(item.get("AmountDue")),
        reference=str(item.get("Reference") or ""),
        date=_when(item),
    )


def parse_credit_note(item: Mapping[str, Any]) -> XeroCreditNote:
    """A compact credit note from Xero's JSON."""
    contact = item.get("Contact") or {}
    return XeroCreditNote(
        xero_id=_id(item.get("CreditNoteID")),
        number=str(item.get("CreditNoteNumber") or ""),
        status=str(item.get("Status") or ""),
        total=_decimal(item.get("Total")),
        remaining=_decimal(item.get("RemainingCredit")),
        date=_when(item),
        contact_id=_id(contact.get("ContactID")) or None,
    )


def parse_payment(item: Mapping[str, Any]) -> XeroPayment:
    """A compact payment from Xero's JSON."""
    invoice = item.get("Invoice") or {}
    return XeroPayment(
        xero_id=_id(item.get("PaymentID")),
        invoice_id=_id(invoice.get("InvoiceID")) or None,
        amount=_decimal(item.get("Amount")),
        status=str(item.get("Status") or "AUTHORISED"),
        reference=str(item.get("Reference") or ""),
        date=_when(item),
    )


@dataclass
class XeroSnapshot:
    """What Xero holds for one tenant: sales invoices, credit notes and payments by id, and the
    tax rates and account defaults needed to compute totals as Xero does (None if unreadable)."""

    invoices: dict[str, XeroInvoice] = field(default_factory=dict)
    credit_notes: dict[str, XeroCreditNote] = field(default_factory=dict)
    payments: dict[str, XeroPayment] = field(default_factory=dict)
    tax_rates: dict[str, Decimal] | None = None
    account_tax: dict[str, str] | None = None
    notes: list[str] = field(default_factory=list)
    _by_invoice: dict[str, list[XeroPayment]] | None = field(default=None, repr=False)

    def add(self, record: XeroRecord) -> None:
        """Hold one more record."""
        self._by_invoice = None
        if isinstance(record, XeroInvoice):
            self.invoices[record.xero_id] = record
        elif isinstance(record, XeroCreditNote):
            self.credit_notes[record.xero_id] = record
        else:
            self.payments[record.xero_id] = record

    def payments_on(self, invoice_id: str) -> list[XeroPayment]:
        """The payments Xero holds against one invoice."""
        if self._by_invoice is None:
            self._by_invoice = {}
            for payment in self.payments.values():
                if payment.invoice_id:
                    self._by_invoice.setdefault(payment.invoice_id, []).append(payment)
        return self._by_invoice.get(invoice_id, [])

    def counts(self) -> dict[str, int]:
        """How many records of each kind were read."""
        return {
            "invoices": len(self.invoices),
            "credit_notes": len(self.credit_notes),
            "payments": len(self.payments),
        }


# reading Xero -----------------------------------------------------------------------------------

Progress = Callable[[str, int, int | None], None]
"""Told after each page: the collection, pages read so far, and the page count when known."""


@dataclass(frozen=True)
class _Collection:
    name: str
    path: str
    where: str
    dated: bool
    parse: Callable[[Mapping[str, Any]], XeroRecord]


_COLLECTIONS: tuple[_Collection, ...] = (
    _Collection("Invoices", "/Invoices", 'Type=="ACCREC"', True, parse_invoice),
    _Collection("CreditNotes", "/CreditNotes", 'Type=="ACCRECCREDIT"', False, parse_credit_note),
    _Collection("Payments", "/Payments", 'PaymentType=="ACCRECPAYMENT"', True, parse_payment),
)
_BY_ID: dict[str, tuple[str, str, Callable[[Mapping[str, Any]], XeroRecord]]] = {
    INVOICE: ("/Invoices", "Invoices", parse_invoice),
    CREDIT_NOTE: ("/CreditNotes", "CreditNotes", parse_credit_note),
    PAYMENT: ("/Payments", "Payments", parse_payment),
}


def _datetime_literal(day: date) -> str:
    return f"DateTime({day.year},{day.month:02d},{day.day:02d})"


class XeroReader:
    """Reads one tenant's records page by page, within Xero's rate limits."""

    def __init__(
        self,
        client: XeroClient,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        max_wait: float = 120.0,
        transient_attempts: int = 4,
        on_page: Progress | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ReconcileError(f"page size must be between 1 and {MAX_PAGE_SIZE}")
        self.client = client
        self.page_size = page_size
        self.max_wait = max_wait
        self.transient_attempts = transient_attempts
        self.on_page = on_page
        self.sleep = sleep
        self.calls = 0
        self.waited = 0.0

    def get(self, operation: str, path: str, params: Mapping[str, str] | None = None) -> Any:
        """One GET, waiting out 429s (``Retry-After``) and retrying transient failures."""
        transient = 0
        limited = 0
        while True:
            self.calls += 1
            try:
                return self.client.get(operation, path, params)
            except XeroRateLimitError as exc:
                limited += 1
                wait = max(exc.retry_after, 1.0)
                if exc.is_daily or wait > self.max_wait or limited > 50:
                    raise ReconcileError(
                        f"Xero's {exc.problem} limit was reached reading {path}; try again in "
                        f"{wait:.0f} s"
                    ) from exc
                self.waited += wait
                self.sleep(wait)
            except XeroNotFoundError:
                raise
            except XeroTransientError as exc:
                transient += 1
                if transient >= self.transient_attempts:
                    raise ReconcileError(f"reading {path} from Xero failed: {exc}") from exc
                self.sleep(min(2.0 ** (transient - 1), 8.0))
            except XeroError as exc:
                raise ReconcileError(f"reading {path} from Xero failed: {exc}") from exc

    def pages(self, name: str, path: str, where: str) -> Iterator[list[Mapping[str, Any]]]:
        """The items of a collection, one page at a time."""
        page = 1
        while True:
            params = {"page": str(page), "pageSize": str(self.page_size), "where": where}
            data = self.get(f"reconcile_{name.lower()}", path, params)
            items = data.get(name) if isinstance(data, Mapping) else None
            found = [i for i in items or [] if isinstance(i, Mapping)]
            pagination = data.get("pagination") if isinstance(data, Mapping) else None
            count = None
            if isinstance(pagination, Mapping) and pagination.get("pageCount") is not None:
                count = int(pagination["pageCount"])
            if self.on_page is not None:
                self.on_page(name, page, count)
            yield found
            done = count is not None and page >= count
            if done or len(found) < self.page_size:
                return
            page += 1

    def snapshot(self, since: date | None = None, until: date | None = None) -> XeroSnapshot:
        """Everything the comparison needs from Xero (``until`` exclusive)."""
        snapshot = XeroSnapshot()
        self._tax(snapshot)
        for collection in _COLLECTIONS:
            where = collection.where
            if collection.dated and since is not None:
                where += f" AND Date>={_datetime_literal(since)}"
            if collection.dated and until is not None:
                where += f" AND Date<{_datetime_literal(until)}"
            for items in self.pages(collection.name, collection.path, where):
                for item in items:
                    snapshot.add(collection.parse(item))
        return snapshot

    def _tax(self, snapshot: XeroSnapshot) -> None:
        try:
            rates = self.get("reconcile_tax_rates", "/TaxRates")
            accounts = self.get("reconcile_accounts", "/Accounts")
        except (ReconcileError, XeroNotFoundError) as exc:
            snapshot.notes.append(
                f"tax rates could not be read ({exc}); totals of tax-exclusive invoices were "
                "not compared"
            )
            return
        snapshot.tax_rates = {
            str(r.get("TaxType", "")).upper(): Decimal(str(r.get("EffectiveRate", "0")))
            for r in rates.get("TaxRates") or []
            if isinstance(r, Mapping) and r.get("TaxType")
        }
        snapshot.account_tax = {
            str(a.get("Code", "")).casefold(): str(a.get("TaxType", "")).upper()
            for a in accounts.get("Accounts") or []
            if isinstance(a, Mapping) and a.get("Code") and a.get("TaxType")
        }

    def fetch(self, record: str, xero_id: str) -> XeroRecord | None:
        """One record by id, when the listing did not have it (None: Xero has no such record)."""
        path, collection, parse = _BY_ID[record]
        try:
            data = self.get(f"reconcile_get_{record}", f"{path}/{xero_id}")
        except XeroNotFoundError:
            return None
        items = data.get(collection) if isinstance(data, Mapping) else None
        found = [i for i in items or [] if isinstance(i, Mapping)]
        return parse(found[0]) if found else None


# what the ledger implies ------------------------------------------------------------------------


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


def _response_item(
    call: Mapping[str, Any], collection: str, id_field: str, xero_id: str
) -> Mapping[str, Any] | None:
    response = call.get("response") or {}
    for item in response.get(collection) or [] if isinstance(response, Mapping) else []:
        if isinstance(item, Mapping) and _id(item.get(id_field)) == xero_id.lower():
            return item
    return None


def _sent_lines(summary: Mapping[str, Any]) -> tuple[SentLine, ...] | None:
    lines: list[SentLine] = []
    for line in summary.get("lines") or []:
        if not isinstance(line, Mapping):
            return None
        quantity = _decimal(line.get("quantity"))
        unit = _decimal(line.get("unit_amount"))
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


def implied_invoice(events: Iterable[Any]) -> LedgerInvoice | None:
    """Fold an invoice's events into what the ledger implies Xero holds for it."""
    result: LedgerInvoice | None = None
    for event in events:
        if isinstance(event, Document.Received):
            document = f"invoice:{event.opensolar_id}"
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
    if event.operation == OP_INVOICE_UPDATE:
        if sent is not None:
            result.amount_types = line_amount_types(sent)
            result.known_total = _fields_total(sent)
        for call in _ok_calls(event, "update_invoice"):
            lines = _sent_lines(call.get("request") or {})
            if lines is not None:
                result.lines = lines
                result.amount_types = str(
                    (call.get("request") or {}).get("line_amount_types") or result.amount_types
                )
        if facts.get("total") is not None:
            result.known_total = Decimal(str(facts["total"]))
        return
    if event.operation == OP_CREDIT_NOTE and facts.get("cancellation", "credited") != "credited":
        result.gone_in_xero = "VOIDED" if facts["cancellation"] == "voided_in_xero" else "DELETED"
        return
    if event.operation == OP_INVOICE:
        if facts.get("number"):
            result.number = str(facts["number"])
        result.xero_id = str(event.xero_id).lower()
        if sent is not None:
            result.number = sent.invoice_number
            result.amount_types = line_amount_types(sent)
            result.known_total = _fields_total(sent)
        for call in _ok_calls(event, "create_invoice"):
            request = call.get("request") or {}
            lines = _sent_lines(request)
            if lines is not None:
                result.lines = lines
                result.amount_types = str(request.get("line_amount_types") or "Exclusive")
        # The total Xero reported when the invoice was created (or adopted) stands in when the
        # lines' total cannot be computed (a tax rate unknown).
        if facts.get("total") is not None:
            result.known_total = Decimal(str(facts["total"]))
            return
        for name in ("create_invoice", "find_invoice", "get_invoice"):
            for call in _ok_calls(event, name):
                item = _response_item(call, "Invoices", "InvoiceID", result.xero_id)
                total = _decimal(item.get("Total")) if item else None
                if total is not None:
                    result.known_total = total
                    return
    elif event.operation == OP_CREDIT_NOTE:
        result.credit_note_id = str(event.xero_id).lower()
        if sent is not None:
            result.credit_note_number = credit_note_number(sent.invoice_number)
        for call in _ok_calls(event, "create_credit_note"):
            number = (call.get("request") or {}).get("number")
            if number:
                result.credit_note_number = str(number)
        if facts.get("credit_note_number"):
            result.credit_note_number = str(facts["credit_note_number"])
        if facts.get("allocated") is not None:
            result.allocated = Decimal(str(facts["allocated"]))
            return
        for call in _ok_calls(event, "allocate_credit_note"):
            amount = _decimal((call.get("request") or {}).get("amount"))
            if amount is not None:
                result.allocated = (result.allocated or ZERO) + amount


def implied_payment(events: Iterable[Any]) -> LedgerPayment | None:
    """Fold a payment's events into what the ledger implies Xero holds for it."""
    result: LedgerPayment | None = None
    for event in events:
        if isinstance(event, Document.Received):
            result = LedgerPayment(
                str(event.originator_id), f"payment:{event.opensolar_id}", str(event.opensolar_id)
            )
            continue
        if result is None:
            continue
        fields = getattr(getattr(event, "change", None), "fields", None)
        if isinstance(fields, PaymentFields) and result.xero_id is None:
            result.amount = fields.amount
        if isinstance(event, Document.SyncSucceeded) and event.operation == OP_PAYMENT_DELETE:
            result.deleted_ids = (*result.deleted_ids, str(event.xero_id).lower())
            result.xero_id = None
            result.withdrawn = False
        elif isinstance(event, Document.SyncSucceeded):
            result.xero_id = str(event.xero_id).lower()
            result.withdrawn = False
            if isinstance(event.sent, PaymentFields):
                result.amount = event.sent.amount
        if isinstance(event, Payment.Voided) and result.xero_id is not None:
            result.withdrawn = True
        if isinstance(event, Payment.Paid):
            result.withdrawn = False
    return result


# the comparison ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """One way Xero differs from what the ledger implies."""

    category: str
    record: str
    document: str | None
    number: str | None
    xero_id: str | None
    ledger: str | None
    xero: str | None
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "record": self.record,
            "document": self.document,
            "number": self.number,
            "xero_id": self.xero_id,
            "ledger": self.ledger,
            "xero": self.xero,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Owner:
    """A ledger document that created (or adopted) a Xero record."""

    aggregate_id: str
    document: str
    number: str


def _money(value: Decimal | None) -> str | None:
    return f"{value:.2f}" if value is not None else None


def _key(contact_id: str | None, total: Decimal | None, reference: str, day: date | None) -> Any:
    return (contact_id, _money(total), reference.casefold() if reference else day)


Fetch = Callable[[str, str], XeroRecord | None]


class Comparison:
    """Compares the ledger with one ``XeroSnapshot``, one invoice group at a time, then the
    records nobody claimed. Pure apart from ``fetch``, which looks up (by id) a record the
    listing did not hold."""

    def __init__(self, snapshot: XeroSnapshot, fetch: Fetch | None = None) -> None:
        self.snapshot = snapshot
        self.fetch = fetch
        self.claimed: set[str] = set()
        self.checked: Counter[str] = Counter()
        self.seen: set[str] = set()
        self._numbers: dict[str, tuple[str, str]] = {}
        self._credit_numbers: dict[str, tuple[str, str]] = {}
        self._keys: dict[Any, list[tuple[str, str]]] = {}
        self._payments: dict[str, tuple[str, str]] = {}
        self._invoices: dict[str, str] = {}
        """Xero invoice id -> the ledger document holding it."""
        self._contacts: dict[str, str] = {}
        """Xero contact id -> a ledger document whose invoice is for it."""

    def _find(self, record: str, xero_id: str) -> XeroRecord | None:
        found: XeroRecord | None
        if record == INVOICE:
            found = self.snapshot.invoices.get(xero_id)
        elif record == CREDIT_NOTE:
            found = self.snapshot.credit_notes.get(xero_id)
        else:
            found = self.snapshot.payments.get(xero_id)
        if found is None and self.fetch is not None:
            found = self.fetch(record, xero_id)
            if found is not None:
                self.snapshot.add(found)
        return found

    def group(
        self, invoice: LedgerInvoice | None, payments: Sequence[LedgerPayment]
    ) -> list[Difference]:
        """Check one invoice, its credit note and its payments."""
        found: list[Difference] = []
        xero_invoice: XeroInvoice | None = None
        total: Decimal | None = None
        if invoice is not None:
            self.seen.add(invoice.aggregate_id)
            xero_invoice, total = self._invoice(invoice, found)
            if invoice.credit_note_id is not None:
                self._credit_note(invoice, xero_invoice, total, found)
        for payment in payments:
            self.seen.add(payment.aggregate_id)
            self._payment(payment, found)
        if invoice is not None and xero_invoice is not None:
            self._amount_due(invoice, xero_invoice, total, payments, found)
        return found

    def _invoice(
        self, invoice: LedgerInvoice, found: list[Difference]
    ) -> tuple[XeroInvoice | None, Decimal | None]:
        if invoice.xero_id is None:
            return None, None
        self.checked[INVOICE] += 1
        self.claimed.add(invoice.xero_id)
        record = self._find(INVOICE, invoice.xero_id)
        xero = record if isinstance(record, XeroInvoice) else None

        def add(category: str, ledger: str | None, actual: str | None, detail: str) -> None:
            found.append(
                Difference(
                    category,
                    INVOICE,
                    invoice.document,
                    invoice.number,
                    invoice.xero_id,
                    ledger,
                    actual,
                    detail,
                )
            )

        if xero is None:
            add(MISSING, "Synced", None, f"Xero has no invoice {invoice.number}")
            return None, None
        if xero.status in GONE and invoice.gone_in_xero is not None:
            return None, None
        if xero.status in GONE:
            category = VOIDED if xero.status == "VOIDED" else DELETED
            add(category, "Synced", xero.status, f"invoice {xero.number} was {xero.status} in Xero")
            return None, None
        self._numbers.setdefault(xero.number.casefold(), (invoice.document, xero.xero_id))
        self._invoices[xero.xero_id] = invoice.document
        if xero.contact_id is not None:
            self._contacts.setdefault(xero.contact_id, invoice.document)
        key = _key(xero.contact_id, xero.total, xero.reference, xero.date)
        self._keys.setdefault(key, []).append((invoice.document, invoice.number))
        total = invoice.total(self.snapshot)
        if total is not None and xero.total is not None and total != xero.total:
            add(
                TOTAL_DIFFERS,
                _money(total),
                _money(xero.total),
                f"invoice {xero.number} total in Xero is {_money(xero.total)}; the lines the "
                f"ledger sent make {_money(total)}",
            )
        return xero, total

    def _credit_note(
        self,
        invoice: LedgerInvoice,
        xero_invoice: XeroInvoice | None,
        total: Decimal | None,
        found: list[Difference],
    ) -> None:
        credit_id = invoice.credit_note_id
        if credit_id is None:
            return
        self.checked[CREDIT_NOTE] += 1
        self.claimed.add(credit_id)
        number = invoice.credit_note_number or credit_note_number(invoice.number)
        record = self._find(CREDIT_NOTE, credit_id)
        xero = record if isinstance(record, XeroCreditNote) else None

        def add(category: str, ledger: str | None, actual: str | None, detail: str) -> None:
            found.append(
                Difference(
                    category,
                    CREDIT_NOTE,
                    invoice.document,
                    number,
                    credit_id,
                    ledger,
                    actual,
                    detail,
                )
            )

        if xero is None:
            add(MISSING, "Synced", None, f"Xero has no credit note {number}")
            return
        if xero.status in GONE:
            category = VOIDED if xero.status == "VOIDED" else DELETED
            add(category, "Synced", xero.status, f"credit note {xero.number} was {xero.status}")
            return
        self._credit_numbers.setdefault(xero.number.casefold(), (invoice.document, xero.xero_id))
        expected = total if total is not None else (xero_invoice.total if xero_invoice else None)
        if expected is not None and xero.total is not None and expected != xero.total:
            add(
                TOTAL_DIFFERS,
                _money(expected),
                _money(xero.total),
                f"credit note {xero.number} total in Xero is {_money(xero.total)}; it should "
                f"mirror the invoice ({_money(expected)})",
            )

    def _payment(self, payment: LedgerPayment, found: list[Difference]) -> None:
        self.claimed.update(payment.deleted_ids)
        if payment.xero_id is None:
            return
        self.checked[PAYMENT] += 1
        self.claimed.add(payment.xero_id)
        record = self._find(PAYMENT, payment.xero_id)
        xero = record if isinstance(record, XeroPayment) else None
        label = f"payment {payment.opensolar_id}"

        def add(category: str, ledger: str | None, actual: str | None, detail: str) -> None:
            found.append(
                Difference(
                    category,
                    PAYMENT,
                    payment.document,
                    label,
                    payment.xero_id,
                    ledger,
                    actual,
                    detail,
                )
            )

        if xero is None:
            if not payment.withdrawn:
                add(MISSING, "Synced", None, f"Xero has no payment for {payment.document}")
            return
        if xero.status == "DELETED":
            if not payment.withdrawn:
                add(
                    REMOVED,
                    _money(payment.amount),
                    "DELETED",
                    f"the payment of {_money(xero.amount)} for {payment.document} was deleted "
                    "in Xero",
                )
            return
        self._payments.setdefault(payment.opensolar_id, (payment.document, xero.xero_id))
        if payment.withdrawn:
            add(
                UNEXPECTED,
                "withdrawn",
                _money(xero.amount),
                f"{payment.document} was withdrawn in OpenSolar after it was synced; the payment "
                "still stands in Xero: delete it there by hand",
            )
        elif (
            payment.amount is not None and xero.amount is not None and payment.amount != xero.amount
        ):
            add(
                TOTAL_DIFFERS,
                _money(payment.amount),
                _money(xero.amount),
                f"payment amount in Xero is {_money(xero.amount)}; the ledger sent "
                f"{_money(payment.amount)}",
            )

    def _amount_due(
        self,
        invoice: LedgerInvoice,
        xero: XeroInvoice,
        total: Decimal | None,
        payments: Sequence[LedgerPayment],
        found: list[Difference],
    ) -> None:
        base = total if total is not None else xero.total
        if base is None or xero.amount_due is None:
            return
        paid = sum((p.amount or ZERO for p in payments if p.expected_live), ZERO)
        allocated = ZERO
        if invoice.credit_note_id is not None:
            allocated = (
                invoice.allocated
                if invoice.allocated is not None
                else max(ZERO, min(base - paid, base))
            )
        expected = base - paid - allocated
        if expected == xero.amount_due:
            return
        ours = {p.xero_id for p in payments}
        extra = [
            p
            for p in self.snapshot.payments_on(xero.xero_id)
            if p.xero_id not in ours and p.status not in GONE
        ]
        named = {p.opensolar_id for p in payments}
        if (
            extra
            and all(p.opensolar_payment in named for p in extra)
            and expected - sum((p.amount or ZERO for p in extra), ZERO) == xero.amount_due
        ):
            # Explained by second payments for the same OpenSolar payments: reported as
            # duplicates, counted once.
            return
        detail = (
            f"invoice {xero.number} amount due in Xero is {_money(xero.amount_due)}; the ledger "
            f"implies {_money(expected)} (total {_money(base)} - payments {_money(paid)} - "
            f"credit {_money(allocated)})"
        )
        if extra:
            detail += "; Xero also has payments the ledger did not send: " + ", ".join(
                f"{_money(p.amount)} ({p.reference or p.xero_id})" for p in extra
            )
        if found:
            # Already explained by what differs in this group: say it there, count it once.
            first = found[0]
            found[0] = Difference(
                first.category,
                first.record,
                first.document,
                first.number,
                first.xero_id,
                first.ledger,
                first.xero,
                f"{first.detail}; {detail}",
            )
            return
        found.append(
            Difference(
                AMOUNT_DUE_DIFFERS,
                INVOICE,
                invoice.document,
                invoice.number,
                invoice.xero_id,
                _money(expected),
                _money(xero.amount_due),
                detail,
            )
        )

    # what nobody claimed ---------------------------------------------------------------------

    def unclaimed(self) -> list[str]:
        """Ids of live Xero records no ledger document claimed."""
        records: list[XeroRecord] = [
            *self.snapshot.invoices.values(),
            *self.snapshot.credit_notes.values(),
            *self.snapshot.payments.values(),
        ]
        return sorted(
            r.xero_id for r in records if r.xero_id not in self.claimed and r.status not in GONE
        )

    def finish(
        self, owners: Mapping[str, Owner], scope: set[str] | None = None
    ) -> list[Difference]:
        """Differences among the records no ledger document claimed. ``owners`` names the ledger
        documents that created some of them; with ``scope`` (a date window), only owners among
        the documents checked count."""

        def owner_of(xero_id: str) -> Owner | None:
            owner = owners.get(xero_id)
            if owner is None or (scope is not None and owner.aggregate_id not in scope):
                return None
            return owner

        found: list[Difference] = []
        for invoice in sorted(self.snapshot.invoices.values(), key=lambda i: i.xero_id):
            if invoice.xero_id in self.claimed or invoice.status in GONE:
                continue
            found.extend(self._stray_invoice(invoice, owner_of(invoice.xero_id)))
        for credit in sorted(self.snapshot.credit_notes.values(), key=lambda c: c.xero_id):
            if credit.xero_id in self.claimed or credit.status in GONE:
                continue
            owner = owner_of(credit.xero_id)
            twin = self._credit_numbers.get(credit.number.casefold())
            if twin is not None:
                found.append(
                    Difference(
                        DUPLICATE,
                        CREDIT_NOTE,
                        twin[0],
                        credit.number,
                        credit.xero_id,
                        twin[1],
                        credit.xero_id,
                        f"a second credit note numbered {credit.number} in Xero",
                    )
                )
            elif owner is not None:
                found.append(_unexpected(CREDIT_NOTE, owner, credit.xero_id, credit.number))
            elif (
                credit.xero_id not in owners
                and credit.contact_id is not None
                and credit.contact_id in self._contacts
            ):
                found.append(
                    Difference(
                        UNEXPLAINED,
                        CREDIT_NOTE,
                        self._contacts[credit.contact_id],
                        credit.number,
                        credit.xero_id,
                        None,
                        _money(credit.total),
                        f"credit note {credit.number} ({_money(credit.total)}) in Xero for the "
                        f"contact of {self._contacts[credit.contact_id]} explains no document "
                        "of the ledger",
                    )
                )
        for payment in sorted(self.snapshot.payments.values(), key=lambda p: p.xero_id):
            if payment.xero_id in self.claimed or payment.status in GONE:
                continue
            owner = owner_of(payment.xero_id)
            opensolar = payment.opensolar_payment
            twin = self._payments.get(opensolar) if opensolar else None
            if twin is not None:
                found.append(
                    Difference(
                        DUPLICATE,
                        PAYMENT,
                        twin[0],
                        f"payment {opensolar}",
                        payment.xero_id,
                        twin[1],
                        payment.xero_id,
                        f"a second payment of {_money(payment.amount)} in Xero for "
                        f"{twin[0]} (reference {payment.reference!r})",
                    )
                )
            elif owner is not None:
                found.append(
                    _unexpected(PAYMENT, owner, payment.xero_id, f"payment {opensolar or '?'}")
                )
            elif (
                payment.xero_id not in owners
                and payment.invoice_id is not None
                and payment.invoice_id in self._invoices
            ):
                document = self._invoices[payment.invoice_id]
                found.append(
                    Difference(
                        UNEXPLAINED,
                        PAYMENT,
                        document,
                        payment.reference or f"payment {payment.xero_id}",
                        payment.xero_id,
                        None,
                        _money(payment.amount),
                        f"a payment of {_money(payment.amount)} (reference "
                        f"{payment.reference!r}) on {document}'s invoice in Xero explains no "
                        "payment of the ledger",
                    )
                )
        return found

    def _stray_invoice(self, invoice: XeroInvoice, owner: Owner | None) -> list[Difference]:
        twin = self._numbers.get(invoice.number.casefold()) if invoice.number else None
        if twin is not None:
            return [
                Difference(
                    DUPLICATE,
                    INVOICE,
                    twin[0],
                    invoice.number,
                    invoice.xero_id,
                    twin[1],
                    invoice.xero_id,
                    f"a second invoice numbered {invoice.number} in Xero",
                )
            ]
        if owner is not None:
            return [_unexpected(INVOICE, owner, invoice.xero_id, invoice.number)]
        key = _key(invoice.contact_id, invoice.total, invoice.reference, invoice.date)
        same = self._keys.get(key)
        if not same:
            return []
        originals = " or ".join(f"{number} ({document})" for document, number in same)
        return [
            Difference(
                DUPLICATE,
                INVOICE,
                same[0][0],
                invoice.number,
                invoice.xero_id,
                same[0][1],
                invoice.number,
                f"invoice {invoice.number} in Xero has the same contact, total "
                f"({_money(invoice.total)}) and "
                + (f"reference ({invoice.reference})" if invoice.reference else "date")
                + f" as {originals}",
            )
        ]


def _unexpected(record: str, owner: Owner, xero_id: str, number: str) -> Difference:
    return Difference(
        UNEXPECTED,
        record,
        owner.document,
        number,
        xero_id,
        "not expected",
        "present",
        f"syncledger created this {record.replace('_', ' ')} for {owner.document} "
        f"({owner.number}) but the ledger no longer expects it in Xero",
    )


def summarise(differences: Iterable[Difference]) -> dict[str, int]:
    """How many differences of each category (every category, zeros included)."""
    counts = Counter(d.category for d in differences)
    return {category: counts.get(category, 0) for category in CATEGORIES}
