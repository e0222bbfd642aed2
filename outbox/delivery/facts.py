"""What deliveries need to know of a Xero organisation's settings: its base and enabled
currencies, and its tax table (rates, and each account's default tax type).

Read from Xero when first needed (the enabled currencies only for a document in another currency
than the base), kept per tenant for a few minutes, and read again at once when a document needs
something the kept copy lacks (a currency just enabled in Xero), so a refusal is never based on
stale settings. Shared by all deliveries of one relay (thread-safe).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from domain.money import TaxTable
from outbox.xero import XeroClient, XeroNotFoundError, XeroRejectedError
from outbox.xero.taxes import rates_by_tax_type, tax_types_by_account

KEEP_SECONDS = 600.0


@dataclass(frozen=True)
class Currencies:
    """A Xero organisation's base currency and the currencies it has enabled."""

    base: str
    enabled: frozenset[str] | None
    """None when Xero would not list them (Xero then has the last word on the invoice)."""

    def allows(self, code: str) -> bool:
        return code == self.base or self.enabled is None or code in self.enabled

    def describe(self) -> str:
        others = sorted((self.enabled or frozenset()) - {self.base})
        return f"base currency {self.base}" + (
            f", also enabled: {', '.join(others)}" if others else ", no other currency enabled"
        )


class XeroFacts:
    """Per-tenant settings read from Xero, kept for ``keep`` seconds."""

    def __init__(
        self, keep: float = KEEP_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.keep = keep
        self.clock = clock
        self._lock = threading.Lock()
        self._currencies: dict[str, tuple[float, Currencies]] = {}
        self._taxes: dict[str, tuple[float, TaxTable]] = {}

    def currencies(
        self,
        tenant: str,
        client: XeroClient,
        owners: Sequence[str],
        code: str,
        *,
        fresh: bool = False,
    ) -> Currencies:
        """The tenant's currencies as far as a document in ``code`` needs them (read from Xero
        when not kept, too old, or ``fresh``): its base currency, and, when ``code`` is another
        one, the currencies it has enabled."""
        with self._lock:
            kept = self._currencies.get(tenant)
        young = kept is not None and self.clock() - kept[0] < self.keep
        if kept is not None and young and not fresh:
            known = kept[1]
            if code == known.base or known.enabled is not None:
                return known
        base = kept[1].base if kept is not None and young else None
        if base is None:
            base = str(client.organisation(owners).get("BaseCurrency") or "")
        enabled: frozenset[str] | None = None
        if code != base:
            try:
                enabled = frozenset(client.currencies(owners)) | {base}
            except (XeroNotFoundError, XeroRejectedError):
                enabled = None  # not listed: Xero decides when the invoice is sent
        found = Currencies(base, enabled)
        with self._lock:
            self._currencies[tenant] = (self.clock(), found)
        return found

    def taxes(self, tenant: str, client: XeroClient, owners: Sequence[str]) -> TaxTable:
        """The tenant's tax rates and each account's default tax type."""
        with self._lock:
            kept = self._taxes.get(tenant)
        if kept is not None and self.clock() - kept[0] < self.keep:
            return kept[1]
        rates = rates_by_tax_type(client.tax_rates(owners))
        table = TaxTable(rates, tax_types_by_account(client.accounts(owners)))
        with self._lock:
            self._taxes[tenant] = (self.clock(), table)
        return table
