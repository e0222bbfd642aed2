"""Xero payloads from documents: pure functions from a document and its organisation's current
settings to the JSON Xero expects. Mapping happens at send time, so a fixed mapping and a retry
send the corrected payload. A document that cannot be mapped raises a ``MappingError`` whose
message is what the status shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from domain.errors import MappingError, MissingLedgerAccountError, MissingTaxRateMappingError
from domain.opensolar import Customer, InvoiceFields, PaymentFields
from domain.organisation import Organisation

MAX_REFERENCE = 255


@dataclass(frozen=True)
class MissingMappings:
    """Every mapping an invoice lacks, so one message can name them all."""

    categories: tuple[str, ...]
    tax_rates: tuple[str, ...]

    def error(self) -> MappingError:
        """The error to record: the single-category wording when only one thing is missing."""
        if len(self.categories) == 1 and not self.tax_rates:
            return MissingLedgerAccountError(self.categories[0])
        if len(self.tax_rates) == 1 and not self.categories:
            return MissingTaxRateMappingError(self.tax_rates[0])
        parts = []
        if self.categories:
            names = ", ".join(f"'{c}'" for c in self.categories)
            parts.append(
                f"Missing Ledger Account: no Xero account is mapped for line categories {names}"
            )
        if self.tax_rates:
            names = ", ".join(f"'{t}'" for t in self.tax_rates)
            parts.append(
                f"Missing Tax Rate Mapping: no Xero tax type is mapped for tax rates {names}"
            )
        return MappingError("; ".join(parts))


def check_mappings(fields: InvoiceFields, org: Organisation) -> None:
    """Raise the ``MappingError`` for every unmapped category and tax rate of an invoice."""
    categories: list[str] = []
    tax_rates: list[str] = []
    for line in fields.line_items:
        if org.account_for(line.category) is None and line.category not in categories:
            categories.append(line.category)
        if (
            line.tax_rate is not None
            and org.tax_type_for(line.tax_rate) is None
            and line.tax_rate not in tax_rates
        ):
            tax_rates.append(line.tax_rate)
    if categories or tax_rates:
        raise MissingMappings(tuple(categories), tuple(tax_rates)).error()


def _lines(fields: InvoiceFields, org: Organisation) -> list[dict[str, Any]]:
    check_mappings(fields, org)
    lines: list[dict[str, Any]] = []
    for line in fields.line_items:
        item: dict[str, Any] = {
            "Description": line.description,
            "Quantity": line.quantity,
            "UnitAmount": line.unit_amount,
            "AccountCode": org.account_for(line.category),
        }
        if line.tax_rate is not None:
            item["TaxType"] = org.tax_type_for(line.tax_rate)
        lines.append(item)
    return lines


def line_amount_types(fields: InvoiceFields) -> str:
    """Xero's LineAmountTypes for OpenSolar's ``amounts_include_tax``."""
    return "Inclusive" if fields.amounts_include_tax else "Exclusive"


def contact_payload(customer: Customer, *, name: str | None = None) -> dict[str, Any]:
    """A new Xero contact for an OpenSolar customer."""
    body: dict[str, Any] = {"Name": name or customer.name}
    if customer.email:
        body["EmailAddress"] = customer.email
    parts = customer.name.split(None, 1)
    if len(parts) == 2:
        body["FirstName"], body["LastName"] = parts
    return body


def invoice_date(fields: InvoiceFields, issued_on: date) -> date:
    """The invoice date: OpenSolar's issued date, else the day it was issued."""
    return fields.issued_date or issued_on


def invoice_payload(
    fields: InvoiceFields, org: Organisation, contact_id: str, issued_on: date
) -> dict[str, Any]:
    """The ACCREC invoice for an issued OpenSolar invoice."""
    day = invoice_date(fields, issued_on)
    body: dict[str, Any] = {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact_id},
        "InvoiceNumber": fields.invoice_number,
        "Date": day.isoformat(),
        "DueDate": (fields.due_date or day).isoformat(),
        "CurrencyCode": fields.currency,
        "LineAmountTypes": line_amount_types(fields),
        "Status": org.invoice_status,
        "LineItems": _lines(fields, org),
    }
    if fields.project_id:
        body["Reference"] = f"OpenSolar project {fields.project_id}"
    return body


def credit_note_number(invoice_number: str) -> str:
    """The CreditNoteNumber given to the credit note that cancels an invoice."""
    return f"CN-{invoice_number}"[:MAX_REFERENCE]


def credit_note_payload(
    sent: InvoiceFields, org: Organisation, contact_id: str, day: date
) -> dict[str, Any]:
    """The ACCRECCREDIT credit note with the same lines as the invoice that was sent."""
    return {
        "Type": "ACCRECCREDIT",
        "Contact": {"ContactID": contact_id},
        "CreditNoteNumber": credit_note_number(sent.invoice_number),
        "Reference": f"Cancellation of {sent.invoice_number}"[:MAX_REFERENCE],
        "Date": day.isoformat(),
        "CurrencyCode": sent.currency,
        "LineAmountTypes": line_amount_types(sent),
        "Status": "AUTHORISED",
        "LineItems": _lines(sent, org),
    }


def allocation_payload(invoice_xero_id: str, amount: Decimal, day: date) -> dict[str, Any]:
    """An allocation of a credit note to the invoice it cancels."""
    return {"Invoice": {"InvoiceID": invoice_xero_id}, "Amount": amount, "Date": day.isoformat()}


def payment_reference(fields: PaymentFields, opensolar_id: str) -> str:
    """The payment's Reference in Xero; it names the OpenSolar payment so it can be found again."""
    tag = f"OpenSolar payment {opensolar_id}"
    if fields.reference:
        return f"{fields.reference} ({tag})"[-MAX_REFERENCE:]
    return tag


def payment_payload(
    fields: PaymentFields, opensolar_id: str, org: Organisation, invoice_xero_id: str, day: date
) -> dict[str, Any]:
    """A Xero payment applying an OpenSolar payment to its invoice."""
    if org.payment_account is None:
        raise MappingError(
            "Missing Payment Account: no Xero account is set for receiving payments "
            f"(run `syncledger config payment-account {org.org_id} CODE`)"
        )
    return {
        "Invoice": {"InvoiceID": invoice_xero_id},
        "Account": {"Code": org.payment_account},
        "Date": (fields.paid_date or day).isoformat(),
        "Amount": fields.amount,
        "Reference": payment_reference(fields, opensolar_id),
    }
