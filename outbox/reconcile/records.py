"""Xero's side of a reconciliation: compact sales invoices, credit notes and payments parsed from
Xero's JSON (ids, numbers, statuses, amounts, dates), and the ``XeroSnapshot`` holding what Xero
has for one tenant, with the tax rates needed to compute totals as Xero does."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from domain.vocabulary import Operation

_REFERENCE = re.compile(r"\(?OpenSolar payment ([^\s()]+)\)?\s*$")
_MS_DATE = re.compile(r"/Date\((-?\d+)")


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


def decimal(value: Any) -> Decimal | None:
    """A Xero amount as a decimal, or None when absent or unreadable."""
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


def xero_id(value: Any) -> str:
    """A Xero id as the comparison keys it (lower case; empty when absent)."""
    return str(value or "").lower()


def _when(item: Mapping[str, Any]) -> date | None:
    return xero_date(item.get("DateString")) or xero_date(item.get("Date"))


def _contact(item: Mapping[str, Any]) -> str | None:
    return xero_id((item.get("Contact") or {}).get("ContactID")) or None


def parse_invoice(item: Mapping[str, Any]) -> XeroInvoice:
    """A compact invoice from Xero's JSON."""
    return XeroInvoice(
        xero_id=xero_id(item.get("InvoiceID")),
        number=str(item.get("InvoiceNumber") or ""),
        status=str(item.get("Status") or ""),
        contact_id=_contact(item),
        total=decimal(item.get("Total")),
        amount_due=decimal(item.get("AmountDue")),
        reference=str(item.get("Reference") or ""),
        date=_when(item),
    )


def parse_credit_note(item: Mapping[str, Any]) -> XeroCreditNote:
    """A compact credit note from Xero's JSON."""
    return XeroCreditNote(
        xero_id=xero_id(item.get("CreditNoteID")),
        number=str(item.get("CreditNoteNumber") or ""),
        status=str(item.get("Status") or ""),
        total=decimal(item.get("Total")),
        remaining=decimal(item.get("RemainingCredit")),
        date=_when(item),
        contact_id=_contact(item),
    )


def parse_payment(item: Mapping[str, Any]) -> XeroPayment:
    """A compact payment from Xero's JSON."""
    invoice = item.get("Invoice") or {}
    return XeroPayment(
        xero_id=xero_id(item.get("PaymentID")),
        invoice_id=xero_id(invoice.get("InvoiceID")) or None,
        amount=decimal(item.get("Amount")),
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

    def held(self, record: str, xero_id: str) -> XeroRecord | None:
        """The record of this kind (an ``Operation`` naming it) with this id, if held."""
        if record == Operation.INVOICE:
            return self.invoices.get(xero_id)
        if record == Operation.CREDIT_NOTE:
            return self.credit_notes.get(xero_id)
        return self.payments.get(xero_id)

    def records(self) -> list[XeroRecord]:
        """Every record held: invoices, then credit notes, then payments."""
        return [*self.invoices.values(), *self.credit_notes.values(), *self.payments.values()]

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
