"""Checks of account codes and tax types against an organisation's chart of accounts and tax
rates in Xero, before a mapping is saved, so a code Xero would reject is refused now with the
reason rather than failing every invoice later. Pure: the chart is given as Xero's ``Accounts``
objects, the rates as its ``TaxRates`` objects."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from domain.errors import ConfigurationError

NOT_ON_SALES = ("BANK",)


def _find(code: str, accounts: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    for account in accounts:
        if str(account.get("Code", "")).casefold() == code.casefold():
            return account
    raise ConfigurationError(f"account {code} is not in the Xero organisation's chart of accounts")


def _describe(account: Mapping[str, Any]) -> str:
    return f"account {account.get('Code')} ({account.get('Name')}, {account.get('Type')})"


def _active(account: Mapping[str, Any]) -> None:
    if account.get("Status", "ACTIVE") != "ACTIVE":
        raise ConfigurationError(
            f"{_describe(account)} is {str(account.get('Status')).lower()} in Xero; Xero refuses "
            "archived accounts on new documents"
        )


def check_sales_account(code: str, accounts: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    """The account for a line category, or ``ConfigurationError`` saying why Xero would refuse
    it on a sales invoice line."""
    account = _find(code, accounts)
    _active(account)
    if account.get("Type") in NOT_ON_SALES:
        raise ConfigurationError(
            f"{_describe(account)} is a bank account; Xero refuses bank accounts on invoice lines"
        )
    if account.get("SystemAccount"):
        raise ConfigurationError(
            f"{_describe(account)} is a system account ({account.get('SystemAccount')}); Xero "
            "refuses system accounts on invoice lines"
        )
    return account


def check_payment_account(code: str, accounts: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    """The account for payments, or ``ConfigurationError`` saying why Xero would refuse it."""
    account = _find(code, accounts)
    _active(account)
    if account.get("Type") != "BANK" and not account.get("EnablePaymentsToAccount"):
        raise ConfigurationError(
            f"{_describe(account)} cannot receive payments: choose a BANK account, or enable "
            "payments to this account in Xero"
        )
    return account


def check_rounding_account(code: str, accounts: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    """The account for rounding lines, or ``ConfigurationError`` saying why Xero would refuse it
    (Xero's own Rounding system account is allowed on document lines)."""
    account = _find(code, accounts)
    _active(account)
    if account.get("Type") in NOT_ON_SALES:
        raise ConfigurationError(f"{_describe(account)} is a bank account; choose another")
    system = account.get("SystemAccount")
    if system and system != "ROUNDING":
        raise ConfigurationError(
            f"{_describe(account)} is a system account ({system}); Xero refuses it on invoice "
            "lines (its Rounding account is the one system account allowed)"
        )
    return account


def check_sales_tax_type(tax_type: str, rates: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    """The tax rate for a TaxType on invoice lines, or ``ConfigurationError`` saying why Xero
    would refuse it: unknown, not active, or not usable on sales (revenue)."""
    for rate in rates:
        if str(rate.get("TaxType", "")).casefold() == tax_type.casefold():
            break
    else:
        usable = sorted(
            str(r.get("TaxType"))
            for r in rates
            if r.get("Status", "ACTIVE") == "ACTIVE" and r.get("CanApplyToRevenue", True)
        )
        raise ConfigurationError(
            f"tax type {tax_type} is not one of the Xero organisation's tax rates (usable on "
            f"sales: {', '.join(usable) or 'none'})"
        )
    described = f"tax type {rate.get('TaxType')} ({rate.get('Name')})"
    status = str(rate.get("Status", "ACTIVE"))
    if status != "ACTIVE":
        raise ConfigurationError(
            f"{described} is {status.lower()} in Xero; Xero refuses it on new documents"
        )
    if rate.get("CanApplyToRevenue") is False:
        raise ConfigurationError(
            f"{described} cannot be used on sales in Xero (it is for purchases); choose a "
            "sales tax type"
        )
    return rate
