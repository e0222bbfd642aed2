"""Deliveries: what Xero must be told for outbox messages, and telling it (see ``dispatch``).
The results are outcomes for the relay to record; the only thing written to the ledger here is
a contact match, as soon as it is known."""

from __future__ import annotations

from outbox.delivery.contacts import ContactLock, choose_contact
from outbox.delivery.dispatch import Delivery
from outbox.delivery.facts import XeroFacts
from outbox.delivery.outcomes import (
    Item,
    Outcome,
    Refused,
    Skipped,
    Stale,
    Succeeded,
    Waiting,
)

__all__ = [
    "ContactLock",
    "Delivery",
    "Item",
    "Outcome",
    "Refused",
    "Skipped",
    "Stale",
    "Succeeded",
    "Waiting",
    "XeroFacts",
    "choose_contact",
]
