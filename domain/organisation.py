"""The organisation aggregate: one OpenSolar organisation's Xero connection and sync settings.

It holds what mapping needs at send time (ledger-account mapping per line category, tax-rate
mapping, payment account, invoice status policy, rounding account, reissue numbering) and when
the Xero connection began, which decides whether a newly issued document is pushed at once or
stays Not Attempted. One ledger organisation belongs to one Xero organisation (tenant): moving it
to another is a deliberate switch, refused unless asked for once documents were synced.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.errors import ConfigurationError, TenantSwitchError
from domain.ids import organisation_id
from domain.wording import counted

INVOICE_STATUSES: tuple[str, ...] = ("AUTHORISED", "DRAFT", "SUBMITTED")
DEFAULT_INVOICE_STATUS = "AUTHORISED"
DEFAULT_ROUNDING_ACCOUNT = "860"
"""Xero's default chart has its Rounding account at 860."""
_ACCOUNT_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,9}$")
_TAX_TYPE = re.compile(r"^[A-Za-z0-9_]{1,50}$")


def category_key(category: str) -> str:
    """How line categories are compared: trimmed and case-insensitive."""
    return " ".join(category.split()).casefold()


@dataclass(frozen=True)
class Connection:
    """A Xero connection: where to send, for which tenant, and since when."""

    xero_url: str
    tenant_id: str
    connected_at: datetime
    method: str

    def covers(self, moment: datetime) -> bool:
        """True if a document issued (or paid) at ``moment`` belongs to this connection."""
        return moment >= self.connected_at


@dataclass(frozen=True)
class Policy:
    """What a document needs to know of its organisation when a change arrives: since when
    documents are sent to Xero (the first connection; activity while disconnected waits for the
    reconnection), whether it is connected now, and to which Xero organisation."""

    since: datetime | None
    connected: bool
    tenant_id: str | None

    def covers(self, moment: datetime) -> bool:
        """True if a document issued (or paid) at ``moment`` is sent without being asked."""
        return self.since is not None and moment >= self.since


NO_CONNECTION = Policy(None, False, None)


class Organisation(Aggregate):
    """One OpenSolar organisation and its Xero settings."""

    class Registered(Aggregate.Created):
        org_id: str

    class Connected(Aggregate.Event):
        xero_url: str
        tenant_id: str
        connected_at: datetime
        method: str

        def apply(self, aggregate: Any) -> None:
            aggregate.connection = Connection(
                self.xero_url, self.tenant_id, self.connected_at, self.method
            )
            aggregate.tenant_id = self.tenant_id
            since = aggregate.since
            aggregate.since = self.connected_at if since is None else min(since, self.connected_at)

    class Disconnected(Aggregate.Event):
        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.connection = None
            aggregate.disconnect_reason = self.reason

    class AccountMapped(Aggregate.Event):
        category: str
        code: str

        def apply(self, aggregate: Any) -> None:
            aggregate.accounts[category_key(self.category)] = (self.category, self.code)

    class TaxRateMapped(Aggregate.Event):
        tax_rate: str
        tax_type: str

        def apply(self, aggregate: Any) -> None:
            aggregate.tax_types[category_key(self.tax_rate)] = (self.tax_rate, self.tax_type)

    class PaymentAccountSet(Aggregate.Event):
        code: str

        def apply(self, aggregate: Any) -> None:
            aggregate.payment_account = self.code

    class InvoiceStatusSet(Aggregate.Event):
        status: str

        def apply(self, aggregate: Any) -> None:
            aggregate.invoice_status = self.status

    class TenantSwitched(Aggregate.Event):
        """The organisation moved to another Xero organisation; documents synced to the old one
        are never acted on in the new one."""

        previous_tenant_id: str
        tenant_id: str
        synced_documents: int

        def apply(self, aggregate: Any) -> None:
            aggregate.switched_from[self.previous_tenant_id] = self.timestamp

    class NumberSuffixSet(Aggregate.Event):
        enabled: bool

        def apply(self, aggregate: Any) -> None:
            aggregate.number_suffix = self.enabled

    class RoundingAccountSet(Aggregate.Event):
        code: str

        def apply(self, aggregate: Any) -> None:
            aggregate.rounding_account = self.code

    class Reconciled(Aggregate.Event):
        """A reconciliation of the ledger with Xero ran; ``summary`` counts what differed."""

        tenant_id: str
        summary: dict[str, int]
        differences: int

        def apply(self, aggregate: Any) -> None:
            aggregate.last_reconciled = self.timestamp

    @staticmethod
    def create_id(org_id: str) -> UUID:
        return organisation_id(org_id)

    def __init__(self, org_id: str) -> None:
        self.org_id = org_id
        self.connection: Connection | None = None
        self.disconnect_reason: str | None = None
        self.accounts: dict[str, tuple[str, str]] = {}
        self.tax_types: dict[str, tuple[str, str]] = {}
        self.payment_account: str | None = None
        self.invoice_status: str = DEFAULT_INVOICE_STATUS
        self.last_reconciled: datetime | None = None
        self.tenant_id: str | None = None
        """The Xero organisation this one is (or was last) connected to."""
        self.since: datetime | None = None
        """Since when documents are sent: the earliest connection time."""
        self.switched_from: dict[str, datetime] = {}
        self.number_suffix = False
        self.rounding_account = DEFAULT_ROUNDING_ACCOUNT

    @classmethod
    def register(cls, org_id: str) -> Organisation:
        """Start the history of an organisation the ledger has not seen before."""
        return cls._create(cls.Registered, id=cls.create_id(org_id), org_id=org_id)

    def connect(
        self,
        xero_url: str,
        tenant_id: str,
        connected_at: datetime,
        method: str,
        *,
        switch_tenant: bool = False,
        synced_documents: int = 0,
    ) -> None:
        """Record a Xero connection; documents issued from ``connected_at`` on are pushed.
        Moving to another Xero organisation than the one ``synced_documents`` documents were
        synced to is refused unless ``switch_tenant``."""
        if not xero_url.startswith(("http://", "https://")):
            raise ConfigurationError(f"Xero URL must start with http:// or https://: {xero_url!r}")
        if not tenant_id.strip():
            raise ConfigurationError("tenant id must not be empty")
        if connected_at.tzinfo is None:
            raise ConfigurationError("connection time must include a timezone")
        previous = self.tenant_id
        if previous is not None and previous != tenant_id.strip():
            if synced_documents > 0 and not switch_tenant:
                raise TenantSwitchError(
                    f"organisation {self.org_id} has {counted(synced_documents, 'document')} "
                    f"synced to Xero organisation {previous}; connecting it to "
                    f"{tenant_id.strip()} would move it to another Xero organisation. Those "
                    "documents stay where they are and syncledger would never act on them "
                    "again (cancellations, payments, edits): pass --switch-tenant to switch "
                    "anyway, or connect the same Xero "
                    f"organisation ({previous})"
                )
            self.trigger_event(
                self.TenantSwitched,
                previous_tenant_id=previous,
                tenant_id=tenant_id.strip(),
                synced_documents=synced_documents,
            )
        self.trigger_event(
            self.Connected,
            xero_url=xero_url.rstrip("/"),
            tenant_id=tenant_id.strip(),
            connected_at=connected_at,
            method=method,
        )

    def disconnect(self, reason: str) -> None:
        """Record that the Xero connection is gone."""
        if self.connection is None:
            raise ConfigurationError(f"organisation {self.org_id} is not connected to Xero")
        self.trigger_event(self.Disconnected, reason=reason)

    def map_account(self, category: str, code: str) -> None:
        """Map a line category to a Xero account code."""
        if not category.strip():
            raise ConfigurationError("category must not be empty")
        if not _ACCOUNT_CODE.match(code):
            raise ConfigurationError(
                f"account code {code!r} is not a Xero account code (1-10 letters or digits)"
            )
        self.trigger_event(self.AccountMapped, category=" ".join(category.split()), code=code)

    def map_tax(self, tax_rate: str, tax_type: str) -> None:
        """Map an OpenSolar tax rate name to a Xero TaxType."""
        if not tax_rate.strip():
            raise ConfigurationError("tax rate must not be empty")
        if not _TAX_TYPE.match(tax_type):
            raise ConfigurationError(f"Xero tax type {tax_type!r} is not a TaxType code")
        self.trigger_event(
            self.TaxRateMapped, tax_rate=" ".join(tax_rate.split()), tax_type=tax_type.upper()
        )

    def set_payment_account(self, code: str) -> None:
        """Choose the Xero account payments are received into."""
        if not _ACCOUNT_CODE.match(code):
            raise ConfigurationError(
                f"account code {code!r} is not a Xero account code (1-10 letters or digits)"
            )
        self.trigger_event(self.PaymentAccountSet, code=code)

    def set_invoice_status(self, status: str) -> None:
        """Choose the status new invoices get in Xero."""
        wanted = status.strip().upper()
        if wanted not in INVOICE_STATUSES:
            raise ConfigurationError(
                f"invoice status must be one of {', '.join(INVOICE_STATUSES)}, not {status!r}"
            )
        self.trigger_event(self.InvoiceStatusSet, status=wanted)

    def set_number_suffix(self, enabled: bool) -> None:
        """Send reissues that reuse a cancelled invoice's number as NUMBER-2, NUMBER-3 ...
        (``enabled``), or fail them with the reason (the default)."""
        if enabled == self.number_suffix:
            return
        self.trigger_event(self.NumberSuffixSet, enabled=enabled)

    def set_rounding_account(self, code: str) -> None:
        """Choose the Xero account rounding lines go to."""
        if not _ACCOUNT_CODE.match(code):
            raise ConfigurationError(
                f"account code {code!r} is not a Xero account code (1-10 letters or digits)"
            )
        self.trigger_event(self.RoundingAccountSet, code=code)

    def policy(self) -> Policy:
        """What documents need to know of this organisation when changes arrive."""
        return Policy(self.since, self.connection is not None, self.tenant_id)

    def record_reconciliation(self, tenant_id: str, summary: dict[str, int]) -> None:
        """Record that the ledger was compared with Xero, and how many differences of each kind
        were found."""
        self.trigger_event(
            self.Reconciled,
            tenant_id=tenant_id,
            summary=dict(summary),
            differences=sum(summary.values()),
        )

    def account_for(self, category: str) -> str | None:
        """The Xero account code mapped to a line category, if any."""
        mapped = self.accounts.get(category_key(category))
        return mapped[1] if mapped else None

    def tax_type_for(self, tax_rate: str) -> str | None:
        """The Xero TaxType mapped to an OpenSolar tax rate, if any."""
        mapped = self.tax_types.get(category_key(tax_rate))
        return mapped[1] if mapped else None

    def settings(self) -> dict[str, Any]:
        """The settings as plain data, for ``config show``."""
        connection = self.connection
        return {
            "org": self.org_id,
            "connected": connection is not None,
            "xero_url": connection.xero_url if connection else None,
            "tenant_id": connection.tenant_id if connection else None,
            "connected_at": connection.connected_at.isoformat() if connection else None,
            "connection_method": connection.method if connection else None,
            "disconnect_reason": self.disconnect_reason if connection is None else None,
            "invoice_status": self.invoice_status,
            "payment_account": self.payment_account,
            "rounding_account": self.rounding_account,
            "number_suffix": self.number_suffix,
            "documents_sent_since": self.since.isoformat() if self.since else None,
            "accounts": {category: code for category, code in sorted(self.accounts.values())},
            "tax_types": {rate: tax for rate, tax in sorted(self.tax_types.values())},
        }
