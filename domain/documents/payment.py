"""Payment documents: an OpenSolar payment against an invoice, and its life in Xero.

A payment reaching ``paid`` is applied in Xero; edited, bounced, set back to pending or moved
after it was applied, it is deleted in Xero and applied again where it belongs. Money for an
invoice that will never reach Xero, or in another currency, cannot be applied (``follow_invoice``).
``Payment`` is filed under ``domain.documents`` so that stored topics keep their names.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from domain.differences import listed, payment_content, payment_differences
from domain.documents.document import PACKAGE, Document, file_under_package
from domain.documents.events import WITHDRAWN_UNSENT
from domain.documents.invoice import Invoice
from domain.errors import InvalidRequestError
from domain.ids import document_id
from domain.opensolar import Change, PaymentFields
from domain.organisation import Policy
from domain.vocabulary import DocumentKind, FailureCategory, Operation


class Payment(Document):
    """An OpenSolar payment against an invoice, and its life in Xero."""

    __module__ = PACKAGE  # the topics stay ``domain.documents:Payment...``

    kind: ClassVar[DocumentKind] = DocumentKind.PAYMENT
    first_delivery: ClassVar[Operation] = Operation.PAYMENT

    class Recorded(Document.Changed):
        """First received while not paid."""

    class Paid(Document.Changed):
        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            if aggregate.paid_at is None:
                aggregate.paid_at = self.change.timestamp
            aggregate.voided_at = None

    class Voided(Document.Changed):
        """No longer paid in OpenSolar: bounced (``failed``), set back to ``pending`` or
        deleted."""

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.voided_at = self.change.timestamp

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
        super().take(change)
        self.deleted = change.event == "DELETE"
        if isinstance(change.fields, PaymentFields):
            self.fields = change.fields
            self.invoices_seen[change.fields.invoice_id] = None

    def on_success(self, event: Any) -> None:
        if event.operation == Operation.PAYMENT_DELETE:
            self.deleted_in_xero.append(event.xero_id)
            self.xero_payment_id = None
            self.sent_fields = None
            return
        self.xero_payment_id = event.xero_id
        self.sent_fields = event.sent if isinstance(event.sent, PaymentFields) else self.fields
        self.tenant_id = event.tenant_id or self.tenant_id

    def _already_known(self, operation: str, request_version: int, xero_id: str) -> bool:
        if operation == Operation.PAYMENT:
            return self.xero_payment_id == xero_id or xero_id in self.deleted_in_xero
        if operation == Operation.PAYMENT_DELETE:
            return xero_id in self.deleted_in_xero
        return request_version in self.resolved

    def dependency(self, operation: str) -> str | None:
        if operation != Operation.PAYMENT:
            return None
        invoice = self.invoice_document
        return str(invoice) if invoice is not None else None

    def group(self, operation: str) -> str:
        """A payment is delivered with the invoice it is applied to (a deletion) or is for."""
        held = self.sent_fields
        if operation == Operation.PAYMENT_DELETE and held is not None:
            return str(document_id(self.org_id, DocumentKind.INVOICE, held.invoice_id))
        invoice = self.invoice_document
        return str(invoice) if invoice is not None else str(self.id)

    @property
    def invoice_document(self) -> UUID | None:
        """The aggregate id of the invoice this payment is against now."""
        if self.fields is None:
            return None
        return document_id(self.org_id, DocumentKind.INVOICE, self.fields.invoice_id)

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

    def _receive(self, change: Change, policy: Policy) -> None:
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
            if request.operation == Operation.PAYMENT and not self.is_paid:
                self.skip_open(WITHDRAWN_UNSENT)
            elif request.operation == Operation.PAYMENT and request.depends_on != self.dependency(
                Operation.PAYMENT
            ):
                self.skip_open("moved to another invoice in OpenSolar before it was sent")
                self.request_sync(
                    Operation.PAYMENT, f"moved in OpenSolar to invoice {self.invoice_id}"
                )
            elif request.operation == Operation.PAYMENT_DELETE and not self.differs_from_xero():
                self.skip_open("back to what Xero holds; nothing to send")
        if self.in_xero or self.deleted_in_xero:
            self.request_next(policy)
        elif self.is_paid and self.open_request is None:
            if self.is_failed:
                self._retry_if_changed(Operation.PAYMENT, "changed in OpenSolar since it failed")
            elif policy.covers(self.paid_at or change.timestamp):
                self.request_sync(Operation.PAYMENT, "paid in OpenSolar while connected to Xero")

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
            if (
                self.differs_from_xero()
                and self.failed_for.get(Operation.PAYMENT_DELETE) != content
            ):
                what = (
                    listed(payment_differences(self.sent_fields, self.fields))
                    if self.is_paid and self.sent_fields is not None
                    else "no longer paid"
                )
                self.request_sync(
                    Operation.PAYMENT_DELETE,
                    f"changed in OpenSolar after it was applied in Xero: {what}",
                )
            return
        if (
            self.is_paid
            and self.deleted_in_xero
            and self.failed_for.get(Operation.PAYMENT) != content
        ):
            self.request_sync(Operation.PAYMENT, "paid in OpenSolar: applied again as it is now")

    def check_sync_now(self) -> None:
        if not self.is_paid:
            raise InvalidRequestError(f"{self.reference} is not paid in OpenSolar")
        if self.in_xero:
            raise InvalidRequestError(f"{self.reference} is already Synced")

    def check_retry(self, operation: str, policy: Policy) -> None:
        super().check_retry(operation, policy)
        if operation == Operation.PAYMENT and not self.is_paid:
            raise InvalidRequestError(f"{self.reference} is not paid in OpenSolar; nothing to send")

    def block(self, error: str, action: str) -> None:
        """The payment cannot be applied as things stand (its invoice, its currency): it fails
        with the reason, unless it already did for the same one."""
        outcome = self.last_outcome
        if (
            self.is_failed
            and outcome is not None
            and outcome.error == error
            and outcome.operation == Operation.PAYMENT
        ):
            return
        request = self.open_request
        if request is not None and request.operation != Operation.PAYMENT:
            return
        self.refuse(Operation.PAYMENT, error, FailureCategory.FOLLOWS_INVOICE, action)

    def unblock(self, reason: str) -> None:
        """What its invoice blocked no longer holds: the payment is asked for again."""
        outcome = self.last_outcome
        if (
            self.is_failed
            and outcome is not None
            and outcome.category == FailureCategory.FOLLOWS_INVOICE
            and self.is_paid
        ):
            self._ask_again(Operation.PAYMENT, reason)


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


file_under_package(Payment)
