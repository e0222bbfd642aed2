"""The sandbox's organisations, by tenant id, in creation order; thread-safe.

The first organisation created is named "Demo Company (AU)", the next ones "Sandbox Company 2",
"Sandbox Company 3" and so on, unless a name is given. Every organisation starts with the base
currency and the enabled currencies the registry was made with.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from syncledger.sandbox.chart import new_organisation
from syncledger.sandbox.model import Organisation

FIRST_NAME = "Demo Company (AU)"


class Tenants:
    """A registry of organisations."""

    def __init__(self, base_currency: str = "AUD", currencies: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._orgs: dict[str, Organisation] = {}
        self._base_currency = base_currency
        self._currencies = tuple(currencies)

    def add(self, name: str | None = None) -> Organisation:
        """Create an organisation with the default chart and return it."""
        with self._lock:
            if name is None or not name.strip():
                name = FIRST_NAME if not self._orgs else f"Sandbox Company {len(self._orgs) + 1}"
            org = new_organisation(name.strip(), time.time(), self._base_currency, self._currencies)
            self._orgs[org.tenant_id] = org
            return org

    def get(self, tenant_id: str | None) -> Organisation | None:
        """The organisation with this tenant id (case-insensitive), if any."""
        if not tenant_id:
            return None
        with self._lock:
            return self._orgs.get(tenant_id.strip().lower())

    def exists(self, tenant_id: str) -> bool:
        """Whether the tenant id is known."""
        return self.get(tenant_id) is not None

    def ids(self) -> list[str]:
        """Tenant ids in creation order."""
        with self._lock:
            return list(self._orgs)

    def all(self) -> list[Organisation]:
        """Organisations in creation order."""
        with self._lock:
            return list(self._orgs.values())

    def name(self, tenant_id: str) -> str | None:
        """An organisation's name."""
        org = self.get(tenant_id)
        return org.name if org else None
