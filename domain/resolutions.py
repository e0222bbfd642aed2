"""How one delivery ended, as the relay reports it to the ledger: a ``Resolution`` (Xero's
answer, a failure with its reason and action, or nothing to send) and the ``ContactMatch`` made
on the way; ``resolve`` records a resolution on its document."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain.documents import Document
from domain.opensolar import Customer as CustomerFields
from domain.opensolar import InvoiceFields, PaymentFields
from domain.vocabulary import AttemptOutcome


@dataclass(frozen=True)
class Resolution:
    """The final outcome of one delivery, to be recorded with others in one transaction:
    succeeded (Xero's answer), failed (the reason and the action) or skipped (nothing to do)."""

    doc_id: UUID
    operation: str
    request_version: int
    calls: list[dict[str, Any]]
    xero_id: str | None = None
    sent: InvoiceFields | PaymentFields | None = None
    detail: str = ""
    error: str | None = None
    category: str = ""
    action: str = ""
    skipped: str | None = None
    tenant_id: str | None = None
    xero: dict[str, Any] | None = None

    @property
    def kind(self) -> AttemptOutcome:
        if self.skipped is not None:
            return AttemptOutcome.SKIPPED
        if self.error is None and self.xero_id is not None:
            return AttemptOutcome.SUCCEEDED
        return AttemptOutcome.FAILED

    @property
    def succeeded(self) -> bool:
        return self.kind == AttemptOutcome.SUCCEEDED


@dataclass(frozen=True)
class ContactMatch:
    """A Xero contact matched to a customer during a delivery, to remember with its outcome."""

    customer: CustomerFields
    tenant_id: str
    contact_id: str
    contact_name: str
    how: str


def resolve(doc: Document, resolution: Resolution) -> bool:
    """Record one resolution on its document; False if it adds nothing."""
    if resolution.kind == AttemptOutcome.SUCCEEDED and resolution.xero_id is not None:
        return doc.record_success(
            resolution.operation,
            resolution.request_version,
            resolution.xero_id,
            resolution.sent,
            resolution.detail,
            resolution.calls,
            tenant_id=resolution.tenant_id,
            xero=resolution.xero,
        )
    if resolution.kind == AttemptOutcome.SKIPPED:
        return doc.record_skip(
            resolution.operation,
            resolution.request_version,
            resolution.skipped or "nothing to send",
            resolution.calls,
        )
    return doc.record_failure(
        resolution.operation,
        resolution.request_version,
        resolution.error or "failed",
        resolution.category,
        final=True,
        retry_at=None,
        calls=resolution.calls,
        action=resolution.action,
    )
