"""Line items of invoices and credit notes: validation against the chart, pricing and tax.

For each submitted line this checks the account (exists, usable on this kind of document, not
archived; required unless the document is a DRAFT) and the tax type (exists, usable on this side
of the ledger; when absent, the account's default), then prices it: LineAmount = Quantity ×
UnitAmount rounded to cents (less any discount), tax per line and rounded per line
(notes §1.2, §1.7). Messages are Xero's.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from syncledger.sandbox import wire
from syncledger.sandbox.chart import DEFAULT_PURCHASES_TAX, DEFAULT_SALES_TAX
from syncledger.sandbox.model import Account, LineItem, Organisation, TaxRate
from syncledger.sandbox.money import (
    HUNDRED,
    NO_TAX,
    ZERO,
    document_totals,
    line_tax,
    round_money,
    round_places,
)

MISSING_ACCOUNT = "Account code must be specified"
MISSING_DESCRIPTION = "The description field is mandatory for each line item."
USABLE_SYSTEM_ACCOUNTS = frozenset({"ROUNDING"})


def invalid_code(code: str) -> str:
    """Xero's message for an unknown account code or one the document may not use."""
    return f"Account code '{code}' is not a valid code for this document."


def archived_code(code: str) -> str:
    """Xero's message for an archived or deleted account."""
    return (
        f"Account code '{code}' has been archived, or has been deleted. "
        "Each line item must reference a valid account."
    )


def invalid_tax_type(tax_type: str) -> str:
    """Xero's message for a tax type that does not exist or cannot be used here."""
    return (
        f"The TaxType code '{tax_type}' does not exist or cannot be used for this type of "
        "transaction."
    )


@dataclass(frozen=True)
class LineRules:
    """What the document around the lines allows."""

    org: Organisation
    sales: bool
    require_accounts: bool
    line_amount_types: str
    unit_dp: int
    allow_discount: bool


def usable_on_documents(account: Account) -> bool:
    """Bank accounts and most system accounts cannot appear on a document line."""
    if account.type == "BANK":
        return False
    return account.system_account is None or account.system_account in USABLE_SYSTEM_ACCOUNTS


def _number(raw: dict[str, Any], name: str, errors: list[str]) -> Decimal | None:
    if name not in raw or raw[name] is None:
        return None
    value = wire.to_decimal(raw[name])
    if value is None:
        errors.append(f"{name} must be a number.")
    return value


def _account(rules: LineRules, raw: dict[str, Any], errors: list[str]) -> Account | None:
    code = raw.get("AccountCode")
    account_id = raw.get("AccountID")
    if isinstance(code, str) and code.strip():
        account = rules.org.account_by_code(code)
        if account is None or not usable_on_documents(account):
            errors.append(invalid_code(code))
            return None
        if account.status != "ACTIVE":
            errors.append(archived_code(code))
            return None
        return account
    if isinstance(account_id, str) and account_id.strip():
        account = rules.org.accounts.get(account_id.strip().lower())
        if account is None:
            errors.append("Account must be valid.")
            return None
        if not usable_on_documents(account):
            errors.append(invalid_code(account.code))
            return None
        if account.status != "ACTIVE":
            errors.append(archived_code(account.code))
            return None
        return account
    if rules.require_accounts:
        errors.append(MISSING_ACCOUNT)
    return None


def _usable(rate: TaxRate, sales: bool) -> bool:
    return rate.status == "ACTIVE" and (rate.sales if sales else rate.purchases)


def _tax_rate(
    rules: LineRules, raw: dict[str, Any], account: Account | None, errors: list[str]
) -> TaxRate | None:
    given = raw.get("TaxType")
    if isinstance(given, str) and given.strip():
        rate = rules.org.tax_rates.get(given.strip().upper())
        if rate is None or not _usable(rate, rules.sales):
            errors.append(invalid_tax_type(given))
            return None
        return rate
    if account is None:
        return None
    default = rules.org.tax_rates.get(account.tax_type or "")
    if default is not None and _usable(default, rules.sales):
        return default
    # Xero falls back to the organisation's default rate for this side of the ledger.
    return rules.org.tax_rates.get(DEFAULT_SALES_TAX if rules.sales else DEFAULT_PURCHASES_TAX)


def _price(
    rules: LineRules, raw: dict[str, Any], errors: list[str]
) -> tuple[Decimal, Decimal, Decimal, Decimal | None, Decimal | None]:
    quantity = _number(raw, "Quantity", errors)
    unit = _number(raw, "UnitAmount", errors)
    given_amount = _number(raw, "LineAmount", errors)
    rate: Decimal | None = None
    discount: Decimal | None = None
    if rules.allow_discount:
        rate = _number(raw, "DiscountRate", errors)
        discount = _number(raw, "DiscountAmount", errors)
        if rate is not None and not ZERO <= rate <= HUNDRED:
            errors.append("DiscountRate must be between 0 and 100.")
    if quantity is None and unit is None and given_amount is None:
        return ZERO, ZERO, ZERO, None, None
    if quantity is None:
        quantity = Decimal(1)
        if given_amount is not None and unit is not None and not unit.is_zero():
            quantity = given_amount / unit
    if unit is None:
        amount = given_amount if given_amount is not None else ZERO
        unit = amount / quantity if not quantity.is_zero() else amount
    quantity = round_places(quantity, 4)
    unit = round_places(unit, rules.unit_dp)
    gross = quantity * unit
    if rate is not None and not rate.is_zero():
        line_amount = round_money(gross * (HUNDRED - rate) / HUNDRED)
    elif discount is not None and not discount.is_zero():
        line_amount = round_money(gross - discount)
    else:
        line_amount = round_money(gross)
    return quantity, unit, line_amount, rate, discount


def build_line(rules: LineRules, raw: Any, errors: list[str]) -> LineItem | None:
    """Validate and price one submitted line; appends messages to `errors`."""
    if not isinstance(raw, dict):
        errors.append("A line item must be an object.")
        return None
    description = raw.get("Description")
    item_code = raw.get("ItemCode")
    if description is not None and not isinstance(description, str):
        description = str(description)
    if not description and not item_code:
        errors.append(MISSING_DESCRIPTION)
    account = _account(rules, raw, errors)
    rate = _tax_rate(rules, raw, account, errors)
    quantity, unit, line_amount, discount_rate, discount_amount = _price(rules, raw, errors)
    given_tax = _number(raw, "TaxAmount", errors)
    if rules.line_amount_types == NO_TAX:
        tax = ZERO
    elif given_tax is not None:
        tax = round_money(given_tax)
    else:
        tax = line_tax(line_amount, rate.rate if rate else ZERO, rules.line_amount_types)
    tracking = raw.get("Tracking")
    line_id = raw.get("LineItemID")
    return LineItem(
        line_item_id=line_id if isinstance(line_id, str) and line_id else str(uuid.uuid4()),
        description=description,
        quantity=quantity,
        unit_amount=unit,
        line_amount=line_amount,
        tax_amount=tax,
        account_code=account.code if account else None,
        account_id=account.account_id if account else None,
        tax_type=rate.tax_type if rate else None,
        item_code=item_code if isinstance(item_code, str) else None,
        discount_rate=discount_rate,
        discount_amount=discount_amount,
        tracking=[t for t in tracking if isinstance(t, dict)] if isinstance(tracking, list) else [],
    )


def build_lines(rules: LineRules, raw_lines: Any) -> tuple[list[LineItem], list[str]]:
    """Validate and price all lines; returns the lines and de-duplicated messages."""
    errors: list[str] = []
    if raw_lines is None:
        return [], errors
    if not isinstance(raw_lines, list):
        return [], ["LineItems must be a list."]
    lines: list[LineItem] = []
    for raw in raw_lines:
        line = build_line(rules, raw, errors)
        if line is not None:
            lines.append(line)
    return lines, list(dict.fromkeys(errors))


def missing_accounts(lines: Sequence[LineItem]) -> list[str]:
    """The message for lines that lack an account, when the document leaves DRAFT."""
    return [MISSING_ACCOUNT] if any(line.account_code is None for line in lines) else []


def totals(lines: Sequence[LineItem], line_amount_types: str) -> tuple[Decimal, Decimal, Decimal]:
    """(SubTotal, TotalTax, Total) of priced lines."""
    return document_totals(
        ((line.line_amount, line.tax_amount) for line in lines), line_amount_types
    )
