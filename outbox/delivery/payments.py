"""Payments into Xero: applied to their invoice in batches, and deleted when OpenSolar edits,
bounces, withdraws or moves them after they were applied (Xero cannot edit a payment: the ledger
then asks for it to be applied again as it is now).

Before any call a payment is checked against its invoice: the invoice must be in Xero (else it
waits for it), in the organisation's current Xero organisation, in the payment's currency, and not
cancelled there already. After an uncertain attempt the payment is looked up by its Reference,
which names the OpenSolar payment, and adopted instead of being applied twice.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from domain.documents import WITHDRAWN_UNSENT, Invoice, Payment
from domain.errors import MappingError
from domain.ids import document_id
from domain.mapping import payment_payload, payment_reference, payment_tag
from domain.money import amount_of
from domain.opensolar import PaymentFields
from domain.vocabulary import DocumentKind, FailureCategory, Operation
from outbox.delivery.batches import chunks
from outbox.delivery.context import Context
from outbox.delivery.outcomes import (
    Item,
    Outcome,
    Refused,
    Skipped,
    Succeeded,
    Waiting,
    other_tenant,
    rejected,
)
from outbox.xero import XeroNotFoundError, XeroRejectedError


def _facts(payment: Payment, invoice: Invoice, amount: Any) -> dict[str, Any]:
    return {
        "invoice_doc": str(invoice.id),
        "invoice_xero_id": invoice.xero_invoice_id,
        "amount": amount_of(amount),
    }


class Payments:
    """Applies and deletes the payments of one organisation."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _blocked(self, payment: Payment, fields: PaymentFields) -> Outcome | Invoice:
        """The payment's invoice, if the payment can be applied to it now; else why not."""
        ctx = self.ctx
        invoice = ctx.invoice(payment.invoice_document)
        if invoice is None or invoice.fields is None or not invoice.in_xero:
            number = invoice.number if invoice is not None else fields.invoice_id
            if invoice is not None and invoice.is_abandoned:
                return Refused(
                    f"money received for invoice {number}, which was cancelled in OpenSolar "
                    "before it reached Xero: there is no Xero invoice to apply it to",
                    FailureCategory.FOLLOWS_INVOICE,
                    "refund the customer, or record the money in Xero by hand",
                )
            return Waiting(
                f"waiting for invoice {number}",
                on=str(payment.invoice_document) if payment.invoice_document else None,
            )
        if invoice.in_other_tenant(ctx.policy):
            return other_tenant(invoice, ctx.policy.tenant_id)
        if invoice.fields.currency != fields.currency:
            return Refused(
                f"payment in {fields.currency} but invoice {invoice.number} is in "
                f"{invoice.fields.currency}: Xero applies a payment in its invoice's currency",
                FailureCategory.FOLLOWS_INVOICE,
                "correct the payment's (or the invoice's) currency in OpenSolar",
            )
        if invoice.cancellation is not None:
            return Refused(
                f"invoice {invoice.number} was cancelled in OpenSolar and cancelled in Xero "
                f"({invoice.cancellation.replace('_', ' ')}) before this payment could be "
                "applied; Xero takes no payment on it",
                FailureCategory.BLOCKED,
                "refund the customer, or record the payment against another invoice in OpenSolar",
            )
        return invoice

    def create(self, items: Sequence[Item]) -> dict[int, Outcome]:
        """Apply (or adopt) the payments of a batch; one outcome per message id."""
        ctx = self.ctx
        results: dict[int, Outcome] = {}
        ready: list[tuple[Item, Payment, Invoice, PaymentFields, dict[str, Any]]] = []
        for item in items:
            payment = item.document
            if not isinstance(payment, Payment):
                results[item.message.id] = Refused("not a payment", FailureCategory.INTERNAL)
                continue
            fields = payment.fields
            if payment.in_xero:
                results[item.message.id] = Skipped("already in Xero")
                continue
            if fields is None or not payment.is_paid or payment.paid_at is None:
                results[item.message.id] = self._withdrawn(item, payment)
                continue
            found = self._blocked(payment, fields)
            if not isinstance(found, Invoice):
                results[item.message.id] = found
                continue
            try:
                body = payment_payload(
                    fields,
                    payment.opensolar_id,
                    ctx.org,
                    str(found.xero_invoice_id),
                    payment.paid_at.date(),
                )
            except MappingError as exc:
                results[item.message.id] = Refused(
                    str(exc),
                    FailureCategory.CONFIGURATION,
                    f"run `syncledger config payment-account {payment.org_id} CODE`, then "
                    f"`syncledger retry {payment.reference}`",
                )
                continue
            ready.append((item, payment, found, fields, body))
        uncertain = [r for r in ready if r[0].message.uncertain]
        if uncertain:
            existing = ctx.client.find_payments_by_references(
                [r[4]["Reference"] for r in uncertain], [[r[0].doc] for r in uncertain]
            )
            for item, payment, invoice, fields, body in uncertain:
                adopted = self._adopt(existing, payment, invoice, fields, body)
                if adopted is not None:
                    results[item.message.id] = adopted
            ready = [r for r in ready if r[0].message.id not in results]
        for batch in chunks(ready, lambda r: r[4]):
            elements = ctx.client.create_payments(
                [r[4] for r in batch],
                ctx.batch_key(Operation.PAYMENT, [r[0] for r in batch], [r[4] for r in batch]),
                [[r[0].doc] for r in batch],
            )
            for (item, payment, invoice, fields, body), element in zip(
                batch, elements, strict=True
            ):
                if element.ok:
                    results[item.message.id] = Succeeded(
                        str(element.data["PaymentID"]),
                        fields,
                        f"payment of {body['Amount']:.2f} applied to "
                        f"{invoice.xero_number or invoice.number}",
                        _facts(payment, invoice, element.data.get("Amount", body["Amount"])),
                    )
                else:
                    results[item.message.id] = rejected(element.messages, payment.reference)
        return results

    def _adopt(
        self,
        existing: Sequence[Mapping[str, Any]],
        payment: Payment,
        invoice: Invoice,
        fields: PaymentFields,
        body: Mapping[str, Any],
    ) -> Outcome | None:
        """A payment an uncertain attempt made, found by its Reference: adopted as what Xero
        holds (if it is not what OpenSolar says now, the ledger then deletes and reapplies it)."""
        for found in existing:
            if found.get("Reference") != body["Reference"]:
                continue
            amount = amount_of(found.get("Amount"))
            on_invoice = (found.get("Invoice") or {}).get("InvoiceID") == invoice.xero_invoice_id
            held = dataclasses.replace(
                fields,
                amount=amount if amount is not None else fields.amount,
                invoice_id=fields.invoice_id if on_invoice else "(another invoice in Xero)",
            )
            return Succeeded(
                str(found["PaymentID"]),
                held,
                f"payment of {held.amount:.2f} found in Xero after an uncertain earlier attempt; "
                "adopted it",
                _facts(payment, invoice, held.amount),
            )
        return None

    def _withdrawn(self, item: Item, payment: Payment) -> Outcome:
        """A payment withdrawn before its delivery was known to have reached Xero: if it may have
        arrived anyway, look, and adopt what Xero holds (the ledger then deletes it there)."""
        fields = payment.fields
        if not item.message.uncertain or fields is None:
            return Skipped(WITHDRAWN_UNSENT)
        reference = payment_reference(fields, payment.opensolar_id)
        for found in self.ctx.client.find_payments_by_references([reference], [[item.doc]]):
            if payment_tag(payment.opensolar_id) in str(found.get("Reference")):
                return Succeeded(
                    str(found["PaymentID"]),
                    fields,
                    f"payment of {found.get('Amount')} found in Xero after an uncertain attempt "
                    "although withdrawn since; adopted it so it is deleted there",
                    {"amount": amount_of(found.get("Amount"))},
                )
        return Skipped("withdrawn in OpenSolar before it was sent (not in Xero)")

    def delete(self, item: Item) -> Outcome:
        """Delete the payment Xero holds, because OpenSolar changed or withdrew it."""
        ctx = self.ctx
        payment = item.document
        if not isinstance(payment, Payment) or payment.xero_payment_id is None:
            return Skipped("not in Xero: nothing to delete")
        if payment.in_other_tenant(ctx.policy):
            return other_tenant(payment, ctx.policy.tenant_id)
        if not payment.differs_from_xero():
            return Skipped("back to what Xero holds; nothing to send")
        xero_id = payment.xero_payment_id
        held = payment.sent_fields
        applied_to = (
            ctx.invoice(document_id(payment.org_id, DocumentKind.INVOICE, held.invoice_id))
            if held
            else None
        )
        if applied_to is not None and applied_to.cancellation is not None:
            return Refused(
                f"{payment.reference} changed in OpenSolar, but it is applied in Xero to invoice "
                f"{applied_to.xero_number or applied_to.number}, which was cancelled there "
                "since: deleting it would leave money due on a cancelled invoice",
                FailureCategory.BLOCKED,
                "adjust the payment and the credit note in Xero by hand (refund the customer "
                "what they overpaid)",
            )
        body = {"Status": "DELETED"}
        try:
            ctx.client.delete_payment(
                xero_id, ctx.key(item.message, "delete_payment", body), [item.doc]
            )
        except XeroNotFoundError:
            return Succeeded(xero_id, None, f"payment {xero_id} was already gone from Xero", {})
        except XeroRejectedError as exc:
            if self._already_deleted(xero_id, item):
                return Succeeded(
                    xero_id, None, f"payment {xero_id} was already deleted in Xero", {}
                )
            return Refused(
                f"Xero refused to delete payment {xero_id}: " + "; ".join(exc.messages),
                FailureCategory.REJECTED,
                "delete (or unreconcile, then delete) the payment in Xero by hand, then run "
                f"`syncledger retry {payment.reference}`",
            )
        why = "withdrawn in OpenSolar" if not payment.is_paid else "changed in OpenSolar"
        return Succeeded(
            xero_id,
            None,
            f"payment {xero_id} deleted in Xero ({why})",
            {"deleted": xero_id},
        )

    def _already_deleted(self, xero_id: str, item: Item) -> bool:
        """True if Xero shows the payment deleted (an earlier, uncertain attempt did it)."""
        data = self.ctx.client.get("get_payment", f"/Payments/{xero_id}", owners=[item.doc])
        found = data.get("Payments") if isinstance(data, Mapping) else None
        if not isinstance(found, list) or not found or not isinstance(found[0], Mapping):
            return False
        return str(found[0].get("Status")) == "DELETED"
