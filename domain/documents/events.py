"""The events every document records, defined once for invoices and payments.

``Changed`` is the base of every change received as it was (each kind names its own: ``Issued``,
``Paid`` ...); ``SyncRequested`` and ``RetryRequested`` ask for a delivery; ``SyncSucceeded``,
``SyncFailed``, ``SyncDeferred`` and ``SyncSkipped`` record how an attempt went. Each event's
``apply`` says what it does to a document's state (``Request``, ``Outcome`` and the document's own
attributes). eventsourcing defines each again on ``Invoice`` and ``Payment``, so stored topics
name the concrete kind (``domain.documents:Invoice.SyncRequested``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from eventsourcing.domain import Aggregate

from domain.opensolar import Change

CANCELLED_UNSENT = "cancelled in OpenSolar before it was sent to Xero; nothing to send"
WITHDRAWN_UNSENT = "withdrawn in OpenSolar before it was sent to Xero; nothing to send"

# The guidance older versions recorded with ``AmendedAfterSync`` (kept so old logs read the same).
AMENDED_GUIDANCE = (
    "amounts changed in OpenSolar after the invoice was sent to Xero; Xero keeps the invoice "
    "as sent: cancel this invoice in OpenSolar and issue a new one"
)
PAYMENT_AMENDED_GUIDANCE = (
    "payment changed in OpenSolar after it was sent to Xero; Xero keeps the payment as sent: "
    "record the correction as a new payment in OpenSolar, or fix it in Xero by hand"
)
PAYMENT_VOIDED_GUIDANCE = (
    "payment withdrawn in OpenSolar after it was sent to Xero: delete the payment in Xero by hand"
)


@dataclass(frozen=True)
class Request:
    """An unresolved request for one delivery to Xero."""

    version: int
    operation: str
    reason: str
    retry: bool
    attempted: bool = False
    """An attempt was recorded (a retry is due, or calls were deferred): it may have reached
    Xero, so it is never skipped without looking."""
    depends_on: str | None = None


@dataclass(frozen=True)
class Outcome:
    """The last recorded outcome of a delivery."""

    operation: str
    request_version: int
    succeeded: bool
    final: bool
    error: str | None
    at: datetime
    category: str = ""
    skipped: bool = False


def skipped(operation: str, request_version: int, at: datetime) -> Outcome:
    """The outcome of a request that ended with nothing sent."""
    return Outcome(operation, request_version, True, True, None, at, skipped=True)


class DocumentEvents(Aggregate):
    """The events of ``Document``; their ``apply`` calls the document's state helpers."""

    class Received(Aggregate.Created):
        org_id: str
        opensolar_id: str

    class Changed(Aggregate.Event):
        """An OpenSolar change taken as the document's content (each kind names its own)."""

        change: Change

        def apply(self, aggregate: Any) -> None:
            aggregate.take(self.change)

    class Updated(Changed):
        """Changed in OpenSolar, calling for nothing more than the new content."""

    class AmendedAfterSync(Changed):
        """(Recorded by older versions: changed after sync, then a final state.)"""

        guidance: str

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.amendment_error = self.guidance

    class ChangeIgnored(Aggregate.Event):
        """A change recorded but not applied (older than the last one applied)."""

        change: Change
        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.seen_event_ids.add(self.change.event_id)

    class DeliveryRequested(Aggregate.Event):
        """A delivery asked for (the base of ``SyncRequested`` and ``RetryRequested``)."""

        retry: ClassVar[bool] = False
        operation: str
        reason: str
        depends_on: str | None
        group: str | None = None
        """The invoice (ledger id) the delivery belongs with: deliveries of one invoice and its
        payments never run at the same time."""

        def apply(self, aggregate: Any) -> None:
            aggregate.open_request = Request(
                self.originator_version,
                self.operation,
                self.reason,
                self.retry,
                depends_on=self.depends_on,
            )
            if self.retry:
                aggregate.failed_for.pop(self.operation, None)

    class SyncRequested(DeliveryRequested):
        """A first delivery asked for."""

    class RetryRequested(DeliveryRequested):
        """A delivery asked for again, after a final failure."""

        retry: ClassVar[bool] = True

    class SyncSucceeded(Aggregate.Event):
        operation: str
        request_version: int
        xero_id: str
        sent: Any
        detail: str
        calls: list[dict[str, Any]]
        tenant_id: str | None = None
        xero: dict[str, Any] | None = None
        """What Xero holds now, as it answered (numbers, totals, contact, how it was cancelled)."""

        def apply(self, aggregate: Any) -> None:
            aggregate.attempts += 1
            aggregate.resolve(self.request_version)
            aggregate.last_outcome = Outcome(
                self.operation, self.request_version, True, True, None, self.timestamp
            )
            aggregate.failed_for.pop(self.operation, None)
            aggregate.failures_in_row = 0
            aggregate.on_success(self)

    class SyncFailed(Aggregate.Event):
        operation: str
        request_version: int
        error: str
        category: str
        final: bool
        retry_at: datetime | None
        calls: list[dict[str, Any]]
        action: str = ""
        """What a person can do about it (empty on events recorded before actions were)."""

        def apply(self, aggregate: Any) -> None:
            aggregate.attempts += 1
            aggregate.failures_in_row += 1
            if self.final:
                aggregate.resolve(self.request_version)
                aggregate.failed_for[self.operation] = aggregate.content()
            else:
                aggregate.mark_attempted(self.request_version)
            aggregate.last_outcome = Outcome(
                self.operation,
                self.request_version,
                False,
                self.final,
                self.error,
                self.timestamp,
                self.category,
            )

    class Noted(Aggregate.Event):
        """A step of a delivery recorded with its reason and calls, not with Xero's answer (the
        base of ``SyncDeferred`` and ``SyncSkipped``)."""

        operation: str
        request_version: int
        reason: str
        calls: list[dict[str, Any]]

    class SyncDeferred(Noted):
        """Calls were made but the delivery must wait (a rate limit, or the connection was
        refused); recorded so the history explains every call. The request stays open."""

        def apply(self, aggregate: Any) -> None:
            if self.calls:
                aggregate.mark_attempted(self.request_version)

    class SyncSkipped(Noted):
        """A request ended with nothing sent: it is no longer needed (cancelled or withdrawn
        before it reached Xero, or OpenSolar went back to what Xero holds)."""

        def apply(self, aggregate: Any) -> None:
            aggregate.resolve(self.request_version)
            aggregate.last_outcome = skipped(self.operation, self.request_version, self.timestamp)

    class BackInLine(Aggregate.Event):
        """After a failed change, OpenSolar came back to what Xero holds: nothing differs."""

        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.failed_for.clear()
            last = aggregate.last_outcome
            aggregate.last_outcome = skipped(
                last.operation if last else "", last.request_version if last else 0, self.timestamp
            )
