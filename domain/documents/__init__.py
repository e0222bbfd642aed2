"""Document aggregates: one per OpenSolar invoice or payment, holding its whole history.

Every OpenSolar change is appended as it was received (``Issued``, ``Cancelled``, ``Paid``...),
and so is every step of its sync (``SyncRequested``, ``SyncSucceeded``, ``SyncFailed``...). Each
document knows what Xero holds of it and asks, level by level, for what brings Xero in line with
OpenSolar.

Where things are: ``events`` (the events both kinds record), ``document`` (the sync lifecycle),
``invoice`` and ``payment`` (each kind's rules). eventsourcing stores each event under its
class's module and name; ``Invoice`` and ``Payment`` and their events are filed under this package
(``document.file_under_package``), so the topics written since the first release
(``domain.documents:Invoice.Issued``) stay the ones written today.
"""

from __future__ import annotations

from eventsourcing.utils import get_topic

from domain.documents.document import Document, policy_of
from domain.documents.events import (
    AMENDED_GUIDANCE,
    CANCELLED_UNSENT,
    PAYMENT_AMENDED_GUIDANCE,
    PAYMENT_VOIDED_GUIDANCE,
    WITHDRAWN_UNSENT,
    Outcome,
    Request,
)
from domain.documents.invoice import Invoice
from domain.documents.payment import Payment, follow_invoice


def event_topics(*names: str) -> frozenset[str]:
    """The topics stored for the events ``names`` of invoices and payments (of each kind that
    has such an event), built from the classes: for choosing events from the log by topic."""
    return frozenset(
        get_topic(getattr(kind, name))
        for kind in (Invoice, Payment)
        for name in names
        if hasattr(kind, name)
    )


__all__ = [
    "AMENDED_GUIDANCE",
    "CANCELLED_UNSENT",
    "PAYMENT_AMENDED_GUIDANCE",
    "PAYMENT_VOIDED_GUIDANCE",
    "WITHDRAWN_UNSENT",
    "Document",
    "Invoice",
    "Outcome",
    "Payment",
    "Request",
    "event_topics",
    "follow_invoice",
    "policy_of",
]
