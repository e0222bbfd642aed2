"""What a delivery of one outbox message came to, for the relay to record.

``Succeeded`` carries Xero's answer; ``Refused`` a reason, its category and the action a person
can take (nothing was sent, or Xero refused); ``Skipped`` says nothing was left to send (recorded,
so every message ends with an outcome); ``Stale`` says the request was resolved meanwhile
(nothing to record); ``Waiting`` says the delivery must wait for another document.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from domain.documents import Document
from domain.opensolar import InvoiceFields, PaymentFields
from domain.vocabulary import FailureCategory
from outbox.store import Message


@dataclass(frozen=True)
class Succeeded:
    """Xero holds the document (as ``xero`` says): record it as Synced."""

    xero_id: str
    sent: InvoiceFields | PaymentFields | None
    detail: str
    xero: dict[str, Any] | None = None


@dataclass(frozen=True)
class Refused:
    """The document cannot be sent as it is (our own check before any call, or Xero said no)."""

    error: str
    category: str
    action: str = ""


@dataclass(frozen=True)
class Skipped:
    """Nothing to send any more (no longer wanted, or already as OpenSolar says)."""

    reason: str


@dataclass(frozen=True)
class Stale:
    """The request was resolved meanwhile: nothing to do and nothing to record."""

    reason: str


@dataclass(frozen=True)
class Waiting:
    """The delivery must wait for another document (a payment for its invoice, a credit note for
    the payments made before it); ``seconds`` until it is looked at again, if not the default."""

    reason: str
    seconds: float | None = None
    on: str | None = None
    """The invoice (ledger id) whose arrival in Xero the delivery waits for, if that is it."""


Outcome = Succeeded | Refused | Skipped | Stale | Waiting


@dataclass(frozen=True)
class Item:
    """One message of a batch and its document, loaded fresh."""

    message: Message
    document: Document

    @property
    def doc(self) -> str:
        """The ledger document's id, as calls name their owners."""
        return self.message.doc_id


def other_tenant(document: Document, tenant: str | None) -> Refused:
    """A document synced to the Xero organisation its ledger organisation was switched away
    from: never acted on in the new one."""
    return Refused(
        f"{document.reference} was synced to Xero organisation {document.tenant_id}; the "
        f"organisation was switched to {tenant}, and syncledger never acts in one Xero "
        "organisation on what another holds",
        FailureCategory.BLOCKED,
        f"handle it by hand in Xero organisation {document.tenant_id}",
    )


def rejected(messages: Sequence[str], reference: str) -> Refused:
    """Xero refused an element: its own words, and what to do."""
    return Refused(
        "; ".join(messages),
        FailureCategory.REJECTED,
        f"correct what Xero's message names (in OpenSolar, or in Xero's settings), then run "
        f"`syncledger retry {reference}`",
    )
