"""The values of an OpenSolar change, once read: a ``Change`` carrying ``InvoiceFields`` or
``PaymentFields`` (with their ``Customer`` and ``LineItem`` values). Amounts are ``Decimal``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from domain.vocabulary import DocumentKind

Model = Literal["Invoice", "Payment"]
InvoiceStatus = Literal["not_sent", "sent", "viewed", "pending", "paid", "cancelled"]
PaymentStatus = Literal["pending", "paid", "failed"]


@dataclass(frozen=True)
class Customer:
    """The customer an invoice is addressed to."""

    id: str | None
    name: str
    email: str | None


@dataclass(frozen=True)
class LineItem:
    """One invoice line; ``category`` is mapped to a Xero account by the organisation."""

    category: str
    description: str
    quantity: Decimal
    unit_amount: Decimal
    tax_rate: str | None

    @property
    def amount(self) -> Decimal:
        """Quantity times unit amount, rounded to cents as Xero rounds a line."""
        return round_money(self.quantity * self.unit_amount)


@dataclass(frozen=True)
class InvoiceFields:
    """An invoice as OpenSolar describes it in one change."""

    invoice_number: str
    status: InvoiceStatus
    project_id: str | None
    issued_date: date | None
    due_date: date | None
    currency: str
    amounts_include_tax: bool
    customer: Customer
    line_items: tuple[LineItem, ...]
    stated_total: Decimal | None = None
    """OpenSolar's own invoice total, tax included (optional): when given, Xero's total is made
    equal to it, with a rounding line if Xero's per-line tax rounding gives a few cents less
    or more."""

    @property
    def total(self) -> Decimal:
        """The sum of the lines as OpenSolar states them (tax inclusive or not, per the flag)."""
        return sum((line.amount for line in self.line_items), Decimal("0.00"))


@dataclass(frozen=True)
class PaymentFields:
    """A payment against an invoice as OpenSolar describes it in one change."""

    invoice_id: str
    amount: Decimal
    currency: str
    status: PaymentStatus
    paid_date: date | None
    reference: str | None


@dataclass(frozen=True)
class Change:
    """One OpenSolar change, validated and typed."""

    event_id: str
    timestamp: datetime
    org_id: str
    model: Model
    model_id: str
    event: str
    fields: InvoiceFields | PaymentFields | None

    @property
    def kind(self) -> DocumentKind:
        """``invoice`` or ``payment``: the document kind this change is about."""
        return DocumentKind(self.model.lower())

    @property
    def reference(self) -> str:
        """The document reference used on the CLI, e.g. ``invoice:1042``."""
        return f"{self.kind}:{self.model_id}"


def round_money(value: Decimal) -> Decimal:
    """Round to cents, half up, as Xero does."""
    return value.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
