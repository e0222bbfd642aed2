"""Xero payloads from documents: pure functions from a document and its organisation's current
settings to the JSON Xero expects. Mapping happens at send time, so a fixed mapping and a retry
send the corrected payload. A document that cannot be mapped raises a ``MappingError`` whose
message is what the status shows.

Every invoice carries a link back to its OpenSolar document in Xero's ``Url`` field ("Go to
OpenSolar" in Xero) whose ``syncledger=`` parameter names the ledger document: an invoice found
in Xero by number is then known for certain to be this document's, another document's, or made
by hand. Texts are kept within the limits of Xero's spec (names, numbers and references at most
255 characters) by the shortening rules below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from domain.differences import due_day, invoice_day
from domain.errors import MappingError, MissingLedgerAccountError, MissingTaxRateMappingError
from domain.money import PricedLine, Rounding
from domain.opensolar import Customer, InvoiceFields, PaymentFields
from domain.organisation import Organisation

MAX_TEXT = 255
"""Xero's limit on contact names, invoice and credit note numbers and references."""
ELLIPSIS = "…"
OPENSOLAR_URL = "https://app.opensolar.com"
_MARKER = re.compile(r"[?&]syncledger=([0-9a-fA-F-]{36})")


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
        error = MappingError("; ".join(parts))
        error.categories, error.tax_rates = self.categories, self.tax_rates
        return error

    def action(self, org_id: str, number: str) -> str:
        """The commands that add the missing mappings, then the retry."""
        commands = [f"`syncledger config map-account {org_id} {c} CODE`" for c in self.categories]
        commands += [f"`syncledger config map-tax {org_id} {t} TAX_TYPE`" for t in self.tax_rates]
        retry = f"`syncledger retry {number}`"
        if not commands:
            return f"fix the settings `syncledger config show {org_id}` lists, then run {retry}"
        return f"map it with {' and '.join(commands)}, then run {retry}"


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


def shorten(text: str, room: int = MAX_TEXT) -> str:
    """``text`` cut to ``room`` characters, ending in "…" when cut."""
    return text if len(text) <= room else text[: room - 1].rstrip() + ELLIPSIS


def priced_lines(fields: InvoiceFields, org: Organisation) -> list[PricedLine]:
    """The invoice's lines with their mapped account and tax type (for Xero's arithmetic)."""
    check_mappings(fields, org)
    return [
        PricedLine(
            line.quantity,
            line.unit_amount,
            org.account_for(line.category),
            org.tax_type_for(line.tax_rate) if line.tax_rate is not None else None,
        )
        for line in fields.line_items
    ]


def _lines(fields: InvoiceFields, org: Organisation, rounding: Rounding | None) -> list[Any]:
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
    if rounding is not None:
        extra: dict[str, Any] = {
            "Description": "Rounding (to OpenSolar's total)",
            "Quantity": Decimal(1),
            "UnitAmount": rounding.amount,
            "AccountCode": rounding.account,
        }
        if rounding.tax_type is not None:
            extra["TaxType"] = rounding.tax_type
        lines.append(extra)
    return lines


def line_amount_types(fields: InvoiceFields) -> str:
    """Xero's LineAmountTypes for OpenSolar's ``amounts_include_tax``."""
    return "Inclusive" if fields.amounts_include_tax else "Exclusive"


def contact_name(customer: Customer, qualifier: str | None = None) -> str:
    """A contact's Name: the customer's name, with ``qualifier`` in brackets when the plain name
    is taken; the name is shortened (ending "…") so the whole fits Xero's 255 characters."""
    if qualifier is None:
        return shorten(customer.name)
    tail = f" ({shorten(qualifier, 120)})"
    return shorten(customer.name, MAX_TEXT - len(tail)) + tail


def contact_payload(customer: Customer, *, name: str | None = None) -> dict[str, Any]:
    """A new Xero contact for an OpenSolar customer."""
    body: dict[str, Any] = {"Name": name or contact_name(customer)}
    if customer.email:
        body["EmailAddress"] = customer.email
    parts = customer.name.split(None, 1)
    if len(parts) == 2:
        body["FirstName"], body["LastName"] = (shorten(p) for p in parts)
    return body


def document_url(doc_id: str, opensolar_id: str, base: str = OPENSOLAR_URL) -> str:
    """The link to the OpenSolar document carried in a Xero invoice's ``Url``: it names the
    ledger document, so an invoice found again in Xero is known to be this document's."""
    return f"{base.rstrip('/')}/#/invoices/{quote(opensolar_id, safe='')}?syncledger={doc_id}"


def marked_document(url: object) -> str | None:
    """The ledger document a Xero invoice's ``Url`` names, if it carries our mark."""
    if not isinstance(url, str):
        return None
    found = _MARKER.search(url)
    return found.group(1).lower() if found else None


def invoice_reference(fields: InvoiceFields) -> str | None:
    """The invoice's Reference in Xero: its OpenSolar project."""
    return shorten(f"OpenSolar project {fields.project_id}") if fields.project_id else None


def invoice_payload(
    fields: InvoiceFields,
    org: Organisation,
    contact_id: str,
    issued_on: date,
    *,
    number: str | None = None,
    url: str | None = None,
    rounding: Rounding | None = None,
) -> dict[str, Any]:
    """The ACCREC invoice for an issued OpenSolar invoice (sent as ``number`` when given)."""
    body: dict[str, Any] = {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact_id},
        "InvoiceNumber": number or fields.invoice_number,
        "Date": invoice_day(fields, issued_on).isoformat(),
        "DueDate": due_day(fields, issued_on).isoformat(),
        "CurrencyCode": fields.currency,
        "LineAmountTypes": line_amount_types(fields),
        "Status": org.invoice_status,
        "LineItems": _lines(fields, org, rounding),
    }
    reference = invoice_reference(fields)
    if reference:
        body["Reference"] = reference
    if url:
        body["Url"] = url
    return body


def invoice_update_payload(
    invoice_id: str,
    fields: InvoiceFields,
    org: Organisation,
    issued_on: date,
    status: str,
    *,
    rounding: Rounding | None = None,
) -> dict[str, Any]:
    """The edit that brings a Xero invoice in line with OpenSolar: its lines, tax treatment,
    dates and reference, its status kept (contact, number and currency are not sent)."""
    return {
        "InvoiceID": invoice_id,
        "Status": status,
        "Date": invoice_day(fields, issued_on).isoformat(),
        "DueDate": due_day(fields, issued_on).isoformat(),
        "Reference": invoice_reference(fields) or "",
        "LineAmountTypes": line_amount_types(fields),
        "LineItems": _lines(fields, org, rounding),
    }


def credit_note_number(invoice_number: str) -> str:
    """The CreditNoteNumber of the credit note that cancels an invoice: ``CN-`` and the
    invoice's number (its last 252 characters when longer)."""
    return f"CN-{invoice_number[-(MAX_TEXT - 3) :]}"


_CREDIT_LINE_FIELDS = ("Description", "Quantity", "UnitAmount", "AccountCode", "TaxType")


def credit_note_payload(
    xero_invoice: dict[str, Any], number: str, contact_id: str, day: date
) -> dict[str, Any]:
    """The ACCRECCREDIT credit note mirroring an invoice as Xero holds it (its lines, accounts,
    tax types, tax treatment and currency), so it credits exactly the invoice's total."""
    lines = []
    for line in xero_invoice.get("LineItems") or []:
        item = {k: line[k] for k in _CREDIT_LINE_FIELDS if line.get(k) not in (None, "")}
        if "Description" not in item:
            item["Description"] = "Cancelled invoice line"
        lines.append(item)
    return {
        "Type": "ACCRECCREDIT",
        "Contact": {"ContactID": contact_id},
        "CreditNoteNumber": credit_note_number(number),
        "Reference": shorten(f"Cancellation of {number}"),
        "Date": day.isoformat(),
        "CurrencyCode": xero_invoice.get("CurrencyCode"),
        "LineAmountTypes": xero_invoice.get("LineAmountTypes") or "Exclusive",
        "Status": "AUTHORISED",
        "LineItems": lines,
    }


def allocation_payload(invoice_xero_id: str, amount: Decimal, day: date) -> dict[str, Any]:
    """An allocation of a credit note to the invoice it cancels."""
    return {"Invoice": {"InvoiceID": invoice_xero_id}, "Amount": amount, "Date": day.isoformat()}


def payment_tag(opensolar_id: str) -> str:
    """What every payment's Reference in Xero ends with: it names the OpenSolar payment."""
    return f"OpenSolar payment {opensolar_id}"


def payment_reference(fields: PaymentFields, opensolar_id: str) -> str:
    """The payment's Reference in Xero; it names the OpenSolar payment so it can be found again."""
    tag = payment_tag(opensolar_id)
    if fields.reference:
        room = MAX_TEXT - len(tag) - 3
        return f"{shorten(fields.reference, room)} ({tag})"
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
