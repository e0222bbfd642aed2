"""Invoice documents: an OpenSolar invoice and its life in Xero.

An invoice issued while connected is created in Xero; changed after it was sent it is updated
(or fails naming the fields Xero cannot take); cancelled after it was sent it is cancelled in
Xero (credit note, draft deleted, or nothing if already voided). ``Invoice`` is filed under
``domain.documents`` so that stored topics keep their names.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from domain.differences import (
    InvoiceDifferences,
    invoice_content,
    invoice_differences,
    listed,
)
from domain.documents.document import PACKAGE, Document, file_under_package
from domain.documents.events import CANCELLED_UNSENT
from domain.errors import InvalidRequestError
from domain.numbers import number_key
from domain.opensolar import Change, InvoiceFields
from domain.organisation import Policy
from domain.vocabulary import Cancellation, DocumentKind, FailureCategory, Operation


class Invoice(Document):
    """An OpenSolar invoice and its life in Xero: created, updated, then cancelled there."""

    __module__ = PACKAGE  # the topics stay ``domain.documents:Invoice...``

    kind: ClassVar[DocumentKind] = DocumentKind.INVOICE
    first_delivery: ClassVar[Operation] = Operation.INVOICE

    class Drafted(Document.Changed):
        """Received as a draft (``not_sent``): nothing goes to Xero yet."""

    class Issued(Document.Changed):
        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.issued_at = self.change.timestamp

    class Cancelled(Document.Changed):
        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.cancelled_at = self.change.timestamp

    class Amended(Document.Changed):
        """Changed in OpenSolar after it was sent to Xero: ``fields`` differ from what Xero
        holds."""

        fields: list[str]

    class PaymentLinked(Document.Event):
        payment: str

        def apply(self, aggregate: Any) -> None:
            aggregate.payments[self.payment] = None

    class PaymentUnlinked(Document.Event):
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
        super().take(change)
        if isinstance(change.fields, InvoiceFields):
            self.fields = change.fields

    def on_success(self, event: Any) -> None:
        xero = event.xero or {}
        if event.operation == Operation.INVOICE:
            self.xero_invoice_id = event.xero_id
            self.sent_fields = event.sent if isinstance(event.sent, InvoiceFields) else self.fields
            self.tenant_id = event.tenant_id or self.tenant_id
            self.xero_number = xero.get("number") or (
                self.sent_fields.invoice_number if self.sent_fields else None
            )
            self.xero_total = xero.get("total")
            self.xero_status = xero.get("status")
            self.contact_id = xero.get("contact_id")
        elif event.operation == Operation.INVOICE_UPDATE:
            if isinstance(event.sent, InvoiceFields):
                self.sent_fields = event.sent
            self.xero_total = xero.get("total", self.xero_total)
        elif event.operation == Operation.CREDIT_NOTE:
            self.cancellation = xero.get("cancellation", Cancellation.CREDITED)
            if self.cancellation == Cancellation.CREDITED:
                self.xero_credit_note_id = event.xero_id
            self.credited = xero.get("allocated", self.credited)
            self.refund_due = xero.get("refund_due", self.refund_due)

    def _already_known(self, operation: str, request_version: int, xero_id: str) -> bool:
        if operation == Operation.INVOICE:
            return self.xero_invoice_id is not None
        if operation == Operation.CREDIT_NOTE:
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
            and (self.open_request is None or self.open_request.operation != Operation.INVOICE)
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
        return (
            request is not None
            and request.operation == Operation.INVOICE
            and self.uses_number(number)
        )

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

    def _receive(self, change: Change, policy: Policy) -> None:
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
                self.request_sync(Operation.INVOICE, "issued in OpenSolar while connected to Xero")
            return
        if not self.in_xero:
            self.trigger_event(self.Updated, change=change)
            self._retry_if_changed(Operation.INVOICE, "changed in OpenSolar since it failed")
            return
        self._change_after_sync(change, policy)

    def _cancel(self, change: Change, policy: Policy) -> None:
        if self.is_cancelled:
            self.trigger_event(self.Updated, change=change)
            return
        self.trigger_event(self.Cancelled, change=change)
        request = self.open_request
        if request is not None and not request.attempted:
            if request.operation == Operation.INVOICE and not self.in_xero:
                self.skip_open(CANCELLED_UNSENT)
            elif request.operation == Operation.INVOICE_UPDATE:
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
            if request is not None and request.operation == Operation.INVOICE_UPDATE:
                if not request.attempted:
                    self.skip_open("back to what Xero holds; nothing to send")
            elif (
                self.is_failed
                and self.last_outcome is not None
                and (self.last_outcome.operation == Operation.INVOICE_UPDATE)
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
            if self.cancellation is None and Operation.CREDIT_NOTE not in self.failed_for:
                self.request_sync(
                    Operation.CREDIT_NOTE, "cancelled in OpenSolar after it was sent to Xero"
                )
            return
        found = self.differences()
        if not found or self.failed_for.get(Operation.INVOICE_UPDATE) == self.content():
            return
        if found.fixed:
            number = self.xero_number or self.number
            self.refuse(
                Operation.INVOICE_UPDATE,
                f"{listed(found.fixed)} changed in OpenSolar after the invoice was sent to Xero "
                f"as {number}; Xero keeps an invoice's {listed(found.fixed)}",
                FailureCategory.AMENDMENT,
                f"change it back in OpenSolar, or cancel {self.number} in OpenSolar and issue a "
                "new invoice",
            )
            return
        self.request_sync(
            Operation.INVOICE_UPDATE,
            f"changed in OpenSolar after it was sent to Xero: {listed(found.updatable)}",
        )

    def check_sync_now(self) -> None:
        if not self.is_issued:
            raise InvalidRequestError(f"{self.reference} is not issued in OpenSolar yet")
        if self.in_xero:
            raise InvalidRequestError(f"{self.reference} is already Synced")
        if self.is_cancelled:
            raise InvalidRequestError(
                f"{self.reference} was cancelled in OpenSolar before it was sent; nothing to send"
            )

    def check_retry(self, operation: str, policy: Policy) -> None:
        super().check_retry(operation, policy)
        if operation == Operation.INVOICE and self.is_cancelled and not self.in_xero:
            raise InvalidRequestError(
                f"{self.reference} was cancelled in OpenSolar before it reached Xero; "
                "nothing to send"
            )
        if operation == Operation.INVOICE and self.in_xero:
            raise InvalidRequestError(f"{self.reference} is already in Xero")


file_under_package(Invoice)
