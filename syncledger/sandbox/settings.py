"""The settings endpoints: Accounts (list, get, add, update), TaxRates and Organisation.

Accounts take one element per request, as in Xero (notes §1.6). Codes and names are unique;
system accounts cannot be archived. Updating an account is how tests archive it or set
`EnablePaymentsToAccount`, which then decides whether payments may be made into it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from syncledger.sandbox import batch
from syncledger.sandbox.call import Call
from syncledger.sandbox.chart import ACCOUNT_CLASSES
from syncledger.sandbox.errors import ApiError, ElementError
from syncledger.sandbox.exchange import Response, json_response, not_found
from syncledger.sandbox.model import Account, Organisation, TaxRate
from syncledger.sandbox.query import select
from syncledger.sandbox.render import (
    account_json,
    envelope,
    organisation_json,
    tax_rate_json,
)
from syncledger.sandbox.where import BOOL, GUID, NUMBER, STRING, Field

ACCOUNT_FIELDS: dict[str, Field[Account]] = {
    "accountid": Field(GUID, lambda a: a.account_id),
    "code": Field(STRING, lambda a: a.code),
    "name": Field(STRING, lambda a: a.name),
    "status": Field(STRING, lambda a: a.status),
    "type": Field(STRING, lambda a: a.type),
    "class": Field(STRING, lambda a: ACCOUNT_CLASSES.get(a.type)),
    "taxtype": Field(STRING, lambda a: a.tax_type),
    "systemaccount": Field(STRING, lambda a: a.system_account),
    "enablepaymentstoaccount": Field(BOOL, lambda a: a.enable_payments),
    "bankaccountnumber": Field(STRING, lambda a: a.bank_account_number),
    "bankaccounttype": Field(STRING, lambda a: a.bank_account_type),
}

TAX_FIELDS: dict[str, Field[TaxRate]] = {
    "taxtype": Field(STRING, lambda r: r.tax_type),
    "name": Field(STRING, lambda r: r.name),
    "status": Field(STRING, lambda r: r.status),
    "reporttaxtype": Field(STRING, lambda r: r.report_tax_type),
    "effectiverate": Field(NUMBER, lambda r: r.rate),
    "displaytaxrate": Field(NUMBER, lambda r: r.rate),
    "canapplytorevenue": Field(BOOL, lambda r: r.sales),
    "canapplytoexpenses": Field(BOOL, lambda r: r.purchases),
}


def list_accounts(call: Call, args: Sequence[str]) -> Response:
    """GET /Accounts."""
    chosen = select(call, list(call.org.accounts.values()), ACCOUNT_FIELDS, "Account")
    return json_response(200, envelope("Accounts", [account_json(a) for a in chosen.items]))


def _find(org: Organisation, ident: str) -> Account:
    account = org.accounts.get(ident.strip().lower())
    if account is None:
        raise ApiError(not_found())
    return account


def get_account(call: Call, args: Sequence[str]) -> Response:
    """GET /Accounts/{AccountID}."""
    return json_response(200, envelope("Accounts", [account_json(_find(call.org, args[0]))]))


def _check(org: Organisation, raw: dict[str, Any], current: Account | None) -> dict[str, Any]:
    errors: list[str] = []
    changes: dict[str, Any] = {}
    for json_name, attribute in (("Code", "code"), ("Name", "name")):
        value = raw.get(json_name)
        if value is None:
            if current is None:
                errors.append(f"Please enter a {json_name}.")
            continue
        text = str(value).strip()
        if not text:
            errors.append(f"Please enter a {json_name}.")
            continue
        for other in org.accounts.values():
            if other is not current and getattr(other, attribute).casefold() == text.casefold():
                errors.append(f"Please enter a unique {json_name}.")
                break
        changes[attribute] = text
    kind = raw.get("Type")
    if kind is not None:
        if not isinstance(kind, str) or kind.upper() not in ACCOUNT_CLASSES:
            errors.append(f"Account Type '{kind}' is not valid.")
        elif current is not None and kind.upper() != current.type:
            errors.append("The Type of an existing account cannot be changed.")
        else:
            changes["type"] = kind.upper()
    elif current is None:
        errors.append("Please select an account Type.")
    if changes.get("type") == "BANK" and not raw.get("BankAccountNumber"):
        errors.append("Please enter a Bank Account Number.")
    status = raw.get("Status")
    if status is not None:
        if not isinstance(status, str) or status.upper() not in {"ACTIVE", "ARCHIVED"}:
            errors.append(f"Account Status '{status}' is not valid.")
        elif current is not None and current.system_account and status.upper() != "ACTIVE":
            errors.append("System accounts cannot be archived.")
        else:
            changes["status"] = status.upper()
    tax_type = raw.get("TaxType")
    if tax_type is not None:
        if not isinstance(tax_type, str) or tax_type.upper() not in org.tax_rates:
            errors.append(
                f"The TaxType code '{tax_type}' does not exist or cannot be used for this account."
            )
        else:
            changes["tax_type"] = tax_type.upper()
    if "EnablePaymentsToAccount" in raw:
        changes["enable_payments"] = raw["EnablePaymentsToAccount"] is True
    if "ShowInExpenseClaims" in raw:
        changes["show_in_expense_claims"] = raw["ShowInExpenseClaims"] is True
    for json_name, attribute in (
        ("Description", "description"),
        ("BankAccountNumber", "bank_account_number"),
        ("ReportingCode", "reporting_code"),
    ):
        if isinstance(raw.get(json_name), str):
            changes[attribute] = raw[json_name]
    if errors:
        raise ElementError(list(dict.fromkeys(errors)))
    return changes


def put_account(call: Call, args: Sequence[str]) -> Response:
    """PUT /Accounts: add one account (the body is a single Account)."""
    raw = batch.one_element(call, "Accounts")

    def process(element: dict[str, Any]) -> dict[str, Any]:
        changes = _check(call.org, element, None)
        account = Account(
            account_id=str(uuid.uuid4()),
            code=changes.pop("code"),
            name=changes.pop("name"),
            type=changes.pop("type"),
            updated_at=call.now,
        )
        if account.type == "BANK":
            account.bank_account_type = "BANK"
            account.currency_code = call.org.base_currency
            account.tax_type = "BASEXCLUDED"
        for attribute, value in changes.items():
            setattr(account, attribute, value)
        call.org.accounts[account.account_id] = account
        return account_json(account)

    return batch.single(call, "Accounts", "AccountID", raw, process)


def post_account(call: Call, args: Sequence[str]) -> Response:
    """POST /Accounts/{AccountID}: update one account (archive it, enable payments ...)."""
    account = _find(call.org, args[0])
    raw = batch.one_element(call, "Accounts")

    def process(element: dict[str, Any]) -> dict[str, Any]:
        for attribute, value in _check(call.org, element, account).items():
            setattr(account, attribute, value)
        account.updated_at = call.now
        return account_json(account)

    return batch.single(call, "Accounts", "AccountID", raw, process, account.account_id)


def list_tax_rates(call: Call, args: Sequence[str]) -> Response:
    """GET /TaxRates."""
    chosen = select(call, list(call.org.tax_rates.values()), TAX_FIELDS, "TaxRate")
    return json_response(200, envelope("TaxRates", [tax_rate_json(r) for r in chosen.items]))


def get_organisation(call: Call, args: Sequence[str]) -> Response:
    """GET /Organisation."""
    return json_response(200, envelope("Organisations", [organisation_json(call.org)]))
