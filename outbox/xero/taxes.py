"""An organisation's tax table read from Xero's answers: each tax type's effective rate, and
each account's default tax type (keyed by case-folded account code). Shared by the deliveries'
settings cache and the reconciliation's reader, so both read Xero's tax table the same way."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any


def rates_by_tax_type(items: Iterable[Any]) -> dict[str, Decimal]:
    """``TaxType`` (upper case) -> ``EffectiveRate`` from a ``/TaxRates`` answer's items."""
    return {
        str(r.get("TaxType", "")).upper(): Decimal(str(r.get("EffectiveRate", "0")))
        for r in items
        if isinstance(r, Mapping) and r.get("TaxType")
    }


def tax_types_by_account(items: Iterable[Any]) -> dict[str, str]:
    """Account ``Code`` (case-folded) -> its default ``TaxType`` from an ``/Accounts`` answer."""
    return {
        str(a.get("Code", "")).casefold(): str(a.get("TaxType"))
        for a in items
        if isinstance(a, Mapping) and a.get("Code") and a.get("TaxType")
    }
