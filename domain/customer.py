"""The customer aggregate: which Xero contact an OpenSolar customer was matched to, and how.

The first invoice for a customer finds the contact in Xero by email (or creates one); the match is
remembered here, per Xero tenant, so later invoices for the same customer need no lookup.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.ids import customer_id
from domain.opensolar import Customer as CustomerFields


def customer_key(customer: CustomerFields) -> str:
    """The stable key of a customer: OpenSolar's id, else the email, else the name."""
    if customer.id:
        return f"id:{customer.id}"
    if customer.email:
        return f"email:{customer.email.lower()}"
    return f"name:{customer.name.casefold()}"


class Customer(Aggregate):
    """One OpenSolar customer of one organisation, and its Xero contact."""

    class Registered(Aggregate.Created):
        org_id: str
        key: str

    class ContactMatched(Aggregate.Event):
        tenant_id: str
        contact_id: str
        contact_name: str
        how: str

        def apply(self, aggregate: Any) -> None:
            aggregate.contacts[self.tenant_id] = self.contact_id

    def __init__(self, org_id: str, key: str) -> None:
        self.org_id = org_id
        self.key = key
        self.contacts: dict[str, str] = {}

    @staticmethod
    def id_for(org_id: str, customer: CustomerFields) -> UUID:
        """The aggregate id of ``customer`` in organisation ``org_id``."""
        return customer_id(org_id, customer_key(customer))

    @classmethod
    def register(cls, org_id: str, customer: CustomerFields) -> Customer:
        """Start the history of a customer the ledger has not matched before."""
        key = customer_key(customer)
        return cls._create(cls.Registered, id=customer_id(org_id, key), org_id=org_id, key=key)

    def contact_for(self, tenant_id: str) -> str | None:
        """The Xero ContactID remembered for this customer in ``tenant_id``, if any."""
        return self.contacts.get(tenant_id)

    def match(self, tenant_id: str, contact_id: str, contact_name: str, how: str) -> None:
        """Remember the Xero contact this customer was matched to, and how it was chosen."""
        if self.contacts.get(tenant_id) == contact_id:
            return
        self.trigger_event(
            self.ContactMatched,
            tenant_id=tenant_id,
            contact_id=contact_id,
            contact_name=contact_name,
            how=how,
        )
