"""What differs between what Xero holds of a document and what OpenSolar says of it now.

Xero holds what syncledger last sent (recorded with the success). A change after that is compared
field by field: the fields Xero lets an invoice change (lines, tax treatment, dates, reference,
OpenSolar's total) can be sent as an update; its number and currency cannot (the invoice would no
longer be the one the accountant knows); customer details never count, because an invoice keeps
the Xero contact it was sent with. Pure functions over the change format's values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.opensolar import InvoiceFields, LineItem, PaymentFields

LINES = "lines"
TAX_TREATMENT = "tax treatment (amounts_include_tax)"
DATE = "date"
DUE_DATE = "due date"
REFERENCE = "reference (project)"
STATED_TOTAL = "OpenSolar total"
NUMBER = "invoice number"
CURRENCY = "currency"


def _line(line: LineItem) -> tuple[object, ...]:
    return (line.category, line.description, line.quantity, line.unit_amount, line.tax_rate)


def invoice_day(fields: InvoiceFields, issued_on: date) -> date:
    """The invoice's date in Xero: OpenSolar's issued date, else the day it was issued."""
    return fields.issued_date or issued_on


def due_day(fields: InvoiceFields, issued_on: date) -> date:
    """The invoice's due date in Xero: OpenSolar's, else its date."""
    return fields.due_date or invoice_day(fields, issued_on)


@dataclass(frozen=True)
class InvoiceDifferences:
    """Fields that differ: ``updatable`` ones Xero can take as an update, ``fixed`` ones not."""

    updatable: tuple[str, ...]
    fixed: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.updatable or self.fixed)

    @property
    def names(self) -> tuple[str, ...]:
        """Every differing field, fixed ones first."""
        return self.fixed + self.updatable


def invoice_differences(
    held: InvoiceFields, now: InvoiceFields, issued_on: date
) -> InvoiceDifferences:
    """How ``now`` differs from ``held`` (what Xero holds), customer details left out."""
    updatable: list[str] = []
    fixed: list[str] = []
    if held.invoice_number.casefold() != now.invoice_number.casefold():
        fixed.append(NUMBER)
    if held.currency != now.currency:
        fixed.append(CURRENCY)
    if [_line(x) for x in held.line_items] != [_line(x) for x in now.line_items]:
        updatable.append(LINES)
    if held.amounts_include_tax != now.amounts_include_tax:
        updatable.append(TAX_TREATMENT)
    if invoice_day(held, issued_on) != invoice_day(now, issued_on):
        updatable.append(DATE)
    if due_day(held, issued_on) != due_day(now, issued_on):
        updatable.append(DUE_DATE)
    if (held.project_id or None) != (now.project_id or None):
        updatable.append(REFERENCE)
    if held.stated_total != now.stated_total:
        updatable.append(STATED_TOTAL)
    return InvoiceDifferences(tuple(updatable), tuple(fixed))


def invoice_content(fields: InvoiceFields, issued_on: date) -> tuple[object, ...]:
    """Everything of an invoice that reaches Xero (customer details aside), as one value:
    equal contents need no call."""
    return (
        fields.invoice_number.casefold(),
        fields.currency,
        tuple(_line(x) for x in fields.line_items),
        fields.amounts_include_tax,
        invoice_day(fields, issued_on),
        due_day(fields, issued_on),
        fields.project_id or None,
        fields.stated_total,
    )


def payment_differences(held: PaymentFields, now: PaymentFields) -> tuple[str, ...]:
    """How a payment now differs from the one Xero holds (a payment cannot be edited in Xero:
    any difference means deleting it and applying it again)."""
    found: list[str] = []
    if held.invoice_id != now.invoice_id:
        found.append("invoice")
    if held.amount != now.amount:
        found.append("amount")
    if held.currency != now.currency:
        found.append(CURRENCY)
    if held.paid_date != now.paid_date:
        found.append("date")
    if (held.reference or None) != (now.reference or None):
        found.append("reference")
    return tuple(found)


def payment_content(fields: PaymentFields) -> tuple[object, ...]:
    """Everything of a payment that reaches Xero, as one value."""
    return (fields.invoice_id, fields.amount, fields.currency, fields.paid_date, fields.reference)


def listed(names: tuple[str, ...]) -> str:
    """``lines, due date and reference`` from field names."""
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]
