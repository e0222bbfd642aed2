"""Xero contacts for the customers of a batch: one per normalised email, remembered per tenant.

Customers are grouped by ``customer_key`` (their email, else their OpenSolar id, else their name),
so two customers sharing an email get one contact, in one batch or across batches. A remembered
match needs no call; the others are looked up in one call ORed over their emails (and one over the
names of customers without an email, who are matched only to contacts without an email), and the
rest created in one call. Among contacts sharing an email the choice is deterministic and its
reason is recorded. A contact that cannot be created fails only the documents that need it.
Names keep within Xero's 255 characters: a name taken by another contact gets the email (or the
OpenSolar customer id, or a number) in brackets, the name shortened to make room.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from typing import Any

from domain.customer import customer_key, normalised_email
from domain.ledger import ContactMatch, SyncLedger
from domain.mapping import contact_name, contact_payload
from domain.opensolar import Customer as CustomerFields
from outbox.xero import XeroClient, XeroRejectedError, idempotency_key

NAME_TAKEN = "already assigned to another contact"
NUMBERED_NAMES = 4
ContactLock = Callable[[str, CustomerFields], AbstractContextManager[None]]
"""Serialises contact resolution per (organisation, customer key)."""


@dataclass(frozen=True)
class Contact:
    """The Xero contact a customer was matched to, and how; or why there is none."""

    contact_id: str | None
    name: str
    how: str
    error: str | None = None


@dataclass
class _Need:
    customer: CustomerFields
    owners: list[str]


def _active(contact: Mapping[str, Any]) -> bool:
    return str(contact.get("ContactStatus", "ACTIVE")) == "ACTIVE"


def _email(contact: Mapping[str, Any]) -> str:
    return normalised_email(str(contact.get("EmailAddress") or ""))


def choose_contact(
    contacts: list[dict[str, Any]], customer: CustomerFields
) -> tuple[dict[str, Any], str]:
    """Choose deterministically among contacts sharing an email (or a name), and say which
    and why: the one whose name is the customer's, else the lowest ContactID."""
    target = " ".join(customer.name.split()).casefold()
    ordered = sorted(
        contacts,
        key=lambda c: (
            " ".join(str(c.get("Name", "")).split()).casefold() != target,
            str(c.get("ContactID")),
        ),
    )
    chosen = ordered[0]
    found_by = f"email {customer.email}" if customer.email else f"name {customer.name} (no email)"
    if len(contacts) == 1:
        return chosen, f"found by {found_by}"
    same_name = " ".join(str(chosen.get("Name", "")).split()).casefold() == target
    why = (
        "its name matches the customer's"
        if same_name
        else "lowest ContactID (no name matches the customer's)"
    )
    return chosen, (
        f"found by {found_by}: {len(contacts)} contacts share it; chose "
        f"{chosen.get('Name')} ({chosen.get('ContactID')}) because {why}"
    )


def qualifiers(customer: CustomerFields) -> Iterator[str]:
    """What goes in brackets after a taken name, in the order tried."""
    if customer.email:
        yield customer.email
    if customer.id:
        yield f"OpenSolar customer {customer.id}"
    for number in range(2, 2 + NUMBERED_NAMES):
        yield f"OpenSolar {number}"


class Contacts:
    """Finds or creates the Xero contacts a batch needs, in one organisation's tenant."""

    def __init__(
        self,
        ledger: SyncLedger,
        client: XeroClient,
        org_id: str,
        tenant_id: str,
        lock: ContactLock | None = None,
    ) -> None:
        self.ledger = ledger
        self.client = client
        self.org_id = org_id
        self.tenant_id = tenant_id
        self.lock = lock

    def resolve(
        self, customers: Sequence[tuple[CustomerFields, str]], attempts: int
    ) -> dict[str, Contact]:
        """The contact of each (customer, owning document), by ``customer_key``."""
        needs: dict[str, _Need] = {}
        for customer, owner in customers:
            need = needs.setdefault(customer_key(customer), _Need(customer, []))
            if owner not in need.owners:
                need.owners.append(owner)
        found: dict[str, Contact] = {}
        with ExitStack() as held:
            if self.lock is not None:
                for key in sorted(needs):
                    held.enter_context(self.lock(self.org_id, needs[key].customer))
            unknown: dict[str, _Need] = {}
            for key, need in needs.items():
                remembered = self._remembered(need.customer)
                if remembered is not None:
                    found[key] = remembered
                else:
                    unknown[key] = need
            found.update(self._by_email(unknown))
            found.update(self._by_name({k: n for k, n in unknown.items() if k not in found}))
            missing = {k: n for k, n in unknown.items() if k not in found}
            found.update(self._create(missing, attempts))
        return found

    def _remembered(self, customer: CustomerFields) -> Contact | None:
        known = self.ledger.customer(self.org_id, customer)
        contact_id = known.contact_for(self.tenant_id) if known is not None else None
        if known is None or contact_id is None:
            return None
        name, how = known.match_for(self.tenant_id) or ("", "remembered")
        return Contact(contact_id, name, f"remembered ({how})")

    def _remember(self, customer: CustomerFields, contact: Mapping[str, Any], how: str) -> Contact:
        match = ContactMatch(
            customer, self.tenant_id, str(contact["ContactID"]), str(contact.get("Name", "")), how
        )
        self.ledger.record_contact(self.org_id, match)
        return Contact(match.contact_id, match.contact_name, how)

    def _by_email(self, needs: Mapping[str, _Need]) -> dict[str, Contact]:
        with_email = {k: n for k, n in needs.items() if n.customer.email}
        if not with_email:
            return {}
        emails = sorted({normalised_email(n.customer.email or "") for n in with_email.values()})
        owners = [
            [
                o
                for n in with_email.values()
                if normalised_email(n.customer.email or "") == e
                for o in n.owners
            ]
            for e in emails
        ]
        contacts = [c for c in self.client.find_contacts_by_emails(emails, owners) if _active(c)]
        found: dict[str, Contact] = {}
        for key, need in with_email.items():
            email = normalised_email(need.customer.email or "")
            sharing = [c for c in contacts if _email(c) == email]
            if sharing:
                chosen, how = choose_contact(sharing, need.customer)
                found[key] = self._remember(need.customer, chosen, how)
        return found

    def _by_name(self, needs: Mapping[str, _Need]) -> dict[str, Contact]:
        nameless = {k: n for k, n in needs.items() if not n.customer.email}
        if not nameless:
            return {}
        names = sorted({contact_name(n.customer) for n in nameless.values()})
        owners = [
            [o for n in nameless.values() if contact_name(n.customer) == name for o in n.owners]
            for name in names
        ]
        contacts = [
            c
            for c in self.client.find_contacts_by_names(names, owners)
            if _active(c) and not _email(c)
        ]
        found: dict[str, Contact] = {}
        for key, need in nameless.items():
            target = contact_name(need.customer).casefold()
            same = [c for c in contacts if str(c.get("Name", "")).casefold() == target]
            if same:
                chosen, how = choose_contact(same, need.customer)
                found[key] = self._remember(need.customer, chosen, how)
        return found

    def _create(self, needs: Mapping[str, _Need], attempts: int) -> dict[str, Contact]:
        if not needs:
            return {}
        keys = sorted(needs)
        bodies = [contact_payload(needs[k].customer) for k in keys]
        batch_key = idempotency_key(
            self.tenant_id, "contacts", ",".join(keys), str(attempts), bodies
        )
        elements = self.client.create_contacts(bodies, batch_key, [needs[k].owners for k in keys])
        found: dict[str, Contact] = {}
        for key, element in zip(keys, elements, strict=True):
            need = needs[key]
            if element.ok:
                found[key] = self._remember(need.customer, element.data, "created")
            elif any(NAME_TAKEN in m for m in element.messages):
                found[key] = self._create_renamed(need, attempts)
            else:
                found[key] = self._failed(need, list(element.messages))
        return found

    def _create_renamed(self, need: _Need, attempts: int) -> Contact:
        """A contact whose name another contact has: the name with a qualifier in brackets."""
        customer = need.customer
        messages: list[str] = []
        for qualifier in qualifiers(customer):
            body = contact_payload(customer, name=contact_name(customer, qualifier))
            key = idempotency_key(
                self.tenant_id, "contact", customer_key(customer), str(attempts), body
            )
            try:
                created = self.client.create_contact(body, key, need.owners)
            except XeroRejectedError as exc:
                messages = list(exc.messages)
                if not any(NAME_TAKEN in m for m in exc.messages):
                    return self._failed(need, messages)
                continue
            return self._remember(customer, created, f"created as {body['Name']} (name taken)")
        return self._failed(
            need, messages or [f"no contact name could be used for {customer.name}"]
        )

    def _failed(self, need: _Need, messages: list[str]) -> Contact:
        who = need.customer.email or need.customer.name
        return Contact(
            None,
            "",
            "",
            error=f"the Xero contact for {who} could not be created: " + "; ".join(messages),
        )
