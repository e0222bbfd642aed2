"""The customer aggregate: which Xero contact an OpenSolar customer was matched to, and how.

Customers are keyed by their normalised email: one Xero contact per email, whatever OpenSolar
customer ids share it. A customer without an email is keyed by its OpenSolar id, else its name,
and is only ever matched to a Xero contact without an email. The first invoice for a customer
finds the contact in Xero (or creates one); the match is remembered here, per Xero tenant, so
later invoices for the same customer need no lookup.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.ids import customer_id
from domain.opensolar import Customer as CustomerFields


def normalised_email(email: str) -> str:
    """How emails are compared: trimmed and case-insensitive."""
    return email.strip().casefold()


def customer_key(customer: CustomerFields) -> str:
    """The stable key of a customer's Xero contact: the normalised email, else OpenSolar's
    customer id, else the name."""
    if customer.email:
        return f"email:{normalised_email(customer.email)}"
    if customer.id:
        return f"id:{customer.id}"
    return f"name:{' '.join(customer.name.split()).casefold()}"


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
            aggregate.matches[self.tenant_id] = (self.contact_name, self.how)

    def __init__(self, org_id: str, key: str) -> None:
        self.org_id = org_id
        self.key = key
        self.contacts: dict[str, str] = {}
        self.matches: dict[str, tuple[str, str]] = {}

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

    def match_for(self, tenant_id: str) -> tuple[str, str] | None:
        """(contact name, how it was chosen) remembered for ``tenant_id``, if any."""
        return self.matches.get(tenant_id)

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
