"""Bringing an invoice Xero holds in line with what OpenSolar changed after it was sent: the
lines, dates and reference are edited in Xero, unless a payment is applied to it there (Xero
then refuses any edit) or Xero refuses the edit; both are amendments a person decides on."""

from __future__ import annotations

from domain.differences import listed
from domain.documents import Invoice
from domain.errors import MappingError
from domain.mapping import invoice_update_payload, priced_lines
from domain.money import MoneyError, amount_of
from domain.vocabulary import FailureCategory, Operation
from outbox.delivery.checks import InvoiceChecks
from outbox.delivery.context import Context
from outbox.delivery.outcomes import Item, Outcome, Refused, Skipped, Succeeded, other_tenant
from outbox.xero import XeroRejectedError


def _amendment(what: str, why: str, invoice: Invoice) -> Refused:
    return Refused(
        f"{what} changed in OpenSolar after the invoice was sent to Xero{why}",
        FailureCategory.AMENDMENT,
        f"change it back in OpenSolar, or cancel {invoice.number} in OpenSolar and issue "
        "a new invoice",
    )


class InvoiceUpdates:
    """Updates in Xero the invoices of one organisation that OpenSolar changed since."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.checks = InvoiceChecks(ctx)

    def update(self, item: Item) -> Outcome:
        """Bring a Xero invoice in line with what OpenSolar changed after it was sent."""
        ctx = self.ctx
        invoice = item.document
        if not isinstance(invoice, Invoice) or invoice.xero_invoice_id is None:
            return Skipped("not in Xero: nothing to update")
        if invoice.is_cancelled:
            return Skipped("cancelled in OpenSolar: the update is no longer needed")
        fields = invoice.fields
        found = invoice.differences()
        if fields is None or not found:
            return Skipped("back to what Xero holds; nothing to send")
        what = listed(found.names)
        if invoice.in_other_tenant(ctx.policy):
            return other_tenant(invoice, ctx.policy.tenant_id)
        paid = [
            p.reference
            for p in (ctx.payment(d) for d in invoice.payments)
            if p is not None and p.in_xero
        ]
        if paid:
            return _amendment(
                what,
                ", but Xero does not let an invoice with a payment applied be edited "
                f"({', '.join(paid)})",
                invoice,
            )
        try:
            priced_lines(fields, ctx.org)
            extra = self.checks.rounding(invoice, fields, [item.doc])
        except MappingError as exc:
            return Refused(
                str(exc),
                FailureCategory.CONFIGURATION,
                f"fix the mapping, then run `syncledger retry {invoice.number}`",
            )
        except MoneyError as exc:
            return Refused(
                str(exc),
                FailureCategory.REJECTED,
                "correct the invoice's lines or total in OpenSolar",
            )
        body = invoice_update_payload(
            invoice.xero_invoice_id, fields, ctx.org, invoice.issued_on, "", rounding=extra
        )
        body.pop("Status")
        try:
            answer = ctx.client.update_invoice(
                invoice.xero_invoice_id,
                body,
                ctx.key(item.message, Operation.INVOICE_UPDATE, body),
                [item.doc],
            )
        except XeroRejectedError as exc:
            why = "; Xero refused the update: " + "; ".join(exc.messages)
            return _amendment(what, why, invoice)
        return Succeeded(
            invoice.xero_invoice_id,
            fields,
            f"invoice {invoice.xero_number or invoice.number} updated in Xero ({what}; total "
            f"{answer.get('Total')})",
            {
                "total": amount_of(answer.get("Total")),
                "amount_due": amount_of(answer.get("AmountDue")),
            },
        )
