"""Document aggregates: one per OpenSolar invoice or payment, holding its whole history.

Every OpenSolar change is appended as it was received (``Issued``, ``Cancelled``, ``Paid``...),
and so is every step of its sync: ``SyncRequested`` and ``RetryRequested`` ask for a delivery,
``SyncSucceeded`` and ``SyncFailed`` record what Xero answered. A request is resolved by exactly one
final outcome, so recording an outcome twice (a relay restarted after a crash) changes nothing.
The aggregate decides, from its own state and the organisation's connection, which deliveries a
change calls for: an invoice issued after the connection is pushed at once, a cancellation after
it was pushed asks for a credit note, a payment reaching ``paid`` asks for a payment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.errors import InvalidRequestError
from domain.ids import document_id
from domain.opensolar import Change, InvoiceFields, PaymentFields
from domain.organisation import Connection

INVOICE = "invoice"
PAYMENT = "payment"
OP_INVOICE = "invoice"
OP_CREDIT_NOTE = "credit_note"
OP_PAYMENT = "payment"

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


@dataclass(frozen=True)
class Outcome:
    """The last recorded outcome of a delivery."""

    operation: str
    request_version: int
    succeeded: bool
    final: bool
    error: str | None
    at: datetime


class Document(Aggregate):
    """Behaviour shared by invoices and payments: changes received, and the sync lifecycle."""

    kind: ClassVar[str] = ""

    class Received(Aggregate.Created):
        org_id: str
        opensolar_id: str

    class ChangeIgnored(Aggregate.Event):
        """A change recorded but not applied (older than the last one applied)."""

        change: Change
        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.seen_event_ids.add(self.change.event_id)

    class SyncRequested(Aggregate.Event):
        operation: str
        reason: str
        depends_on: str | None

        def apply(self, aggregate: Any) -> None:
            aggregate.open_request = Request(
                self.originator_version, self.operation, self.reason, False
            )

    class RetryRequested(Aggregate.Event):
        operation: str
        reason: str
        depends_on: str | None

        def apply(self, aggregate: Any) -> None:
            aggregate.open_request = Request(
                self.originator_version, self.operation, self.reason, True
            )

    class SyncSucceeded(Aggregate.Event):
        operation: str
        request_version: int
        xero_id: str
        sent: Any
        detail: str
        calls: list[dict[str, Any]]

        def apply(self, aggregate: Any) -> None:
            aggregate.attempts += 1
            aggregate.open_request = None
            aggregate.last_outcome = Outcome(
                self.operation, self.request_version, True, True, None, self.timestamp
            )
            aggregate.on_success(self.operation, self.xero_id, self.sent)

    class SyncFailed(Aggregate.Event):
        operation: str
        request_version: int
        error: str
        category: str
        final: bool
        retry_at: datetime | None
        calls: list[dict[str, Any]]

        def apply(self, aggregate: Any) -> None:
            aggregate.attempts += 1
            aggregate.failures_in_row += 1
            if self.final:
                aggregate.open_request = None
            aggregate.last_outcome = Outcome(
                self.operation, self.request_version, False, self.final, self.error, self.timestamp
            )

    class SyncDeferred(Aggregate.Event):
        """Calls were made but the delivery must wait (a rate limit, or the connection was
        refused); recorded so the history explains every call. The request stays open."""

        operation: str
        request_version: int
        reason: str
        calls: list[dict[str, Any]]

    def __init__(self, org_id: str, opensolar_id: str) -> None:
        self.org_id = org_id
        self.opensolar_id = opensolar_id
        self.seen_event_ids: set[str] = set()
        self.last_change_at: datetime | None = None
        self.open_request: Request | None = None
        self.last_outcome: Outcome | None = None
        self.attempts = 0
        self.failures_in_row = 0
        self.amendment_error: str | None = None

    @classmethod
    def start(cls, org_id: str, opensolar_id: str) -> Any:
        """Begin the history of a document the ledger has not seen before."""
        return cls._create(
            cls.Received,
            id=document_id(org_id, cls.kind, opensolar_id),
            org_id=org_id,
            opensolar_id=opensolar_id,
        )

    @property
    def reference(self) -> str:
        """The document reference used on the CLI, e.g. ``invoice:1042``."""
        return f"{self.kind}:{self.opensolar_id}"

    def on_success(self, operation: str, xero_id: str, sent: Any) -> None:
        """Apply a successful delivery to the document's Xero state (per kind)."""

    def has_seen(self, change: Change) -> bool:
        """True if this change (by ``event_id``) is already recorded."""
        return change.event_id in self.seen_event_ids

    def _is_older(self, change: Change) -> bool:
        return self.last_change_at is not None and change.timestamp < self.last_change_at

    def _ignore_older(self, change: Change) -> None:
        last = self.last_change_at.isoformat() if self.last_change_at else "?"
        when = change.timestamp.isoformat()
        self.trigger_event(
            self.ChangeIgnored,
            change=change,
            reason=f"older ({when}) than the change already applied ({last})",
        )

    # sync lifecycle --------------------------------------------------------------------------

    def request_sync(self, operation: str, reason: str) -> None:
        """Ask for a delivery to Xero."""
        if self.open_request is not None:
            raise InvalidRequestError(
                f"{self.reference} already has a delivery pending ({self.open_request.operation})"
            )
        self.trigger_event(
            self.SyncRequested,
            operation=operation,
            reason=reason,
            depends_on=self.dependency(operation),
        )

    def dependency(self, operation: str) -> str | None:
        """The document a delivery must wait for (a payment waits for its invoice)."""
        return None

    def request_retry(self, reason: str = "retry requested") -> None:
        """Ask for the failed delivery to be tried again."""
        outcome = self.last_outcome
        if self.amendment_error is not None:
            raise InvalidRequestError(f"{self.reference} cannot be retried: {self.amendment_error}")
        if self.open_request is not None:
            raise InvalidRequestError(f"{self.reference} is already Pending; nothing to retry")
        if outcome is None or outcome.succeeded or not outcome.final:
            raise InvalidRequestError(f"{self.reference} is not Failed; nothing to retry")
        self.trigger_event(
            self.RetryRequested,
            operation=outcome.operation,
            reason=reason,
            depends_on=self.dependency(outcome.operation),
        )

    def record_success(
        self,
        operation: str,
        request_version: int,
        xero_id: str,
        sent: InvoiceFields | PaymentFields | None,
        detail: str,
        calls: list[dict[str, Any]],
    ) -> bool:
        """Record that Xero accepted a delivery of ``sent``; False if already resolved."""
        if not self._is_open(request_version):
            return False
        self.trigger_event(
            self.SyncSucceeded,
            operation=operation,
            request_version=request_version,
            xero_id=xero_id,
            sent=sent,
            detail=detail,
            calls=calls,
        )
        return True

    def record_failure(
        self,
        operation: str,
        request_version: int,
        error: str,
        category: str,
        *,
        final: bool,
        retry_at: datetime | None,
        calls: list[dict[str, Any]],
    ) -> bool:
        """Record a failed delivery; False if the request was already resolved."""
        if not self._is_open(request_version):
            return False
        self.trigger_event(
            self.SyncFailed,
            operation=operation,
            request_version=request_version,
            error=error,
            category=category,
            final=final,
            retry_at=retry_at,
            calls=calls,
        )
        return True

    def record_deferral(
        self, operation: str, request_version: int, reason: str, calls: list[dict[str, Any]]
    ) -> bool:
        """Record calls of a delivery that has to wait; False if the request was resolved."""
        if not self._is_open(request_version):
            return False
        self.trigger_event(
            self.SyncDeferred,
            operation=operation,
            request_version=request_version,
            reason=reason,
            calls=calls,
        )
        return True

    def _is_open(self, request_version: int) -> bool:
        return self.open_request is not None and self.open_request.version == request_version


class Invoice(Document):
    """An OpenSolar invoice and its life in Xero (invoice, then credit note if cancelled)."""

    kind: ClassVar[str] = INVOICE

    class Drafted(Aggregate.Event):
        change: Change

        def apply(self, aggregate: Any) -> None:
            aggregate.take(self.change)

    class Issued(Aggregate.Event):
        change: Change

        def apply(self, aggregate: Any) -> None:
            aggregate.take(self.change)
            aggregate.issued_at = self.change.timestamp

    class Updated(Aggregate.Event):
        change: Change

        def apply(self, aggregate: Any) -> None:
            aggregate.take(self.change)

    class Cancelled(Aggregate.Event):
        change: Change

        def apply(self, aggregate: Any) -> None:
            aggregate.take(self.change)
            aggregate.cancelled_at = self.change.timestamp

    class AmendedAfterSync(Aggregate.Event):
        change: Change
        guidance: str

        def apply(self, aggregate: Any) -> None:
            aggregate.take(self.change)
            aggregate.amendment_error = self.guidance

    def __init__(self, org_id: str, opensolar_id: str) -> None:
        super().__init__(org_id, opensolar_id)
        self.fields: InvoiceFields | None = None
        self.issued_at: datetime | None = None
        self.cancelled_at: datetime | None = None
        self.xero_invoice_id: str | None = None
        self.xero_credit_note_id: str | None = None
        self.sent_fields: InvoiceFields | None = None

    def take(self, change: Change) -> None:
        """Apply a change's content to the current state."""
        self.seen_event_ids.add(change.event_id)
        self.last_change_at = change.timestamp
        if isinstance(change.fields, InvoiceFields):
            self.fields = change.fields

    def on_success(self, operation: str, xero_id: str, sent: Any) -> None:
        if operation == OP_INVOICE:
            self.xero_invoice_id = xero_id
            self.sent_fields = sent if isinstance(sent, InvoiceFields) else self.fields
        elif operation == OP_CREDIT_NOTE:
            self.xero_credit_note_id = xero_id
        self.failures_in_row = 0

    @property
    def is_issued(self) -> bool:
        return self.issued_at is not None

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def number(self) -> str:
        return self.fields.invoice_number if self.fields else self.reference

    def receive(self, change: Change, connection: Connection | None) -> None:
        """Record one OpenSolar change, and ask for what it calls for in Xero."""
        if self.has_seen(change):
            return
        if self._is_older(change):
            self._ignore_older(change)
            return
        status = change.fields.status if isinstance(change.fields, InvoiceFields) else None
        if change.event == "DELETE" or status == "cancelled":
            if self.is_cancelled:
                self.trigger_event(self.Updated, change=change)
                return
            self.trigger_event(self.Cancelled, change=change)
            if (
                self.xero_invoice_id is not None
                and self.xero_credit_note_id is None
                and self.open_request is None
            ):
                self.request_sync(
                    OP_CREDIT_NOTE, "cancelled in OpenSolar after it was sent to Xero"
                )
            return
        if not self.is_issued:
            if status == "not_sent":
                self.trigger_event(self.Drafted, change=change)
                return
            self.trigger_event(self.Issued, change=change)
            if (
                connection is not None
                and connection.covers(change.timestamp)
                and not self.is_cancelled
                and self.open_request is None
            ):
                self.request_sync(OP_INVOICE, "issued in OpenSolar while connected to Xero")
            return
        if (
            self.sent_fields is not None
            and isinstance(change.fields, InvoiceFields)
            and change.fields.content_key() != self.sent_fields.content_key()
            and not self.is_cancelled
        ):
            self.trigger_event(self.AmendedAfterSync, change=change, guidance=AMENDED_GUIDANCE)
            return
        self.trigger_event(self.Updated, change=change)

    def request_sync_now(self, connection: Connection | None, reason: str) -> None:
        """Ask for a Not Attempted invoice to be pushed (``sync``)."""
        if connection is None:
            raise InvalidRequestError(
                f"{self.reference}: organisation {self.org_id} is not connected to Xero; "
                "run `syncledger connect` first"
            )
        if not self.is_issued:
            raise InvalidRequestError(f"{self.reference} is not issued in OpenSolar yet")
        if self.xero_invoice_id is not None:
            raise InvalidRequestError(f"{self.reference} is already Synced")
        if self.is_cancelled:
            raise InvalidRequestError(
                f"{self.reference} was cancelled in OpenSolar before it was sent; nothing to send"
            )
        if self.open_request is not None:
            raise InvalidRequestError(f"{self.reference} is already Pending")
        if self.last_outcome is not None and not self.last_outcome.succeeded:
            raise InvalidRequestError(f"{self.reference} is Failed: use `syncledger retry`")
        self.request_sync(OP_INVOICE, reason)

    def after_invoice_synced(self) -> None:
        """An invoice cancelled while its push was in flight now needs its credit note."""
        if self.is_cancelled and self.xero_credit_note_id is None and self.open_request is None:
            self.request_sync(OP_CREDIT_NOTE, "cancelled in OpenSolar while it was being sent")


class Payment(Document):
    """An OpenSolar payment against an invoice, and its life in Xero."""

    kind: ClassVar[str] = PAYMENT

    class Recorded(Aggregate.Event):
        change: Change

        def apply(self, aggregate: Any) -> None:
            aggregate.take(self.change)

    class Paid(Aggregate.Event):
        change: Change

        def apply(self, aggregate: Any) -> None:
            aggregate.take(self.change)
            aggregate.paid_at = self.change.timestamp

    class Updated(Aggregate.Event):
        change: Change

        def apply(self, aggregate: Any) -> None:
            aggregate.take(self.change)

    class Voided(Aggregate.Event):
        change: Change

        def apply(self, aggregate: Any) -> None:
            aggregate.take(self.change)
            aggregate.voided_at = self.change.timestamp
            if aggregate.xero_payment_id is not None:
                aggregate.amendment_error = PAYMENT_VOIDED_GUIDANCE

    class AmendedAfterSync(Aggregate.Event):
        change: Change
        guidance: str

        def apply(self, aggregate: Any) -> None:
            aggregate.take(self.change)
            aggregate.amendment_error = self.guidance

    def __init__(self, org_id: str, opensolar_id: str) -> None:
        super().__init__(org_id, opensolar_id)
        self.fields: PaymentFields | None = None
        self.paid_at: datetime | None = None
        self.voided_at: datetime | None = None
        self.xero_payment_id: str | None = None
        self.sent_fields: PaymentFields | None = None

    def take(self, change: Change) -> None:
        """Apply a change's content to the current state."""
        self.seen_event_ids.add(change.event_id)
        self.last_change_at = change.timestamp
        if isinstance(change.fields, PaymentFields):
            self.fields = change.fields

    def on_success(self, operation: str, xero_id: str, sent: Any) -> None:
        self.xero_payment_id = xero_id
        self.sent_fields = sent if isinstance(sent, PaymentFields) else self.fields
        self.failures_in_row = 0
        if self.voided_at is not None:
            self.amendment_error = PAYMENT_VOIDED_GUIDANCE

    def dependency(self, operation: str) -> str | None:
        invoice = self.invoice_document
        return str(invoice) if invoice is not None else None

    @property
    def invoice_document(self) -> UUID | None:
        """The aggregate id of the invoice this payment is against."""
        if self.fields is None:
            return None
        return document_id(self.org_id, INVOICE, self.fields.invoice_id)

    @property
    def is_paid(self) -> bool:
        return self.paid_at is not None and self.voided_at is None

    def receive(self, change: Change, connection: Connection | None) -> None:
        """Record one OpenSolar change, and ask for a Xero payment when it reaches ``paid``."""
        if self.has_seen(change):
            return
        if self._is_older(change):
            self._ignore_older(change)
            return
        status = change.fields.status if isinstance(change.fields, PaymentFields) else None
        if change.event == "DELETE" or status == "failed":
            if self.paid_at is not None and self.voided_at is None:
                self.trigger_event(self.Voided, change=change)
            else:
                self.trigger_event(self.Updated, change=change)
            return
        if (
            self.sent_fields is not None
            and isinstance(change.fields, PaymentFields)
            and change.fields.amount != self.sent_fields.amount
        ):
            self.trigger_event(
                self.AmendedAfterSync, change=change, guidance=PAYMENT_AMENDED_GUIDANCE
            )
            return
        if status == "paid" and self.paid_at is None:
            self.trigger_event(self.Paid, change=change)
            if (
                connection is not None
                and connection.covers(change.timestamp)
                and self.open_request is None
            ):
                self.request_sync(OP_PAYMENT, "paid in OpenSolar while connected to Xero")
            return
        if self.paid_at is None and self.last_change_at is None:
            self.trigger_event(self.Recorded, change=change)
            return
        self.trigger_event(self.Updated, change=change)

    def request_sync_now(self, connection: Connection | None, reason: str) -> None:
        """Ask for a Not Attempted payment to be pushed (``sync``)."""
        if connection is None:
            raise InvalidRequestError(
                f"{self.reference}: organisation {self.org_id} is not connected to Xero; "
                "run `syncledger connect` first"
            )
        if not self.is_paid:
            raise InvalidRequestError(f"{self.reference} is not paid in OpenSolar")
        if self.xero_payment_id is not None:
            raise InvalidRequestError(f"{self.reference} is already Synced")
        if self.open_request is not None:
            raise InvalidRequestError(f"{self.reference} is already Pending")
        if self.last_outcome is not None and not self.last_outcome.succeeded:
            raise InvalidRequestError(f"{self.reference} is Failed: use `syncledger retry`")
        self.request_sync(OP_PAYMENT, reason)
