"""Turns the in-memory ledger into Xero's JSON: the response envelope, dates, contacts and the
settings (Account, TaxRate, Organisation).

The Xero shapes follow the official spec's schemas with the fields real responses carry: MS
dates with `...String` companions and the `{"Id", "Status", "ProviderName", "DateTimeUTC",
<Collection>: [...]}` envelope. The transactions (Invoice, CreditNote, Allocation, Payment) are
in ``syncledger.sandbox.transactions``; the sandbox-only state dump is in
``syncledger.sandbox.dump``.
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
    Contact,
    Organisation,
    TaxRate,
)
from syncledger.sandbox.money import ZERO

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


def put_date(payload: dict[str, Any], name: str, day: Any) -> None:
    """Set a date and its `...String` companion, when there is one."""
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
