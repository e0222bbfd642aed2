"""Cancellations in Xero follow the invoice's state there, read first (one read per batch).

    AUTHORISED or PAID   a credit note mirroring the invoice as Xero holds it, allocated to what
                         is still due; what the customer paid remains as credit: a refund due
    DRAFT or SUBMITTED   the draft is deleted in Xero; no credit note
    VOIDED or DELETED    nothing is sent (done by hand in Xero); the status says so
    not there            Failed, nothing created

A cancellation waits for the payments of the invoice that are on their way to Xero, so money
received is applied before the credit note takes what is still due.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from domain.differences import invoice_day
from domain.documents import Invoice
from domain.mapping import allocation_payload, credit_note_number, credit_note_payload
from domain.money import amount_of
from domain.vocabulary import Cancellation, FailureCategory, Operation
from outbox.delivery.context import Context
from outbox.delivery.outcomes import (
    Item,
    Outcome,
    Refused,
    Skipped,
    Succeeded,
    Waiting,
    other_tenant,
)
from outbox.xero import XeroDuplicateNumberError, XeroRejectedError
from outbox.xero.answers import GONE

PAYMENTS_FIRST_SECONDS = 2.0
ZERO = Decimal("0.00")


def _amount(value: Any) -> Decimal:
    return amount_of(value) or ZERO


class Cancellations:
    """Cancels in Xero the invoices OpenSolar cancelled after they were sent."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def run(self, items: Sequence[Item]) -> dict[int, Outcome]:
        """One outcome per message id."""
        ctx = self.ctx
        results: dict[int, Outcome] = {}
        ready: list[tuple[Item, Invoice, str]] = []
        for item in items:
            invoice = item.document
            if not isinstance(invoice, Invoice) or invoice.xero_invoice_id is None:
                results[item.message.id] = Skipped("not in Xero: nothing to cancel there")
            elif invoice.cancellation is not None:
                results[item.message.id] = Skipped("already cancelled in Xero")
            elif invoice.in_other_tenant(ctx.policy):
                results[item.message.id] = other_tenant(invoice, ctx.policy.tenant_id)
            else:
                waiting = self._payments_on_their_way(invoice)
                if waiting:
                    results[item.message.id] = Waiting(
                        f"waiting for {waiting} to be applied in Xero first",
                        PAYMENTS_FIRST_SECONDS,
                    )
                else:
                    ready.append((item, invoice, invoice.xero_invoice_id))
        if not ready:
            return results
        found = {
            str(i.get("InvoiceID")): i
            for i in ctx.client.get_invoices(
                [xero_id for _, _, xero_id in ready], [[item.doc] for item, _, _ in ready]
            )
        }
        for item, invoice, xero_id in ready:
            held = found.get(xero_id)
            try:
                results[item.message.id] = self._cancel(item, invoice, held)
            except XeroRejectedError as exc:
                results[item.message.id] = Refused(
                    f"Xero refused to cancel invoice {invoice.xero_number or invoice.number}: "
                    + "; ".join(exc.messages),
                    FailureCategory.REJECTED,
                    "cancel it in Xero by hand as Xero's message allows (for example after the "
                    "period lock date is moved), then run "
                    f"`syncledger retry {invoice.number}`",
                )
        return results

    def _payments_on_their_way(self, invoice: Invoice) -> str:
        """The payments of the invoice that Xero will see change without anyone acting (applied,
        or deleted to be applied again): the credit note takes what is due after them."""
        waiting = []
        for doc_id in invoice.payments:
            payment = self.ctx.payment(doc_id)
            request = payment.open_request if payment is not None else None
            if (
                payment is not None
                and request is not None
                and request.operation in (Operation.PAYMENT, Operation.PAYMENT_DELETE)
            ):
                waiting.append(payment.reference)
        return ", ".join(waiting)

    def _cancel(self, item: Item, invoice: Invoice, held: Mapping[str, Any] | None) -> Outcome:
        number = invoice.xero_number or invoice.number
        if held is None:
            return Refused(
                f"invoice {number} (Xero id {invoice.xero_invoice_id}) is not in the connected "
                "Xero organisation; nothing was created there",
                FailureCategory.BLOCKED,
                f"find out what happened to it in Xero (`syncledger audit reconcile "
                f"{invoice.org_id}`); nothing more is sent for {invoice.number}",
            )
        status = str(held.get("Status"))
        xero_id = str(held.get("InvoiceID"))
        if status in GONE:
            voided = status == "VOIDED"
            outcome = Cancellation.VOIDED_IN_XERO if voided else Cancellation.DELETED_IN_XERO
            return Succeeded(
                xero_id,
                invoice.sent_fields,
                f"invoice {number} was already {status} in Xero (by hand); nothing sent",
                {"cancellation": outcome, "status": status},
            )
        if status in ("DRAFT", "SUBMITTED"):
            body = {"InvoiceID": xero_id, "Status": "DELETED"}
            self.ctx.client.update_invoice(
                xero_id, body, self.ctx.key(item.message, "delete_draft", body), [item.doc]
            )
            return Succeeded(
                xero_id,
                invoice.sent_fields,
                f"invoice {number} was a {status} in Xero: deleted it there; no credit note needed",
                {"cancellation": Cancellation.DRAFT_DELETED, "status": "DELETED"},
            )
        return self._credit(item, invoice, held, number)

    def _day(self, invoice: Invoice, held: Mapping[str, Any]) -> date:
        sent = invoice.sent_fields or invoice.fields
        issued = invoice_day(sent, invoice.issued_on) if sent is not None else invoice.issued_on
        cancelled = invoice.cancelled_at.date() if invoice.cancelled_at else issued
        return max(cancelled, issued)

    def _credit(
        self, item: Item, invoice: Invoice, held: Mapping[str, Any], number: str
    ) -> Outcome:
        ctx = self.ctx
        xero_id = str(held.get("InvoiceID"))
        contact_id = str((held.get("Contact") or {}).get("ContactID") or invoice.contact_id or "")
        credit_number = credit_note_number(number)
        day = self._day(invoice, held)
        credit = ctx.client.find_credit_note(credit_number, [item.doc])
        if credit is not None and not self._ours(credit, contact_id, held):
            return Refused(
                f"Xero already has a credit note numbered {credit_number} "
                f"({credit.get('CreditNoteID')}) that does not credit this invoice",
                FailureCategory.BLOCKED,
                f"renumber or void that credit note in Xero by hand, then run "
                f"`syncledger retry {invoice.number}`",
            )
        if credit is None:
            if not held.get("LineItems"):
                held = ctx.client.get_invoice(xero_id, [item.doc])
            body = credit_note_payload(dict(held), number, contact_id, day)
            try:
                credit = ctx.client.create_credit_note(
                    body, ctx.key(item.message, Operation.CREDIT_NOTE, body), [item.doc]
                )
            except XeroDuplicateNumberError:
                credit = ctx.client.find_credit_note(credit_number, [item.doc])
                if credit is None:
                    raise
        credit_id = str(credit["CreditNoteID"])
        allocated = self._allocated(credit, xero_id)
        remaining = _amount(credit.get("RemainingCredit", credit.get("Total")))
        due = _amount(held.get("AmountDue"))
        if allocated == ZERO:
            amount = min(due, remaining)
            if amount > 0:
                body = allocation_payload(xero_id, amount, day)
                ctx.client.allocate_credit_note(
                    credit_id, body, ctx.key(item.message, "allocation", body), [item.doc]
                )
                allocated, remaining = amount, remaining - amount
        refund = remaining
        detail = (
            f"credit note {credit_number} ({_amount(credit.get('Total')):,.2f}) allocated "
            f"{allocated:,.2f} to {number}"
        )
        if refund > 0:
            detail += f"; refund due: {refund:,.2f} paid by the customer remains as credit"
        return Succeeded(
            credit_id,
            invoice.sent_fields,
            detail,
            {
                "cancellation": Cancellation.CREDITED,
                "credit_note_number": credit_number,
                "allocated": allocated,
                "refund_due": refund,
            },
        )

    @staticmethod
    def _allocated(credit: Mapping[str, Any], invoice_id: str) -> Decimal:
        total = ZERO
        for allocation in credit.get("Allocations") or []:
            if (allocation.get("Invoice") or {}).get("InvoiceID") == invoice_id:
                total += _amount(allocation.get("Amount"))
        return total

    @staticmethod
    def _ours(credit: Mapping[str, Any], contact_id: str, held: Mapping[str, Any]) -> bool:
        """A credit note found by our number is ours if it is for the invoice's contact and its
        total is the invoice's."""
        contact = str((credit.get("Contact") or {}).get("ContactID") or contact_id)
        total = credit.get("Total")
        return contact == contact_id and (
            total is None or _amount(total) == _amount(held.get("Total"))
        )
