"""The Currencies endpoints (notes §1.7): the currencies an organisation has enabled.

`GET /Currencies` lists the base currency first, then every other enabled one by code, and takes
`where` and `order` on `Code` and `Description`. `PUT /Currencies` (Xero's createCurrency; the
body is one Currency object) enables a currency, so invoices and credit notes may use it; a code
outside the spec's `CurrencyCode` list is a 400 ValidationException. Enabling one twice, or the
base, changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from syncledger.sandbox import batch, iso4217
from syncledger.sandbox.call import Call
from syncledger.sandbox.errors import ElementError
from syncledger.sandbox.exchange import Response, json_response, validation_error
from syncledger.sandbox.model import Organisation
from syncledger.sandbox.query import select
from syncledger.sandbox.render import envelope
from syncledger.sandbox.where import STRING, Field


@dataclass(frozen=True)
class Currency:
    """An enabled currency as Xero lists it."""

    code: str
    description: str

    def as_json(self) -> dict[str, Any]:
        """The spec's Currency object."""
        return {"Code": self.code, "Description": self.description}


FIELDS: dict[str, Field[Currency]] = {
    "code": Field(STRING, lambda c: c.code),
    "description": Field(STRING, lambda c: c.description),
}


def enabled(org: Organisation) -> list[Currency]:
    """The organisation's currencies: the base first, then the others by code."""
    others = [code for code in org.enabled_currencies() if code != org.base_currency]
    return [Currency(code, iso4217.describe(code)) for code in [org.base_currency, *others]]


def list_currencies(call: Call, args: Sequence[str]) -> Response:
    """GET /Currencies."""
    chosen = select(call, enabled(call.org), FIELDS, "Currency")
    return json_response(200, envelope("Currencies", [c.as_json() for c in chosen.items]))


def _enable(org: Organisation, raw: dict[str, Any]) -> Currency:
    code = iso4217.known(raw.get("Code"))
    if code is None:
        if raw.get("Code") in (None, ""):
            raise ElementError(["A currency Code must be specified."])
        raise ElementError([f"The currency code '{raw.get('Code')}' is not valid."])
    if code != org.base_currency:
        org.currencies.add(code)
    return Currency(code, iso4217.describe(code))


def put_currency(call: Call, args: Sequence[str]) -> Response:
    """PUT /Currencies: enable one currency (the body is a single Currency)."""
    raw = batch.one_element(call, "Currencies")
    if not isinstance(raw, dict):
        return validation_error(message="The request body must be a Currency object.")
    try:
        currency = _enable(call.org, raw)
    except ElementError as exc:
        failed = dict(raw)
        failed["ValidationErrors"] = [{"Message": message} for message in exc.messages]
        return validation_error([failed])
    return json_response(200, envelope("Currencies", [currency.as_json()]))
