"""A new Australian organisation with Xero's default chart of accounts and GST tax rates.

The chart holds what the project needs and a little more: two bank accounts, Sales and Other
Revenue (default tax OUTPUT), an archived "Old Sales" account, expense and equity accounts, and
the system accounts (Accounts Receivable, Accounts Payable, GST) that may never be used on a
document line. Tax rates follow an AU org: OUTPUT and INPUT at 10 %, GST-free and BAS-excluded
rates at 0 %.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from decimal import Decimal

from syncledger.sandbox.model import Account, Organisation, TaxRate

ACCOUNT_CLASSES: dict[str, str] = {
    "BANK": "ASSET",
    "CURRENT": "ASSET",
    "FIXED": "ASSET",
    "INVENTORY": "ASSET",
    "NONCURRENT": "ASSET",
    "PREPAYMENT": "ASSET",
    "CURRLIAB": "LIABILITY",
    "LIABILITY": "LIABILITY",
    "TERMLIAB": "LIABILITY",
    "PAYG": "LIABILITY",
    "EQUITY": "EQUITY",
    "DEPRECIATN": "EXPENSE",
    "DIRECTCOSTS": "EXPENSE",
    "EXPENSE": "EXPENSE",
    "OVERHEADS": "EXPENSE",
    "OTHERINCOME": "REVENUE",
    "REVENUE": "REVENUE",
    "SALES": "REVENUE",
}
"""Account type -> Xero's read-only account Class."""

DEFAULT_SALES_TAX = "OUTPUT"
DEFAULT_PURCHASES_TAX = "INPUT"

# (code, name, type, tax type, status, system account, bank account number)
_ACCOUNTS: tuple[tuple[str, str, str, str | None, str, str | None, str | None], ...] = (
    ("090", "Business Bank Account", "BANK", "BASEXCLUDED", "ACTIVE", None, "062000 12345678"),
    ("091", "Business Savings Account", "BANK", "BASEXCLUDED", "ACTIVE", None, "062000 87654321"),
    ("200", "Sales", "REVENUE", "OUTPUT", "ACTIVE", None, None),
    ("250", "Old Sales", "REVENUE", "OUTPUT", "ARCHIVED", None, None),
    ("260", "Other Revenue", "REVENUE", "OUTPUT", "ACTIVE", None, None),
    ("270", "Interest Income", "REVENUE", "BASEXCLUDED", "ACTIVE", None, None),
    ("310", "Cost of Goods Sold", "DIRECTCOSTS", "INPUT", "ACTIVE", None, None),
    ("400", "Advertising", "EXPENSE", "INPUT", "ACTIVE", None, None),
    ("404", "Bank Fees", "EXPENSE", "BASEXCLUDED", "ACTIVE", None, None),
    ("610", "Accounts Receivable", "CURRENT", "BASEXCLUDED", "ACTIVE", "DEBTORS", None),
    ("800", "Accounts Payable", "CURRLIAB", "BASEXCLUDED", "ACTIVE", "CREDITORS", None),
    ("820", "GST", "CURRLIAB", "BASEXCLUDED", "ACTIVE", "GST", None),
    ("860", "Rounding", "CURRLIAB", "BASEXCLUDED", "ACTIVE", "ROUNDING", None),
    ("880", "Owner Drawings", "EQUITY", "BASEXCLUDED", "ACTIVE", None, None),
    ("960", "Retained Earnings", "EQUITY", "BASEXCLUDED", "ACTIVE", "RETAINEDEARNINGS", None),
)

_TAX_RATES: tuple[TaxRate, ...] = (
    TaxRate("OUTPUT", "GST on Income", Decimal("10.0000"), "OUTPUT", sales=True, purchases=False),
    TaxRate("INPUT", "GST on Expenses", Decimal("10.0000"), "INPUT", sales=False, purchases=True),
    TaxRate(
        "EXEMPTOUTPUT",
        "GST Free Income",
        Decimal("0.0000"),
        "EXEMPTOUTPUT",
        sales=True,
        purchases=False,
    ),
    TaxRate(
        "EXEMPTEXPENSES",
        "GST Free Expenses",
        Decimal("0.0000"),
        "EXEMPTEXPENSES",
        sales=False,
        purchases=True,
    ),
    TaxRate(
        "EXEMPTEXPORT",
        "GST Free Exports",
        Decimal("0.0000"),
        "EXEMPTEXPORT",
        sales=True,
        purchases=False,
    ),
    TaxRate(
        "INPUTTAXED", "Input Taxed", Decimal("0.0000"), "INPUTTAXED", sales=True, purchases=True
    ),
    TaxRate(
        "BASEXCLUDED", "BAS Excluded", Decimal("0.0000"), "BASEXCLUDED", sales=True, purchases=True
    ),
    TaxRate(
        "GSTONIMPORTS",
        "GST on Imports",
        Decimal("0.0000"),
        "GSTONIMPORTS",
        sales=False,
        purchases=True,
    ),
)


def new_organisation(
    name: str, now: float, base_currency: str = "AUD", currencies: Iterable[str] = ()
) -> Organisation:
    """A fresh organisation with a new tenant id, the default chart and the AU tax rates, its
    bank accounts in the base currency, and `currencies` enabled besides the base."""
    org = Organisation(
        tenant_id=str(uuid.uuid4()),
        name=name,
        short_code="!" + secrets.token_hex(3),
        created_at=now,
        base_currency=base_currency,
        currencies=set(currencies) - {base_currency},
    )
    for code, account_name, kind, tax, status, system, bank_number in _ACCOUNTS:
        account = Account(
            account_id=str(uuid.uuid4()),
            code=code,
            name=account_name,
            type=kind,
            status=status,
            tax_type=tax,
            system_account=system,
            bank_account_number=bank_number,
            bank_account_type="BANK" if kind == "BANK" else None,
            currency_code=base_currency if kind == "BANK" else None,
            updated_at=now,
        )
        org.accounts[account.account_id] = account
    for rate in _TAX_RATES:
        org.tax_rates[rate.tax_type] = rate
    return org
