"""Invoices into Xero: created in batches, found again and adopted only when provably this
document's (``adoption``), and updated when OpenSolar changes them after they were sent
(``updates``).

Before any call each invoice passes its ``checks``. Created invoices carry a link naming their
ledger document (``Url``). An invoice cancelled before its push was known to have reached Xero is
looked for, and adopted so that it gets cancelled there.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.customer import customer_key
from domain.documents import CANCELLED_UNSENT, Invoice
from domain.mapping import document_url, invoice_payload, marked_document
from domain.money import Rounding
from domain.opensolar import InvoiceFields
from domain.vocabulary import FailureCategory, Operation
from outbox.delivery.adoption import Adoption, Ready, held_facts, xero_facts
from outbox.delivery.batches import chunks
from outbox.delivery.checks import InvoiceChecks
from outbox.delivery.context import Context
from outbox.delivery.outcomes import Item, Outcome, Refused, Skipped, Succeeded, rejected
from outbox.delivery.updates import InvoiceUpdates
from outbox.xero import XeroError
from outbox.xero.answers import GONE

Checked = tuple[Item, Invoice, InvoiceFields, str, Rounding | None]
"""An invoice that passed its checks: with the number to send it under and its rounding line."""


class Invoices:
    """Creates (or adopts) and updates the invoices of one organisation."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.checks = InvoiceChecks(ctx)
        self.adoption = Adoption(ctx)

    def update(self, item: Item) -> Outcome:
        """Bring a Xero invoice in line with what OpenSolar changed after it was sent."""
        return InvoiceUpdates(self.ctx).update(item)

    def create(self, items: Sequence[Item]) -> dict[int, Outcome]:
        """Create (or adopt) the invoices of a batch; one outcome per message id."""
        ctx = self.ctx
        results: dict[int, Outcome] = {}
        checked: list[Checked] = []
        ctx.know_numbers(
            [
                i.document.fields.invoice_number
                for i in items
                if isinstance(i.document, Invoice) and i.document.fields is not None
            ]
        )
        for item in items:
            invoice = item.document
            if not isinstance(invoice, Invoice):
                results[item.message.id] = Refused("not an invoice", FailureCategory.INTERNAL)
            elif invoice.in_xero:
                results[item.message.id] = Skipped("already in Xero")
            elif invoice.is_cancelled:
                results[item.message.id] = self._cancelled_push(item, invoice)
            elif invoice.fields is None or not invoice.is_issued:
                results[item.message.id] = Skipped("not issued in OpenSolar")
            else:
                checks = self.checks.check(item, invoice, invoice.fields)
                if isinstance(checks, tuple):
                    checked.append((item, invoice, invoice.fields, *checks))
                else:
                    results[item.message.id] = checks
        if not checked:
            return results
        ready = self._ready(checked, results)
        uncertain = [r for r in ready if r.item.message.uncertain]
        if uncertain:
            results.update(self.adoption.after_uncertain(uncertain))
            ready = [r for r in ready if r.item.message.id not in results]
        duplicates: list[Ready] = []
        for batch in chunks(ready, lambda r: r.body):
            elements = ctx.client.create_invoices(
                [r.body for r in batch],
                ctx.batch_key(Operation.INVOICE, [r.item for r in batch], [r.body for r in batch]),
                [[r.item.doc] for r in batch],
            )
            for entry, element in zip(batch, elements, strict=True):
                if element.ok:
                    facts = xero_facts(element.data, entry)
                    results[entry.item.message.id] = Succeeded(
                        str(element.data["InvoiceID"]),
                        entry.fields,
                        f"invoice {entry.number} created in Xero ({facts['status']}, total "
                        f"{facts['total']}) for contact "
                        f"{entry.contact['name'] or entry.contact_id}",
                        facts,
                    )
                elif element.duplicate_number:
                    duplicates.append(entry)
                else:
                    results[entry.item.message.id] = rejected(
                        element.messages, entry.invoice.number
                    )
        if duplicates:
            results.update(self.adoption.numbers_taken(duplicates))
        return results

    def _ready(self, checked: Sequence[Checked], results: dict[int, Outcome]) -> list[Ready]:
        """The payloads of the checked invoices, each for its customer's contact (an invoice
        whose contact could not be had fails into ``results``)."""
        ctx = self.ctx
        attempts = max(item.message.attempts for item, *_ in checked)
        contacts = ctx.contacts.resolve(
            [(fields.customer, item.doc) for item, _, fields, _, _ in checked], attempts
        )
        ready: list[Ready] = []
        for item, invoice, fields, number, extra in checked:
            contact = contacts[customer_key(fields.customer)]
            if contact.contact_id is None:
                results[item.message.id] = Refused(
                    contact.error or "no contact",
                    FailureCategory.REJECTED,
                    "correct the customer's name or email in OpenSolar (it is sent again "
                    f"automatically), or fix it in Xero and run `syncledger retry "
                    f"{invoice.number}`",
                )
                continue
            body = invoice_payload(
                fields,
                ctx.org,
                contact.contact_id,
                invoice.issued_on,
                number=number,
                url=document_url(item.doc, invoice.opensolar_id, ctx.url_base),
                rounding=extra,
            )
            candidates = {number} | self.checks.numbers_used(invoice, fields)
            ready.append(
                Ready(
                    item,
                    invoice,
                    fields,
                    number,
                    body,
                    contact.contact_id,
                    {"name": contact.name, "how": contact.how},
                    tuple(sorted(candidates)),
                )
            )
        return ready

    def _cancelled_push(self, item: Item, invoice: Invoice) -> Outcome:
        """An invoice cancelled before its push was known to have reached Xero: if the push may
        have arrived anyway, look; what Xero holds of it is adopted so that it gets cancelled."""
        fields = invoice.fields
        if not item.message.uncertain or fields is None:
            return Skipped(CANCELLED_UNSENT)
        numbers = sorted(self.checks.numbers_used(invoice, fields))
        found = self.ctx.client.find_invoices(numbers, [[item.doc]] * len(numbers))
        mine = [
            i
            for i in found
            if marked_document(i.get("Url")) == item.doc and i.get("Status") not in GONE
        ]
        if not mine:
            return Skipped("cancelled in OpenSolar before it was sent (not in Xero)")
        held = mine[0]
        return Succeeded(
            str(held["InvoiceID"]),
            fields,
            f"invoice {held.get('InvoiceNumber')} found in Xero after an uncertain attempt "
            "although cancelled since; adopted it so it can be cancelled in Xero",
            held_facts(
                held,
                number=held.get("InvoiceNumber"),
                status=held.get("Status"),
                currency=fields.currency,
                contact_id=str((held.get("Contact") or {}).get("ContactID") or ""),
            ),
        )


__all__ = ["Invoices", "XeroError", "chunks", "rejected"]
