"""Document aggregates: one per OpenSolar invoice or payment, holding its whole history.

Every OpenSolar change is appended as it was received (``Issued``, ``Cancelled``, ``Paid``...),
and so is every step of its sync: ``SyncRequested`` and ``RetryRequested`` ask for a delivery;
``SyncSucceeded``, ``SyncFailed`` and ``SyncSkipped`` record how it ended (Xero's answer, a refusal
with its reason and action, or nothing left to do). A request is resolved once; a success Xero
reports for a request already resolved is still recorded, because it is a fact about Xero.

Each document knows what Xero holds of it (what was sent, the Xero ids, the organisation it went
to) and asks, level by level, for what brings Xero in line with OpenSolar: an invoice issued while
connected is created; changed after it was sent it is updated (or fails naming the fields Xero
cannot take); cancelled after it was sent it is cancelled in Xero (credit note, draft deleted, or
nothing if already voided). A payment reaching ``paid`` is applied; edited, bounced, set back to
pending or moved after it was applied, it is deleted in Xero and applied again where it belongs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.differences import (
    InvoiceDifferences,
    invoice_content,
    invoice_differences,
    listed,
    payment_content,
    payment_differences,
)
from domain.errors import InvalidRequestError
from domain.ids import document_id
from domain.numbers import number_key
from domain.opensolar import Change, InvoiceFields, PaymentFields
from domain.organisation import NO_CONNECTION, Connection, Policy

INVOICE = "invoice"
PAYMENT = "payment"
OP_INVOICE = "invoice"
OP_INVOICE_UPDATE = "invoice_update"
OP_CREDIT_NOTE = "credit_note"
OP_PAYMENT = "payment"
OP_PAYMENT_DELETE = "payment_delete"
OPERATIONS: tuple[str, ...] = (
    OP_INVOICE,
    OP_INVOICE_UPDATE,
    OP_CREDIT_NOTE,
    OP_PAYMENT,
    OP_PAYMENT_DELETE,
)

BLOCKED = "blocked"
"""Failure category: the document cannot go to Xero as things stand (another document's state,
a currency, an earlier sync to another Xero organisation); the reason says what to change."""
FOLLOWS_INVOICE = "follows_invoice"
"""Failure category: a payment that cannot be applied because of its invoice (cancelled before
it reached Xero, another currency); lifted by the ledger as soon as that no longer holds."""
AMENDMENT = "amendment"
"""Failure category: OpenSolar changed something Xero cannot take on the invoice it holds."""

CANCELLED = "cancelled"
"""What ended an invoice's life in Xero: credited (credit note), a draft deleted, or found
already voided or deleted there."""
CREDITED = "credited"
DRAFT_DELETED = "draft_deleted"
VOIDED_IN_XERO = "voided_in_xero"
DELETED_IN_XERO = "deleted_in_xero"
CANCELLATIONS: tuple[str, ...] = (CREDITED, DRAFT_DELETED, VOIDED_IN_XERO, DELETED_IN_XERO)

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
        group: str | None = None
        """The invoice (ledger id) the delivery belongs with: deliveries of one invoice and its
        payments never run at the same time."""

        def apply(self, aggregate: Any) -> None:
            aggregate.open_request = Request(
                self.originator_version,
                self.operation,
                self.reason,
                False,
                depends_on=self.depends_on,
            )

    class RetryRequested(Aggregate.Event):
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
                True,
                depends_on=self.depends_on,
            )
            aggregate.failed_for.pop(self.operation, None)

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

    class SyncDeferred(Aggregate.Event):
        """Calls were made but the delivery must wait (a rate limit, or the connection was
        refused); recorded so the history explains every call. The request stays open."""

        operation: str
        request_version: int
        reason: str
        calls: list[dict[str, Any]]

        def apply(self, aggregate: Any) -> None:
            if self.calls:
                aggregate.mark_attempted(self.request_version)

    class SyncSkipped(Aggregate.Event):
        """A request ended with nothing sent: it is no longer needed (cancelled or withdrawn
        before it reached Xero, or OpenSolar went back to what Xero holds)."""

        operation: str
        request_version: int
        reason: str
        calls: list[dict[str, Any]]

        def apply(self, aggregate: Any) -> None:
            aggregate.resolve(self.request_version)
            aggregate.last_outcome = Outcome(
                self.operation,
                self.request_version,
                True,
                True,
                None,
                self.timestamp,
                skipped=True,
            )

    class BackInLine(Aggregate.Event):
        """After a failed change, OpenSolar came back to what Xero holds: nothing differs."""

        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.failed_for.clear()
            aggregate.last_outcome = Outcome(
                aggregate.last_outcome.operation if aggregate.last_outcome else "",
                aggregate.last_outcome.request_version if aggregate.last_outcome else 0,
                True,
                True,
                None,
                self.timestamp,
                skipped=True,
            )

    def __init__(self, org_id: str, opensolar_id: str) -> None:
        self.org_id = org_id
        self.opensolar_id = opensolar_id
        self.seen_event_ids: set[str] = set()
        self.last_change_at: datetime | None = None
        self.open_request: Request | None = None
        self.last_outcome: Outcome | None = None
        self.resolved: set[int] = set()
        self.failed_for: dict[str, object] = {}
        """Operations that failed for good, with the content they failed for: asked again
        automatically only once the content changes (or a person retries)."""
        self.attempts = 0
        self.failures_in_row = 0
        self.amendment_error: str | None = None
        self.tenant_id: str | None = None
        """The Xero organisation the document's Xero records are in."""

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

    # state helpers (used by the events' apply) -----------------------------------------------

    def resolve(self, request_version: int) -> None:
        """The request ``request_version`` has its final outcome."""
        self.resolved.add(request_version)
        if self.open_request is not None and self.open_request.version == request_version:
            self.open_request = None

    def mark_attempted(self, request_version: int) -> None:
        """An attempt of the open request was recorded."""
        request = self.open_request
        if request is not None and request.version == request_version and not request.attempted:
            self.open_request = Request(
                request.version,
                request.operation,
                request.reason,
                request.retry,
                True,
                request.depends_on,
            )

    def content(self) -> object:
        """What the document says now, as one comparable value (per kind)."""
        return None

    def on_success(self, event: Any) -> None:
        """Apply a successful delivery to the document's Xero state (per kind)."""

    def has_seen(self, change: Change) -> bool:
        """True if this change (by ``event_id``) is already recorded."""
        return change.event_id in self.seen_event_ids

    def _is_older(self, change: Change) -> bool:
        return self.last_change_at is not None and change.timestamp < self.last_change_at

    def _ignore(self, change: Change, reason: str) -> None:
        self.trigger_event(self.ChangeIgnored, change=change, reason=reason)

    def _ignore_older(self, change: Change) -> None:
        last = self.last_change_at.isoformat() if self.last_change_at else "?"
        when = change.timestamp.isoformat()
        self._ignore(change, f"older ({when}) than the change already applied ({last})")

    @property
    def is_failed(self) -> bool:
        """True while the last outcome is a final failure and nothing is requested."""
        outcome = self.last_outcome
        return (
            self.open_request is None
            and outcome is not None
            and not outcome.succeeded
            and outcome.final
        )

    def in_other_tenant(self, policy: Policy) -> bool:
        """True if the document's Xero records are in another Xero organisation than the one
        the organisation is connected to now (it was switched)."""
        return (
            self.tenant_id is not None
            and policy.tenant_id is not None
            and self.tenant_id != policy.tenant_id
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
            group=self.group(operation),
        )

    def refuse(self, operation: str, error: str, category: str, action: str) -> None:
        """Record that a delivery cannot be made, with the reason and what to do, without any
        call (the open request fails; with none open, one is recorded and fails at once)."""
        if self.open_request is None:
            self.request_sync(operation, "asked for, and refused before any call")
        request = self.open_request
        if request is None:  # unreachable: a request was just recorded
            return
        self.trigger_event(
            self.SyncFailed,
            operation=request.operation,
            request_version=request.version,
            error=error,
            category=category,
            final=True,
            retry_at=None,
            calls=[],
            action=action,
        )

    def skip_open(self, reason: str) -> None:
        """End the open request with nothing sent."""
        request = self.open_request
        if request is not None:
            self.trigger_event(
                self.SyncSkipped,
                operation=request.operation,
                request_version=request.version,
                reason=reason,
                calls=[],
            )

    def dependency(self, operation: str) -> str | None:
        """The document a delivery must wait for (a payment waits for its invoice)."""
        return None

    def group(self, operation: str) -> str:
        """The invoice (ledger id) a delivery belongs with (an invoice's own id)."""
        return str(self.id)

    def check_retry(self, operation: str, policy: Policy) -> None:
        """Raise ``InvalidRequestError`` if a retry of ``operation`` could never proceed."""
        if self.in_other_tenant(policy):
            raise InvalidRequestError(
                f"{self.reference} was synced to Xero organisation {self.tenant_id}; the "
                f"organisation is now connected to {policy.tenant_id}: nothing to retry here"
            )

    def request_retry(
        self, reason: str = "retry requested", policy: Policy = NO_CONNECTION
    ) -> None:
        """Ask for the failed delivery to be tried again."""
        outcome = self.last_outcome
        if self.open_request is not None:
            raise InvalidRequestError(f"{self.reference} is already Pending; nothing to retry")
        if outcome is None or outcome.succeeded or not outcome.final:
            raise InvalidRequestError(f"{self.reference} is not Failed; nothing to retry")
        self.check_retry(outcome.operation, policy)
        self.trigger_event(
            self.RetryRequested,
            operation=outcome.operation,
            reason=reason,
            depends_on=self.dependency(outcome.operation),
            group=self.group(outcome.operation),
        )

    def _retry_if_changed(self, operation: str, reason: str) -> None:
        """A final failure of ``operation`` is tried again once the document's content changed
        (the failure was about what it said then)."""
        if (
            self.is_failed
            and self.last_outcome is not None
            and self.last_outcome.operation == operation
            and self.failed_for.get(operation, self.content()) != self.content()
        ):
            self.trigger_event(
                self.RetryRequested,
                operation=operation,
                reason=reason,
                depends_on=self.dependency(operation),
                group=self.group(operation),
            )

    def record_success(
        self,
        operation: str,
        request_version: int,
        xero_id: str,
        sent: InvoiceFields | PaymentFields | None,
        detail: str,
        calls: list[dict[str, Any]],
        *,
        tenant_id: str | None = None,
        xero: dict[str, Any] | None = None,
    ) -> bool:
        """Record that Xero accepted a delivery of ``sent``. A request resolved meanwhile (by a
        skip or a failure) still gets Xero's answer recorded, as a fact; False when nothing new
        was learned (the same success recorded before)."""
        if not self._is_open(request_version) and self._already_known(
            operation, request_version, xero_id
        ):
            return False
        self.trigger_event(
            self.SyncSucceeded,
            operation=operation,
            request_version=request_version,
            xero_id=xero_id,
            sent=sent,
            detail=detail,
            calls=calls,
            tenant_id=tenant_id,
            xero=xero,
        )
        return True

    def _already_known(self, operation: str, request_version: int, xero_id: str) -> bool:
        """True if a success for this resolved request adds nothing (per kind)."""
        return request_version in self.resolved

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
        action: str = "",
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
            action=action,
        )
        return True

    def record_skip(
        self, operation: str, request_version: int, reason: str, calls: list[dict[str, Any]]
    ) -> bool:
        """Record that a delivery ended with nothing to send; False if already resolved."""
        if not self._is_open(request_version):
            return False
        self.trigger_event(
            self.SyncSkipped,
            operation=operation,
            request_version=request_version,
            reason=reason,
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

    def request_next(self, policy: Policy) -> None:
        """Ask for what brings Xero in line with the document, if anything (per kind)."""


class Invoice(Document):
    """An OpenSolar invoice and its life in Xero: created, updated, then cancelled there."""

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

    class Amended(Aggregate.Event):
        """Changed in OpenSolar after it was sent to Xero: ``fields`` differ from what Xero
        holds."""

        change: Change
        fields: list[str]

        def apply(self, aggregate: Any) -> None:
            aggregate.take(self.change)

    class AmendedAfterSync(Aggregate.Event):
        """(Recorded by older versions: amounts changed after sync, then a final state.)"""

        change: Change
        guidance: str

        def apply(self, aggregate: Any) -> None:
            aggregate.take(self.change)
            aggregate.amendment_error = self.guidance

    class PaymentLinked(Aggregate.Event):
        payment: str

        def apply(self, aggregate: Any) -> None:
            aggregate.payments[self.payment] = None

    class PaymentUnlinked(Aggregate.Event):
        payment: str

        def apply(self, aggregate: Any) -> None:
            aggregate.payments.pop(self.payment, None)

    def __init__(self, org_id: str, opensolar_id: str) -> None:
        super().__init__(org_id, opensolar_id)
        self.fields: InvoiceFields | None = None
        self.issued_at: datetime | None = None
        self.cancelled_at: datetime | None = None
        self.xero_invoice_id: str | None = None
        self.xero_number: str | None = None
        self.xero_total: Decimal | None = None
        self.xero_status: str | None = None
        self.contact_id: str | None = None
        self.sent_fields: InvoiceFields | None = None
        self.cancellation: str | None = None
        self.xero_credit_note_id: str | None = None
        self.credited = Decimal("0.00")
        self.refund_due = Decimal("0.00")
        self.payments: dict[str, None] = {}

    def take(self, change: Change) -> None:
        """Apply a change's content to the current state."""
        self.seen_event_ids.add(change.event_id)
        self.last_change_at = change.timestamp
        if isinstance(change.fields, InvoiceFields):
            self.fields = change.fields

    def on_success(self, event: Any) -> None:
        xero = event.xero or {}
        if event.operation == OP_INVOICE:
            self.xero_invoice_id = event.xero_id
            self.sent_fields = event.sent if isinstance(event.sent, InvoiceFields) else self.fields
            self.tenant_id = event.tenant_id or self.tenant_id
            self.xero_number = xero.get("number") or (
                self.sent_fields.invoice_number if self.sent_fields else None
            )
            self.xero_total = xero.get("total")
            self.xero_status = xero.get("status")
            self.contact_id = xero.get("contact_id")
        elif event.operation == OP_INVOICE_UPDATE:
            if isinstance(event.sent, InvoiceFields):
                self.sent_fields = event.sent
            self.xero_total = xero.get("total", self.xero_total)
        elif event.operation == OP_CREDIT_NOTE:
            self.cancellation = xero.get("cancellation", CREDITED)
            if self.cancellation == CREDITED:
                self.xero_credit_note_id = event.xero_id
            self.credited = xero.get("allocated", self.credited)
            self.refund_due = xero.get("refund_due", self.refund_due)

    def _already_known(self, operation: str, request_version: int, xero_id: str) -> bool:
        if operation == OP_INVOICE:
            return self.xero_invoice_id is not None
        if operation == OP_CREDIT_NOTE:
            return self.cancellation is not None
        return request_version in self.resolved

    # what the invoice is ----------------------------------------------------------------------

    @property
    def is_issued(self) -> bool:
        return self.issued_at is not None

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def in_xero(self) -> bool:
        return self.xero_invoice_id is not None

    @property
    def number(self) -> str:
        return self.fields.invoice_number if self.fields else self.reference

    @property
    def issued_on(self) -> date:
        """The day it was issued (its date in Xero when OpenSolar gives none)."""
        moment = self.issued_at or self.last_change_at
        return moment.date() if moment else date(1970, 1, 1)

    @property
    def is_abandoned(self) -> bool:
        """Cancelled in OpenSolar and, for certain, never in Xero: nothing will ever go."""
        return (
            self.is_cancelled
            and not self.in_xero
            and (self.open_request is None or self.open_request.operation != OP_INVOICE)
        )

    def uses_number(self, number: str) -> bool:
        key = number_key(number)
        return (self.fields is not None and number_key(self.fields.invoice_number) == key) or (
            self.xero_number is not None and number_key(self.xero_number) == key
        )

    def may_hold_number(self, number: str) -> bool:
        key = number_key(number)
        if self.xero_number is not None:
            return number_key(self.xero_number) == key
        request = self.open_request
        return request is not None and request.operation == OP_INVOICE and self.uses_number(number)

    def content(self) -> object:
        if self.fields is None:
            return None
        return invoice_content(self.fields, self.issued_on)

    def differences(self) -> InvoiceDifferences:
        """How OpenSolar's invoice differs now from what Xero holds."""
        if self.fields is None or self.sent_fields is None:
            return InvoiceDifferences((), ())
        return invoice_differences(self.sent_fields, self.fields, self.issued_on)

    def link_payment(self, payment: str) -> None:
        """Remember a payment made against this invoice."""
        if payment not in self.payments:
            self.trigger_event(self.PaymentLinked, payment=payment)

    def unlink_payment(self, payment: str) -> None:
        """Forget a payment moved to another invoice."""
        if payment in self.payments:
            self.trigger_event(self.PaymentUnlinked, payment=payment)

    # changes ----------------------------------------------------------------------------------

    def receive(self, change: Change, policy: Policy | Connection | None) -> None:
        """Record one OpenSolar change, and ask for what it calls for in Xero."""
        policy = _policy(policy)
        if self.has_seen(change):
            return
        if self._is_older(change):
            self._ignore_older(change)
            return
        status = change.fields.status if isinstance(change.fields, InvoiceFields) else None
        if change.event == "DELETE" or status == "cancelled":
            self._cancel(change, policy)
            return
        if self.is_cancelled:
            self._ignore(
                change,
                "the invoice is cancelled in OpenSolar; a cancelled invoice is never sent again "
                "(issue a new invoice instead)",
            )
            return
        if not self.is_issued:
            if status == "not_sent":
                self.trigger_event(self.Drafted, change=change)
                return
            self.trigger_event(self.Issued, change=change)
            if policy.covers(change.timestamp) and self.open_request is None:
                self.request_sync(OP_INVOICE, "issued in OpenSolar while connected to Xero")
            return
        if not self.in_xero:
            self.trigger_event(self.Updated, change=change)
            self._retry_if_changed(OP_INVOICE, "changed in OpenSolar since it failed")
            return
        self._change_after_sync(change, policy)

    def _cancel(self, change: Change, policy: Policy) -> None:
        if self.is_cancelled:
            self.trigger_event(self.Updated, change=change)
            return
        self.trigger_event(self.Cancelled, change=change)
        request = self.open_request
        if request is not None and not request.attempted:
            if request.operation == OP_INVOICE and not self.in_xero:
                self.skip_open(CANCELLED_UNSENT)
            elif request.operation == OP_INVOICE_UPDATE:
                self.skip_open("cancelled in OpenSolar: the update is no longer needed")
        self.request_next(policy)

    def _change_after_sync(self, change: Change, policy: Policy) -> None:
        if self.sent_fields is None or not isinstance(change.fields, InvoiceFields):
            self.trigger_event(self.Updated, change=change)
            return
        now = invoice_differences(self.sent_fields, change.fields, self.issued_on)
        if not now:
            self.trigger_event(self.Updated, change=change)
            request = self.open_request
            if request is not None and request.operation == OP_INVOICE_UPDATE:
                if not request.attempted:
                    self.skip_open("back to what Xero holds; nothing to send")
            elif (
                self.is_failed
                and self.last_outcome is not None
                and (self.last_outcome.operation == OP_INVOICE_UPDATE)
            ):
                self.trigger_event(self.BackInLine, reason="back to what Xero holds")
            return
        self.trigger_event(self.Amended, change=change, fields=list(now.names))
        self.request_next(policy)

    def request_next(self, policy: Policy) -> None:
        """After a change or an outcome: cancel in Xero what OpenSolar cancelled, update in Xero
        what OpenSolar changed, or fail naming what Xero cannot take."""
        if self.open_request is not None or self.fields is None or not self.in_xero:
            return
        if self.is_cancelled:
            if self.cancellation is None and OP_CREDIT_NOTE not in self.failed_for:
                self.request_sync(
                    OP_CREDIT_NOTE, "cancelled in OpenSolar after it was sent to Xero"
                )
            return
        found = self.differences()
        if not found or self.failed_for.get(OP_INVOICE_UPDATE) == self.content():
            return
        if found.fixed:
            number = self.xero_number or self.number
            self.refuse(
                OP_INVOICE_UPDATE,
                f"{listed(found.fixed)} changed in OpenSolar after the invoice was sent to Xero "
                f"as {number}; Xero keeps an invoice's {listed(found.fixed)}",
                AMENDMENT,
                f"change it back in OpenSolar, or cancel {self.number} in OpenSolar and issue a "
                "new invoice",
            )
            return
        self.request_sync(
            OP_INVOICE_UPDATE,
            f"changed in OpenSolar after it was sent to Xero: {listed(found.updatable)}",
        )

    def request_sync_now(self, connection: Connection | Policy | None, reason: str) -> None:
        """Ask for a Not Attempted invoice to be pushed (``sync``)."""
        policy = _policy(connection)
        if policy.tenant_id is None:
            raise InvalidRequestError(
                f"{self.reference}: organisation {self.org_id} is not connected to Xero; "
                "run `syncledger connect` first"
            )
        if not self.is_issued:
            raise InvalidRequestError(f"{self.reference} is not issued in OpenSolar yet")
        if self.in_xero:
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

    def check_retry(self, operation: str, policy: Policy) -> None:
        super().check_retry(operation, policy)
        if operation == OP_INVOICE and self.is_cancelled and not self.in_xero:
            raise InvalidRequestError(
                f"{self.reference} was cancelled in OpenSolar before it reached Xero; "
                "nothing to send"
            )
        if operation == OP_INVOICE and self.in_xero:
            raise InvalidRequestError(f"{self.reference} is already in Xero")


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
            if aggregate.paid_at is None:
                aggregate.paid_at = self.change.timestamp
            aggregate.voided_at = None

    class Updated(Aggregate.Event):
        change: Change

        def apply(self, aggregate: Any) -> None:
            aggregate.take(self.change)

    class Voided(Aggregate.Event):
        """No longer paid in OpenSolar: bounced (``failed``), set back to ``pending`` or
        deleted."""

        change: Change

        def apply(self, aggregate: Any) -> None:
            aggregate.take(self.change)
            aggregate.voided_at = self.change.timestamp

    class AmendedAfterSync(Aggregate.Event):
        """(Recorded by older versions: changed after sync, then a final state.)"""

        change: Change
        guidance: str

        def apply(self, aggregate: Any) -> None:
            aggregate.take(self.change)
            aggregate.amendment_error = self.guidance

    def __init__(self, org_id: str, opensolar_id: str) -> None:
        super().__init__(org_id, opensolar_id)
        self.fields: PaymentFields | None = None
        self.deleted = False
        self.paid_at: datetime | None = None
        self.voided_at: datetime | None = None
        self.xero_payment_id: str | None = None
        self.sent_fields: PaymentFields | None = None
        self.deleted_in_xero: list[str] = []
        self.invoices_seen: dict[str, None] = {}
        """Every invoice (OpenSolar id) the payment has been against, in order."""

    def take(self, change: Change) -> None:
        """Apply a change's content to the current state."""
        self.seen_event_ids.add(change.event_id)
        self.last_change_at = change.timestamp
        self.deleted = change.event == "DELETE"
        if isinstance(change.fields, PaymentFields):
            self.fields = change.fields
            self.invoices_seen[change.fields.invoice_id] = None

    def on_success(self, event: Any) -> None:
        if event.operation == OP_PAYMENT_DELETE:
            self.deleted_in_xero.append(event.xero_id)
            self.xero_payment_id = None
            self.sent_fields = None
            return
        self.xero_payment_id = event.xero_id
        self.sent_fields = event.sent if isinstance(event.sent, PaymentFields) else self.fields
        self.tenant_id = event.tenant_id or self.tenant_id

    def _already_known(self, operation: str, request_version: int, xero_id: str) -> bool:
        if operation == OP_PAYMENT:
            return self.xero_payment_id == xero_id or xero_id in self.deleted_in_xero
        if operation == OP_PAYMENT_DELETE:
            return xero_id in self.deleted_in_xero
        return request_version in self.resolved

    def dependency(self, operation: str) -> str | None:
        if operation != OP_PAYMENT:
            return None
        invoice = self.invoice_document
        return str(invoice) if invoice is not None else None

    def group(self, operation: str) -> str:
        """A payment is delivered with the invoice it is applied to (a deletion) or is for."""
        held = self.sent_fields
        if operation == OP_PAYMENT_DELETE and held is not None:
            return str(document_id(self.org_id, INVOICE, held.invoice_id))
        invoice = self.invoice_document
        return str(invoice) if invoice is not None else str(self.id)

    @property
    def invoice_document(self) -> UUID | None:
        """The aggregate id of the invoice this payment is against now."""
        if self.fields is None:
            return None
        return document_id(self.org_id, INVOICE, self.fields.invoice_id)

    @property
    def invoice_id(self) -> str:
        """The OpenSolar id of the invoice the payment is against now."""
        return self.fields.invoice_id if self.fields else "?"

    @property
    def is_paid(self) -> bool:
        """True if OpenSolar says the money was received: Xero should hold this payment."""
        return self.fields is not None and self.fields.status == "paid" and not self.deleted

    @property
    def in_xero(self) -> bool:
        return self.xero_payment_id is not None

    def content(self) -> object:
        if self.fields is None:
            return None
        return (self.is_paid, payment_content(self.fields))

    def receive(self, change: Change, policy: Policy | Connection | None) -> None:
        """Record one OpenSolar change, and ask for what it calls for in Xero."""
        policy = _policy(policy)
        if self.has_seen(change):
            return
        if self._is_older(change):
            self._ignore_older(change)
            return
        was_paid = self.is_paid
        status = change.fields.status if isinstance(change.fields, PaymentFields) else None
        paid_now = status == "paid" and change.event != "DELETE"
        if paid_now and not was_paid:
            self.trigger_event(self.Paid, change=change)
        elif was_paid and not paid_now:
            self.trigger_event(self.Voided, change=change)
        elif self.last_change_at is None:
            self.trigger_event(self.Recorded, change=change)
        else:
            self.trigger_event(self.Updated, change=change)
        request = self.open_request
        if request is not None and not request.attempted:
            if request.operation == OP_PAYMENT and not self.is_paid:
                self.skip_open(WITHDRAWN_UNSENT)
            elif request.operation == OP_PAYMENT and request.depends_on != self.dependency(
                OP_PAYMENT
            ):
                self.skip_open("moved to another invoice in OpenSolar before it was sent")
                self.request_sync(OP_PAYMENT, f"moved in OpenSolar to invoice {self.invoice_id}")
            elif request.operation == OP_PAYMENT_DELETE and not self.differs_from_xero():
                self.skip_open("back to what Xero holds; nothing to send")
        if self.in_xero or self.deleted_in_xero:
            self.request_next(policy)
        elif self.is_paid and self.open_request is None:
            if self.is_failed:
                self._retry_if_changed(OP_PAYMENT, "changed in OpenSolar since it failed")
            elif policy.covers(self.paid_at or change.timestamp):
                self.request_sync(OP_PAYMENT, "paid in OpenSolar while connected to Xero")

    def differs_from_xero(self) -> bool:
        """True if the payment Xero holds is not what OpenSolar says now."""
        if self.sent_fields is None:
            return self.is_paid
        if not self.is_paid or self.fields is None:
            return True
        return bool(payment_differences(self.sent_fields, self.fields))

    def request_next(self, policy: Policy) -> None:
        """After a change or an outcome: delete in Xero a payment OpenSolar changed or withdrew,
        and apply it again where it belongs now."""
        if self.open_request is not None or self.fields is None:
            return
        content = self.content()
        if self.in_xero:
            if self.differs_from_xero() and self.failed_for.get(OP_PAYMENT_DELETE) != content:
                what = (
                    listed(payment_differences(self.sent_fields, self.fields))
                    if self.is_paid and self.sent_fields is not None
                    else "no longer paid"
                )
                self.request_sync(
                    OP_PAYMENT_DELETE, f"changed in OpenSolar after it was applied in Xero: {what}"
                )
            return
        if self.is_paid and self.deleted_in_xero and self.failed_for.get(OP_PAYMENT) != content:
            self.request_sync(OP_PAYMENT, "paid in OpenSolar: applied again as it is now")

    def request_sync_now(self, connection: Connection | Policy | None, reason: str) -> None:
        """Ask for a Not Attempted payment to be pushed (``sync``)."""
        policy = _policy(connection)
        if policy.tenant_id is None:
            raise InvalidRequestError(
                f"{self.reference}: organisation {self.org_id} is not connected to Xero; "
                "run `syncledger connect` first"
            )
        if not self.is_paid:
            raise InvalidRequestError(f"{self.reference} is not paid in OpenSolar")
        if self.in_xero:
            raise InvalidRequestError(f"{self.reference} is already Synced")
        if self.open_request is not None:
            raise InvalidRequestError(f"{self.reference} is already Pending")
        if self.last_outcome is not None and not self.last_outcome.succeeded:
            raise InvalidRequestError(f"{self.reference} is Failed: use `syncledger retry`")
        self.request_sync(OP_PAYMENT, reason)

    def check_retry(self, operation: str, policy: Policy) -> None:
        super().check_retry(operation, policy)
        if operation == OP_PAYMENT and not self.is_paid:
            raise InvalidRequestError(f"{self.reference} is not paid in OpenSolar; nothing to send")

    def block(self, error: str, action: str) -> None:
        """The payment cannot be applied as things stand (its invoice, its currency): it fails
        with the reason, unless it already did for the same one."""
        outcome = self.last_outcome
        if (
            self.is_failed
            and outcome is not None
            and outcome.error == error
            and outcome.operation == OP_PAYMENT
        ):
            return
        request = self.open_request
        if request is not None and request.operation != OP_PAYMENT:
            return
        self.refuse(OP_PAYMENT, error, FOLLOWS_INVOICE, action)

    def unblock(self, reason: str) -> None:
        """What its invoice blocked no longer holds: the payment is asked for again."""
        outcome = self.last_outcome
        if (
            self.is_failed
            and outcome is not None
            and outcome.category == FOLLOWS_INVOICE
            and self.is_paid
        ):
            self.trigger_event(
                self.RetryRequested,
                operation=OP_PAYMENT,
                reason=reason,
                depends_on=self.dependency(OP_PAYMENT),
                group=self.group(OP_PAYMENT),
            )


def _policy(given: Policy | Connection | None) -> Policy:
    """A document's view of its organisation from a ``Policy`` or (for callers and tests that
    have only a connection) a ``Connection``."""
    if isinstance(given, Policy):
        return given
    if isinstance(given, Connection):
        return Policy(given.connected_at, True, given.tenant_id)
    return NO_CONNECTION


def follow_invoice(payment: Payment, invoice: Invoice | None) -> None:
    """Apply to a payment what its invoice's state means for it: money received for an invoice
    cancelled before it reached Xero, or in another currency, cannot be applied (Failed with the
    reason and the action); once that no longer holds, the payment is asked for again."""
    if not payment.is_paid or payment.in_xero or payment.fields is None or invoice is None:
        return
    fields = payment.fields
    if invoice.is_abandoned:
        payment.block(
            f"money received for invoice {invoice.number}, which was cancelled in OpenSolar "
            "before it reached Xero: there is no Xero invoice to apply it to",
            "refund the customer, or record the money in Xero by hand (for example as an "
            "overpayment); this payment is not sent",
        )
        return
    if invoice.fields is None or not invoice.is_issued:
        return
    if fields.currency != invoice.fields.currency:
        payment.block(
            f"payment in {fields.currency} but invoice {invoice.number} is in "
            f"{invoice.fields.currency}: Xero applies a payment in its invoice's currency",
            "correct the payment's (or the invoice's) currency in OpenSolar; it is sent "
            "automatically once they agree",
        )
        return
    payment.unblock(f"invoice {invoice.number} can take it now")
