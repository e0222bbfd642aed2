"""The organisation settings tests may change: base currency, enabled currencies, period lock date.

`parse` checks the values of a `POST /sandbox/settings` body (or `Sandbox.set_settings` keywords)
and names the bad key in a `SandboxConfigError`; `apply` sets them on an organisation, whose lock
the caller holds; `settings_json` is the shape `GET` and `POST /sandbox/settings` answer:

```
{"tenant": ID, "base_currency": "AUD", "currencies": ["AUD", "USD"], "period_lock_date": null}
```

`currencies` lists every enabled currency, the base included, sorted; setting it replaces the
enabled set (the base is always enabled). Changing the base moves the bank accounts that were in
the old base to the new one; documents keep the currency they were made in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from syncledger.sandbox import iso4217
from syncledger.sandbox.errors import SandboxConfigError
from syncledger.sandbox.model import Organisation

KEYS = frozenset({"base_currency", "currencies", "period_lock_date"})
"""The settings a control request may change."""


@dataclass(frozen=True)
class SettingsChange:
    """Checked new values; None (and `lock_given` False) leaves a setting as it is."""

    base_currency: str | None = None
    currencies: frozenset[str] | None = None
    lock_given: bool = False
    period_lock_date: dt.date | None = None


def _currencies(value: Any) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
        raise SandboxConfigError(
            f"currencies must be a list of currency codes, got {type(value).__name__}"
        )
    return frozenset(iso4217.check("currencies", code) for code in value)


def _lock_date(value: Any) -> dt.date | None:
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    if isinstance(value, str) and len(value.strip()) == 10:
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise SandboxConfigError(f"period_lock_date must be a YYYY-MM-DD date or null, got {value!r}")


def parse(values: Mapping[str, Any]) -> SettingsChange:
    """Check new settings (keys from `KEYS`); raises SandboxConfigError naming a bad key."""
    unknown = sorted(set(values) - KEYS)
    if unknown:
        raise SandboxConfigError(
            f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(KEYS))}"
        )
    base = values.get("base_currency")
    return SettingsChange(
        base_currency=iso4217.check("base_currency", base) if "base_currency" in values else None,
        currencies=_currencies(values["currencies"]) if "currencies" in values else None,
        lock_given="period_lock_date" in values,
        period_lock_date=_lock_date(values.get("period_lock_date")),
    )


def apply(org: Organisation, change: SettingsChange) -> None:
    """Set the changed settings on `org` (its lock held by the caller)."""
    if change.base_currency is not None and change.base_currency != org.base_currency:
        for account in org.accounts.values():
            if account.type == "BANK" and account.currency_code == org.base_currency:
                account.currency_code = change.base_currency
        org.base_currency = change.base_currency
    if change.currencies is not None:
        org.currencies = set(change.currencies)
    org.currencies.discard(org.base_currency)
    if change.lock_given:
        org.period_lock_date = change.period_lock_date


def settings_json(org: Organisation) -> dict[str, Any]:
    """The organisation's settings as the control endpoint shows them."""
    lock = org.period_lock_date
    return {
        "tenant": org.tenant_id,
        "base_currency": org.base_currency,
        "currencies": org.enabled_currencies(),
        "period_lock_date": lock.isoformat() if lock is not None else None,
    }
