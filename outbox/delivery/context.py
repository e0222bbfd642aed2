"""What every part of a delivery shares: the ledger, the Xero client for the organisation's
tenant, the organisation as it is now, Xero's settings, the contacts, and the idempotency keys
(derived from tenant, operation, document, request and attempt, so a retry sends the same key)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from domain.documents import Document, Invoice, Payment
from domain.ledger import SyncLedger
from domain.mapping import OPENSOLAR_URL
from domain.numbers import number_key
from domain.organisation import Organisation, Policy
from outbox.delivery.contacts import Contacts
from outbox.delivery.facts import XeroFacts
from outbox.delivery.outcomes import Item
from outbox.store import Message
from outbox.xero import XeroClient, idempotency_key

NumberIndex = Callable[[str, Collection[str]], dict[str, list[str]]]
"""The invoices (ledger ids) of an organisation issued with each number (by ``number_key``), in
the order the ledger recorded them (the outbox's ``number_users``)."""


@dataclass
class Context:
    """One organisation's delivery at one moment."""

    ledger: SyncLedger
    client: XeroClient
    tenant_id: str
    org: Organisation
    facts: XeroFacts
    contacts: Contacts
    numbers: NumberIndex
    url_base: str = OPENSOLAR_URL
    _users: dict[str, list[str]] = field(default_factory=dict)

    @property
    def policy(self) -> Policy:
        return self.org.policy()

    def key(self, message: Message, operation: str, body: Any) -> str:
        """The Idempotency-Key of one write of one message."""
        generation = f"{message.request_version}.{message.attempts}"
        return idempotency_key(self.tenant_id, operation, message.doc_id, generation, body)

    def batch_key(self, operation: str, items: Sequence[Item], bodies: Sequence[Any]) -> str:
        """The Idempotency-Key of one batch write."""
        members = ",".join(
            sorted(
                f"{i.message.doc_id}:{i.message.request_version}.{i.message.attempts}"
                for i in items
            )
        )
        return idempotency_key(self.tenant_id, operation, members, "batch", list(bodies))

    def document(self, doc_id: str | UUID) -> Document | None:
        """Another document of the ledger, as it is now."""
        return self.ledger.find_document_by_id(UUID(str(doc_id)))

    def invoice(self, doc_id: str | UUID | None) -> Invoice | None:
        found = self.document(doc_id) if doc_id is not None else None
        return found if isinstance(found, Invoice) else None

    def know_numbers(self, numbers: Collection[str]) -> None:
        """Read which invoices used these numbers, in one query (for the batch at hand)."""
        missing = {number_key(n) for n in numbers} - set(self._users)
        if missing:
            self._users.update(self.numbers(self.org.org_id, missing))

    def number_users(self, number: str) -> list[str]:
        """The invoices of this organisation issued with ``number``, in ledger order."""
        self.know_numbers([number])
        return self._users[number_key(number)]

    def payment(self, doc_id: str | UUID) -> Payment | None:
        found = self.document(doc_id)
        return found if isinstance(found, Payment) else None
