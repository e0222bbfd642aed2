"""Turns the in-memory ledger into JSON: Xero's API shapes, and the sandbox's own state dump.

The Xero shapes follow the official spec's schemas (Contact, Invoice, CreditNote, Allocation,
Payment, Account, TaxRate, Organisation) with the fields real responses carry: MS dates with
`...String` companions, the `Payments` and `CreditNotes` summaries on an invoice, and the
`{"Id", "Status", "ProviderName", "DateTimeUTC", <Collection>: [...]}` envelope. `state_json`
is the sandbox-only inspection format: snake_case keys, amounts as strings.
"""

from __future__ import annotations

import time
import uuid
from decimal import Decimal
from typing import Any

from syncledger.sandbox import wire
from syncledger.sandbox.chart import ACCOUNT_CLASSES
from syncledger.sandbox.model import (
    Account,
    Allocation,
    Contact,
    CreditNote,
    Document,
    Invoice,
    LineItem,
    Organisation,
    Payment,
    TaxRate,
)
from syncledger.sandbox.money import ZERO, round_places

PROVIDER_NAME = "syncledger Xero sandbox"
ONE = Decimal("1.000000")


def envelope(key: str, items: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """Xero's response wrapper around a collection."""
    payload: dict[str, Any] = {
        "Id": str(uuid.uuid4()),
        "Status": "OK",
        "ProviderName": PROVIDER_NAME,
        "DateTimeUTC": wire.ms_timestamp(time.time(), offset=False),
    }
    payload.update(extra)
    payload[key] = items
    return payload


def _put_date(payload: dict[str, Any], name: str, day: Any) -> None:
    if day is not None:
        payload[f"{name}String"] = wire.date_string(day)
        payload[name] = wire.ms_date(day)


# contacts --------------------------------------------------------------------------------------
def contact_ref(org: Organisation, contact_id: str) -> dict[str, Any]:
    """The short contact object embedded in documents."""
    contact = org.contacts.get(contact_id)
    if contact is None:
        return {"ContactID": contact_id}
    payload: dict[str, Any] = {
        "ContactID": contact.contact_id,
        "Name": contact.name,
        "ContactStatus": contact.status,
    }
    if contact.contact_number:
        payload["ContactNumber"] = contact.contact_number
    if contact.email:
        payload["EmailAddress"] = contact.email
    payload["HasValidationErrors"] = False
    return payload


def contact_json(
    contact: Contact, balances: dict[str, Any] | None = None, *, summary_only: bool = False
) -> dict[str, Any]:
    """A contact as GET /Contacts returns it."""
    payload: dict[str, Any] = {"ContactID": contact.contact_id}
    if contact.contact_number:
        payload["ContactNumber"] = contact.contact_number
    if contact.account_number:
        payload["AccountNumber"] = contact.account_number
    payload["ContactStatus"] = contact.status
    payload["Name"] = contact.name
    if contact.first_name:
        payload["FirstName"] = contact.first_name
    if contact.last_name:
        payload["LastName"] = contact.last_name
    payload["EmailAddress"] = contact.email or ""
    if contact.tax_number:
        payload["TaxNumber"] = contact.tax_number
    payload["UpdatedDateUTC"] = wire.ms_timestamp(contact.updated_at)
    payload["IsSupplier"] = contact.is_supplier
    payload["IsCustomer"] = contact.is_customer
    payload["HasAttachments"] = False
    payload["HasValidationErrors"] = False
    if summary_only:
        return payload
    payload["Addresses"] = [dict(address) for address in contact.addresses]
    payload["Phones"] = [dict(phone) for phone in contact.phones]
    payload["ContactGroups"] = []
    payload["ContactPersons"] = []
    if balances is not None:
        payload["Balances"] = balances
    return payload


def contact_balances(org: Organisation, today: Any) -> dict[str, dict[str, Any]]:
    """Outstanding and overdue receivables and payables per contact id."""
    sums: dict[str, list[Decimal]] = {}
    for invoice in org.invoices.values():
        if invoice.status not in {"AUTHORISED", "SUBMITTED"}:
            continue
        due = invoice.amount_due
        row = sums.setdefault(invoice.contact_id, [ZERO, ZERO, ZERO, ZERO])
        offset = 0 if invoice.type == "ACCREC" else 2
        row[offset] += due
        if invoice.due_date is not None and invoice.due_date < today:
            row[offset + 1] += due
    return {
        contact_id: {
            "AccountsReceivable": {"Outstanding": row[0], "Overdue": row[1]},
            "AccountsPayable": {"Outstanding": row[2], "Overdue": row[3]},
        }
        for contact_id, row in sums.items()
    }


def empty_balances() -> dict[str, Any]:
    """Balances of a contact with nothing outstanding."""
    return {
        "AccountsReceivable": {"Outstanding": ZERO, "Overdue": ZERO},
        "AccountsPayable": {"Outstanding": ZERO, "Overdue": ZERO},
    }


# documents -------------------------------------------------------------------------------------
def line_json(line: LineItem, unit_dp: int) -> dict[str, Any]:
    """One line item."""
    payload: dict[str, Any] = {"LineItemID": line.line_item_id}
    if line.description is not None:
        payload["Description"] = line.description
    payload["Quantity"] = round_places(line.quantity, 4)
    payload["UnitAmount"] = round_places(line.unit_amount, unit_dp)
    if line.item_code:
        payload["ItemCode"] = line.item_code
    if line.account_code is not None:
        payload["AccountCode"] = line.account_code
    if line.account_id is not None:
        payload["AccountID"] = line.account_id
    if line.tax_type is not None:
        payload["TaxType"] = line.tax_type
    payload["TaxAmount"] = line.tax_amount
    payload["LineAmount"] = line.line_amount
    if line.discount_rate is not None:
        payload["DiscountRate"] = line.discount_rate
    if line.discount_amount is not None:
        payload["DiscountAmount"] = line.discount_amount
    payload["Tracking"] = [dict(item) for item in line.tracking]
    return payload


def _document_common(
    org: Organisation, doc: Document, payload: dict[str, Any], lines: bool, unit_dp: int
) -> None:
    payload["Contact"] = contact_ref(org, doc.contact_id)
    _put_date(payload, "Date", doc.date)
    _put_date(payload, "DueDate", doc.due_date)
    payload["Status"] = doc.status
    payload["LineAmountTypes"] = doc.line_amount_types
    if lines:
        payload["LineItems"] = [line_json(line, unit_dp) for line in doc.lines]
    payload["SubTotal"] = doc.sub_total
    payload["TotalTax"] = doc.total_tax
    payload["Total"] = doc.total
    payload["UpdatedDateUTC"] = wire.ms_timestamp(doc.updated_at)
    payload["CurrencyCode"] = doc.currency_code
    payload["CurrencyRate"] = ONE
    _put_date(payload, "FullyPaidOnDate", doc.fully_paid_on)


def payment_summary(payment: Payment) -> dict[str, Any]:
    """A payment as listed on the document it pays."""
    return {
        "PaymentID": payment.payment_id,
        "Date": wire.ms_date(payment.date),
        "Amount": payment.amount,
        "Reference": payment.reference or "",
        "CurrencyRate": ONE,
        "HasAccount": True,
        "HasValidationErrors": False,
    }


def invoice_json(
    org: Organisation, invoice: Invoice, *, lines: bool = True, unit_dp: int = 2
) -> dict[str, Any]:
    """An invoice with its payment and credit-note summaries."""
    payments = [
        payment_summary(p) for p in org.payments_of(invoice.invoice_id) if p.status != "DELETED"
    ]
    credits: list[dict[str, Any]] = []
    for allocation in org.allocations_of(invoice.invoice_id):
        if allocation.deleted:
            continue
        note = org.credit_notes.get(allocation.credit_note_id)
        if note is None:
            continue
        credit: dict[str, Any] = {
            "CreditNoteID": note.credit_note_id,
            "CreditNoteNumber": note.number or "",
            "ID": allocation.allocation_id,
            "AppliedAmount": allocation.amount,
        }
        _put_date(credit, "Date", allocation.date)
        credit["LineItems"] = []
        credit["Total"] = note.total
        credits.append(credit)
    payload: dict[str, Any] = {
        "Type": invoice.type,
        "InvoiceID": invoice.invoice_id,
        "InvoiceNumber": invoice.number or "",
        "Reference": invoice.reference or "",
        "Payments": payments,
        "CreditNotes": credits,
        "Prepayments": [],
        "Overpayments": [],
        "AmountDue": invoice.amount_due,
        "AmountPaid": invoice.amount_paid,
        "AmountCredited": invoice.amount_credited,
        "SentToContact": invoice.sent_to_contact,
        "IsDiscounted": any(line.discount_rate or line.discount_amount for line in invoice.lines),
        "HasAttachments": False,
        "HasErrors": False,
    }
    _document_common(org, invoice, payload, lines, unit_dp)
    payload["UpdatedDateUTCString"] = wire.iso_timestamp(invoice.updated_at)
    if invoice.url:
        payload["Url"] = invoice.url
    return payload


def invoice_ref(invoice: Invoice, org: Organisation) -> dict[str, Any]:
    """The short invoice object embedded in payments and allocations."""
    return {
        "Type": invoice.type,
        "InvoiceID": invoice.invoice_id,
        "InvoiceNumber": invoice.number or "",
        "Contact": contact_ref(org, invoice.contact_id),
        "Status": invoice.status,
        "CurrencyCode": invoice.currency_code,
        "Payments": [],
        "CreditNotes": [],
        "Prepayments": [],
        "Overpayments": [],
        "HasErrors": False,
        "IsDiscounted": False,
        "LineItems": [],
    }


def credit_note_ref(note: CreditNote, org: Organisation) -> dict[str, Any]:
    """The short credit-note object embedded in payments and allocations."""
    return {
        "Type": note.type,
        "CreditNoteID": note.credit_note_id,
        "CreditNoteNumber": note.number or "",
        "Contact": contact_ref(org, note.contact_id),
        "Status": note.status,
        "CurrencyCode": note.currency_code,
        "HasErrors": False,
        "LineItems": [],
    }


def allocation_json(org: Organisation, allocation: Allocation) -> dict[str, Any]:
    """An allocation of credit to an invoice."""
    payload: dict[str, Any] = {
        "AllocationID": allocation.allocation_id,
        "Amount": allocation.amount,
    }
    _put_date(payload, "Date", allocation.date)
    invoice = org.invoices.get(allocation.invoice_id)
    payload["Invoice"] = (
        invoice_ref(invoice, org) if invoice else {"InvoiceID": allocation.invoice_id}
    )
    note = org.credit_notes.get(allocation.credit_note_id)
    if note is not None:
        payload["CreditNote"] = credit_note_ref(note, org)
    payload["IsDeleted"] = allocation.deleted
    return payload


def credit_note_json(
    org: Organisation, note: CreditNote, *, lines: bool = True, unit_dp: int = 2
) -> dict[str, Any]:
    """A credit note with its allocations and refunds."""
    allocations: list[dict[str, Any]] = []
    for allocation in org.allocations_of(note.credit_note_id):
        if allocation.deleted:
            continue
        item: dict[str, Any] = {
            "AllocationID": allocation.allocation_id,
            "Amount": allocation.amount,
        }
        _put_date(item, "Date", allocation.date)
        invoice = org.invoices.get(allocation.invoice_id)
        item["Invoice"] = {
            "InvoiceID": allocation.invoice_id,
            "InvoiceNumber": (invoice.number or "") if invoice else "",
            "Payments": [],
            "CreditNotes": [],
            "Prepayments": [],
            "Overpayments": [],
            "HasErrors": False,
            "IsDiscounted": False,
            "LineItems": [],
        }
        allocations.append(item)
    payments = [
        payment_summary(p) for p in org.payments_of(note.credit_note_id) if p.status != "DELETED"
    ]
    payload: dict[str, Any] = {
        "Type": note.type,
        "CreditNoteID": note.credit_note_id,
        "CreditNoteNumber": note.number or "",
        "Reference": note.reference or "",
        "RemainingCredit": note.remaining_credit,
        "Allocations": allocations,
        "Payments": payments,
        "AppliedAmount": note.amount_allocated,
        "SentToContact": False,
        "HasAttachments": False,
        "HasErrors": False,
    }
    _document_common(org, note, payload, lines, unit_dp)
    payload["UpdatedDateUTCString"] = wire.iso_timestamp(note.updated_at)
    return payload


def payment_json(org: Organisation, payment: Payment) -> dict[str, Any]:
    """A payment with its account and the document it applies to."""
    account = org.accounts.get(payment.account_id)
    payload: dict[str, Any] = {
        "PaymentID": payment.payment_id,
        "Date": wire.ms_date(payment.date),
        "DateString": wire.date_string(payment.date),
        "BankAmount": payment.amount,
        "Amount": payment.amount,
        "Reference": payment.reference or "",
        "CurrencyRate": ONE,
        "PaymentType": payment.payment_type,
        "Status": payment.status,
        "UpdatedDateUTC": wire.ms_timestamp(payment.updated_at),
        "HasAccount": True,
        "IsReconciled": payment.is_reconciled,
        "HasValidationErrors": False,
        "Account": {
            "AccountID": payment.account_id,
            "Code": account.code if account else "",
            "Name": account.name if account else "",
        },
    }
    if payment.invoice_id is not None:
        invoice = org.invoices.get(payment.invoice_id)
        if invoice is not None:
            payload["Invoice"] = invoice_ref(invoice, org)
    if payment.credit_note_id is not None:
        note = org.credit_notes.get(payment.credit_note_id)
        if note is not None:
            payload["CreditNote"] = credit_note_ref(note, org)
    return payload


# settings --------------------------------------------------------------------------------------
def account_json(account: Account) -> dict[str, Any]:
    """An account of the chart."""
    payload: dict[str, Any] = {
        "AccountID": account.account_id,
        "Code": account.code,
        "Name": account.name,
        "Status": account.status,
        "Type": account.type,
        "TaxType": account.tax_type or "NONE",
        "Class": ACCOUNT_CLASSES.get(account.type, "ASSET"),
        "EnablePaymentsToAccount": account.enable_payments,
        "ShowInExpenseClaims": account.show_in_expense_claims,
        "BankAccountType": account.bank_account_type or "",
        "ReportingCode": account.reporting_code or ACCOUNT_CLASSES.get(account.type, "ASS")[:3],
        "HasAttachments": False,
        "UpdatedDateUTC": wire.ms_timestamp(account.updated_at),
        "AddToWatchlist": False,
    }
    if account.description:
        payload["Description"] = account.description
    if account.system_account:
        payload["SystemAccount"] = account.system_account
    if account.bank_account_number:
        payload["BankAccountNumber"] = account.bank_account_number
    if account.currency_code:
        payload["CurrencyCode"] = account.currency_code
    return payload


def tax_rate_json(rate: TaxRate) -> dict[str, Any]:
    """A tax rate with its single GST component."""
    return {
        "Name": rate.name,
        "TaxType": rate.tax_type,
        "ReportTaxType": rate.report_tax_type,
        "CanApplyToAssets": True,
        "CanApplyToEquity": True,
        "CanApplyToExpenses": rate.purchases,
        "CanApplyToLiabilities": True,
        "CanApplyToRevenue": rate.sales,
        "DisplayTaxRate": rate.rate,
        "EffectiveRate": rate.rate,
        "Status": rate.status,
        "TaxComponents": [
            {"Name": "GST", "Rate": rate.rate, "IsCompound": False, "IsNonRecoverable": False}
        ],
    }


def organisation_json(org: Organisation) -> dict[str, Any]:
    """The organisation record of GET /Organisation (`PeriodLockDate` only when one is set)."""
    payload: dict[str, Any] = {
        "OrganisationID": org.tenant_id,
        "APIKey": "",
        "Name": org.name,
        "LegalName": org.name,
        "PaysTax": True,
        "Version": "AU",
        "OrganisationType": "COMPANY",
        "BaseCurrency": org.base_currency,
        "CountryCode": "AU",
        "IsDemoCompany": org.name.startswith("Demo Company"),
        "OrganisationStatus": "ACTIVE",
        "TaxNumber": "",
        "FinancialYearEndDay": 30,
        "FinancialYearEndMonth": 6,
        "SalesTaxBasis": "ACCRUALS",
        "SalesTaxPeriod": "QUARTERLY1",
        "DefaultSalesTax": "Tax Exclusive",
        "DefaultPurchasesTax": "Tax Exclusive",
        "CreatedDateUTC": wire.ms_timestamp(org.created_at),
        "OrganisationEntityType": "COMPANY",
        "Timezone": "AUSEASTERNSTANDARDTIME",
        "ShortCode": org.short_code,
        "Class": "DEMO",
        "Edition": "BUSINESS",
        "LineOfBusiness": "Solar installation",
        "Addresses": [],
        "Phones": [],
        "ExternalLinks": [],
        "PaymentTerms": {},
    }
    if org.period_lock_date is not None:
        payload["PeriodLockDate"] = wire.ms_date(org.period_lock_date)
    return payload


# sandbox state ---------------------------------------------------------------------------------
def _money(value: Decimal) -> str:
    return wire.decimal_text(value)


def _document_state(doc: Document) -> dict[str, Any]:
    return {
        "type": doc.type,
        "status": doc.status,
        "contact_id": doc.contact_id,
        "reference": doc.reference,
        "date": doc.date.isoformat(),
        "due_date": doc.due_date.isoformat() if doc.due_date else None,
        "line_amount_types": doc.line_amount_types,
        "currency_code": doc.currency_code,
        "sub_total": _money(doc.sub_total),
        "total_tax": _money(doc.total_tax),
        "total": _money(doc.total),
        "amount_paid": _money(doc.amount_paid),
        "fully_paid_on": doc.fully_paid_on.isoformat() if doc.fully_paid_on else None,
        "line_items": [
            {
                "line_item_id": line.line_item_id,
                "description": line.description,
                "quantity": wire.decimal_text(line.quantity),
                "unit_amount": wire.decimal_text(line.unit_amount),
                "account_code": line.account_code,
                "tax_type": line.tax_type,
                "tax_amount": _money(line.tax_amount),
                "line_amount": _money(line.line_amount),
            }
            for line in doc.lines
        ],
        "created_at": doc.created_at,
        "updated_at": doc.updated_at,
    }


def state_json(org: Organisation) -> dict[str, Any]:
    """Everything the organisation holds, for tests to assert on (amounts as strings)."""
    invoices = []
    for invoice in org.invoices.values():
        item = {"invoice_id": invoice.invoice_id, "invoice_number": invoice.number}
        item.update(_document_state(invoice))
        item["amount_due"] = _money(invoice.amount_due)
        item["amount_credited"] = _money(invoice.amount_credited)
        item["url"] = invoice.url
        invoices.append(item)
    notes = []
    for note in org.credit_notes.values():
        item = {"credit_note_id": note.credit_note_id, "credit_note_number": note.number}
        item.update(_document_state(note))
        item["remaining_credit"] = _money(note.remaining_credit)
        item["amount_allocated"] = _money(note.amount_allocated)
        notes.append(item)
    return {
        "tenant_id": org.tenant_id,
        "name": org.name,
        "base_currency": org.base_currency,
        "currencies": org.enabled_currencies(),
        "period_lock_date": org.period_lock_date.isoformat() if org.period_lock_date else None,
        "contacts": [
            {
                "contact_id": c.contact_id,
                "name": c.name,
                "status": c.status,
                "email": c.email,
                "contact_number": c.contact_number,
                "first_name": c.first_name,
                "last_name": c.last_name,
                "is_customer": c.is_customer,
                "updated_at": c.updated_at,
            }
            for c in org.contacts.values()
        ],
        "invoices": invoices,
        "credit_notes": notes,
        "allocations": [
            {
                "allocation_id": a.allocation_id,
                "credit_note_id": a.credit_note_id,
                "invoice_id": a.invoice_id,
                "amount": _money(a.amount),
                "date": a.date.isoformat(),
                "deleted": a.deleted,
            }
            for a in org.allocations.values()
        ],
        "payments": [
            {
                "payment_id": p.payment_id,
                "invoice_id": p.invoice_id,
                "credit_note_id": p.credit_note_id,
                "account_id": p.account_id,
                "account_code": (
                    org.accounts[p.account_id].code if p.account_id in org.accounts else None
                ),
                "amount": _money(p.amount),
                "date": p.date.isoformat(),
                "reference": p.reference,
                "status": p.status,
                "payment_type": p.payment_type,
            }
            for p in org.payments.values()
        ],
        "accounts": [
            {
                "account_id": a.account_id,
                "code": a.code,
                "name": a.name,
                "type": a.type,
                "status": a.status,
                "tax_type": a.tax_type,
                "enable_payments_to_account": a.enable_payments,
                "system_account": a.system_account,
            }
            for a in org.accounts.values()
        ],
    }
