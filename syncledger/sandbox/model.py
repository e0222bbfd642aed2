"""The in-memory ledger of one Xero organisation: its contacts, chart, documents and payments.

Plain mutable dataclasses, one `Organisation` per tenant holding them plus the few indexes Xero's
uniqueness rules need (active contact names, contact numbers, sales invoice and credit note
numbers) and its settings (base currency, enabled currencies, period lock date). Every read or
write of an organisation happens with its `lock` held; nothing here locks by itself and nothing
here knows about HTTP.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from syncledger.sandbox.money import ZERO

SALES_TYPES = frozenset({"ACCREC", "ACCRECCREDIT"})


def name_key(text: str) -> str:
    """The case-insensitive key Xero compares names and numbers by."""
    return " ".join(text.split()).casefold()


@dataclass
class Contact:
    """A customer or supplier."""

    contact_id: str
    name: str
    status: str = "ACTIVE"
    email: str | None = None
    contact_number: str | None = None
    account_number: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    tax_number: str | None = None
    addresses: list[dict[str, Any]] = field(default_factory=list)
    phones: list[dict[str, Any]] = field(default_factory=list)
    is_customer: bool = False
    is_supplier: bool = False
    updated_at: float = 0.0


@dataclass
class Account:
    """One account of the chart."""

    account_id: str
    code: str
    name: str
    type: str
    status: str = "ACTIVE"
    tax_type: str | None = None
    description: str | None = None
    enable_payments: bool = False
    system_account: str | None = None
    bank_account_number: str | None = None
    bank_account_type: str | None = None
    currency_code: str | None = None
    reporting_code: str | None = None
    show_in_expense_claims: bool = False
    updated_at: float = 0.0


@dataclass(frozen=True)
class TaxRate:
    """A tax rate and which side of the ledger (sales, purchases) may use it."""

    tax_type: str
    name: str
    rate: Decimal
    report_tax_type: str
    sales: bool
    purchases: bool
    status: str = "ACTIVE"


@dataclass
class LineItem:
    """A priced line of an invoice or credit note, with its tax already computed."""

    line_item_id: str
    description: str | None
    quantity: Decimal
    unit_amount: Decimal
    line_amount: Decimal
    tax_amount: Decimal
    account_code: str | None = None
    account_id: str | None = None
    tax_type: str | None = None
    item_code: str | None = None
    discount_rate: Decimal | None = None
    discount_amount: Decimal | None = None
    tracking: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Document:
    """What invoices and credit notes share: contact, dates, lines and totals."""

    type: str
    number: str | None
    contact_id: str
    date: dt.date
    status: str
    line_amount_types: str
    currency_code: str
    lines: list[LineItem]
    reference: str | None = None
    due_date: dt.date | None = None
    sub_total: Decimal = ZERO
    total_tax: Decimal = ZERO
    total: Decimal = ZERO
    amount_paid: Decimal = ZERO
    fully_paid_on: dt.date | None = None
    created_by: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0


@dataclass
class Invoice(Document):
    """A sales invoice (ACCREC) or bill (ACCPAY)."""

    invoice_id: str = ""
    amount_credited: Decimal = ZERO
    url: str | None = None
    sent_to_contact: bool = False

    @property
    def amount_due(self) -> Decimal:
        """Total less payments and credit; zero once voided or deleted."""
        if self.status in {"VOIDED", "DELETED"}:
            return ZERO
        return self.total - self.amount_paid - self.amount_credited


@dataclass
class CreditNote(Document):
    """A sales (ACCRECCREDIT) or purchase (ACCPAYCREDIT) credit note."""

    credit_note_id: str = ""
    amount_allocated: Decimal = ZERO

    @property
    def remaining_credit(self) -> Decimal:
        """Total less allocations and refunds; zero once voided or deleted."""
        if self.status in {"VOIDED", "DELETED"}:
            return ZERO
        return self.total - self.amount_allocated - self.amount_paid


@dataclass
class Allocation:
    """Part of a credit note applied to an invoice."""

    allocation_id: str
    credit_note_id: str
    invoice_id: str
    amount: Decimal
    date: dt.date
    deleted: bool = False
    created_at: float = 0.0


@dataclass
class Payment:
    """Money received against an invoice (or refunded against a credit note)."""

    payment_id: str
    account_id: str
    amount: Decimal
    date: dt.date
    payment_type: str
    invoice_id: str | None = None
    credit_note_id: str | None = None
    reference: str | None = None
    status: str = "AUTHORISED"
    is_reconciled: bool = False
    created_by: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0


@dataclass
class Organisation:
    """One tenant: its ledger, its indexes and the lock that guards them."""

    tenant_id: str
    name: str
    short_code: str
    created_at: float
    accounts: dict[str, Account] = field(default_factory=dict)
    tax_rates: dict[str, TaxRate] = field(default_factory=dict)
    contacts: dict[str, Contact] = field(default_factory=dict)
    invoices: dict[str, Invoice] = field(default_factory=dict)
    credit_notes: dict[str, CreditNote] = field(default_factory=dict)
    allocations: dict[str, Allocation] = field(default_factory=dict)
    payments: dict[str, Payment] = field(default_factory=dict)
    active_names: dict[str, str] = field(default_factory=dict)
    contact_numbers: dict[str, str] = field(default_factory=dict)
    invoice_numbers: dict[str, str] = field(default_factory=dict)
    credit_note_numbers: dict[str, str] = field(default_factory=dict)
    payments_by_doc: dict[str, list[str]] = field(default_factory=dict)
    allocations_by_doc: dict[str, list[str]] = field(default_factory=dict)
    invoice_seq: int = 0
    credit_note_seq: int = 0
    base_currency: str = "AUD"
    currencies: set[str] = field(default_factory=set)
    period_lock_date: dt.date | None = None
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    def subscribes_to(self, code: str) -> bool:
        """Whether documents may be in this currency: the base or an enabled one."""
        return code == self.base_currency or code in self.currencies

    def enabled_currencies(self) -> list[str]:
        """Every currency documents may use, the base included, sorted by code."""
        return sorted(self.currencies | {self.base_currency})

    def locked(self, day: dt.date) -> bool:
        """Whether `day` falls on or before the period lock date (a closed period)."""
        return self.period_lock_date is not None and day <= self.period_lock_date

    def account_by_code(self, code: str) -> Account | None:
        """The account with this code (any status), compared case-insensitively."""
        wanted = code.strip().casefold()
        for account in self.accounts.values():
            if account.code.casefold() == wanted:
                return account
        return None

    def add_payment(self, payment: Payment) -> None:
        """Record a payment and index it under the document it pays."""
        self.payments[payment.payment_id] = payment
        doc_id = payment.invoice_id or payment.credit_note_id or ""
        self.payments_by_doc.setdefault(doc_id, []).append(payment.payment_id)

    def add_allocation(self, allocation: Allocation) -> None:
        """Record an allocation and index it under both documents."""
        self.allocations[allocation.allocation_id] = allocation
        for doc_id in (allocation.invoice_id, allocation.credit_note_id):
            self.allocations_by_doc.setdefault(doc_id, []).append(allocation.allocation_id)

    def payments_of(self, doc_id: str) -> list[Payment]:
        """Payments (any status) made against a document."""
        return [self.payments[pid] for pid in self.payments_by_doc.get(doc_id, ())]

    def allocations_of(self, doc_id: str) -> list[Allocation]:
        """Allocations (including deleted ones) touching a document."""
        return [self.allocations[aid] for aid in self.allocations_by_doc.get(doc_id, ())]

    def clear_documents(self) -> None:
        """Forget contacts, documents and payments; keep the chart, tax rates and settings."""
        self.contacts.clear()
        self.invoices.clear()
        self.credit_notes.clear()
        self.allocations.clear()
        self.payments.clear()
        self.payments_by_doc.clear()
        self.allocations_by_doc.clear()
        self.active_names.clear()
        self.contact_numbers.clear()
        self.invoice_numbers.clear()
        self.credit_note_numbers.clear()
        self.invoice_seq = 0
        self.credit_note_seq = 0
