"""Invoices into Xero: created in batches, found again and adopted only when provably this
document's, and updated when OpenSolar changes them after they were sent.

Before any call each invoice is checked: its mappings, its currency against the Xero
organisation's, its number against the documents that used it before (``choose_number``), and
its total against OpenSolar's stated one (a rounding line closes a rounding gap). Created
invoices carry a link naming their ledger document (``Url``).

An invoice Xero already holds by number ("Invoice # must be unique.", or a look-up after an
uncertain attempt) is adopted only when it is this document's: its link names this document, or,
made by hand, no other document owns it and its contact, currency and amounts match and it is not
VOIDED or DELETED. Otherwise the document fails naming the Xero invoice, what differs and what to
do. Nothing is ever adopted twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from domain.customer import customer_key
from domain.differences import listed
from domain.documents import BLOCKED, CANCELLED_UNSENT, Invoice
from domain.errors import MappingError
from domain.mapping import (
    MissingMappings,
    document_url,
    invoice_payload,
    invoice_update_payload,
    marked_document,
    priced_lines,
)
from domain.money import MoneyError, Rounding, amount_of, cents, rounding
from domain.numbers import choose_number, suffixed
from domain.opensolar import InvoiceFields
from outbox.delivery.context import Context
from outbox.delivery.outcomes import Item, Outcome, Refused, Skipped, Succeeded, other_tenant
from outbox.xero import XeroError, XeroRejectedError, dumps

MAX_BATCH = 50
MAX_BATCH_BYTES = 3_000_000
GONE = ("VOIDED", "DELETED")
EDIT_BLOCKED = "cannot be edited"


@dataclass(frozen=True)
class _Ready:
    """An invoice whose payload is built and that will be sent (or adopted)."""

    item: Item
    invoice: Invoice
    fields: InvoiceFields
    number: str
    body: dict[str, Any]
    contact_id: str
    contact: dict[str, str]
    candidates: tuple[str, ...]
    """Every number an earlier attempt of this invoice may have used."""


def chunks(entries: Sequence[Any], body_of: Any) -> list[list[Any]]:
    """Batches of at most 50 elements and about 3 MB (Xero's 3.5 MB limit, with room)."""
    batches: list[list[Any]] = []
    current: list[Any] = []
    size = 0
    for entry in entries:
        body_size = len(dumps(body_of(entry)))
        if current and (len(current) >= MAX_BATCH or size + body_size > MAX_BATCH_BYTES):
            batches.append(current)
            current, size = [], 0
        current.append(entry)
        size += body_size
    if current:
        batches.append(current)
    return batches


def by_number(invoices: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Xero's invoices by (case-folded) number."""
    found: dict[str, list[dict[str, Any]]] = {}
    for invoice in invoices:
        found.setdefault(str(invoice.get("InvoiceNumber", "")).casefold(), []).append(invoice)
    return found


def rejected(messages: Sequence[str], reference: str) -> Refused:
    """Xero refused an element: its own words, and what to do."""
    return Refused(
        "; ".join(messages),
        "rejected",
        f"correct what Xero's message names (in OpenSolar, or in Xero's settings), then run "
        f"`syncledger retry {reference}`",
    )


def xero_facts(element: Mapping[str, Any], ready: _Ready) -> dict[str, Any]:
    """What Xero holds of a created or adopted invoice, to record with the success."""
    return {
        "number": str(element.get("InvoiceNumber") or ready.number),
        "status": str(element.get("Status") or ready.body.get("Status")),
        "total": amount_of(element.get("Total")),
        "amount_due": amount_of(element.get("AmountDue")),
        "currency": str(element.get("CurrencyCode") or ready.fields.currency),
        "contact_id": ready.contact_id,
        **{f"contact_{k}": v for k, v in ready.contact.items()},
    }


class Invoices:
    """Creates (or adopts) and updates the invoices of one organisation."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    # checks before any call -------------------------------------------------------------------

    def _rounding(
        self, invoice: Invoice, fields: InvoiceFields, owners: list[str]
    ) -> Rounding | None:
        ctx = self.ctx
        if fields.stated_total is None:
            return None
        taxes = (
            None
            if fields.amounts_include_tax
            else ctx.facts.taxes(ctx.tenant_id, ctx.client, owners)
        )
        return rounding(fields, priced_lines(fields, ctx.org), taxes, ctx.org.rounding_account)

    def _earlier(self, invoice: Invoice, number: str) -> list[str]:
        """The invoices issued with ``number`` before this one."""
        users = self.ctx.number_users(number)
        mine = str(invoice.id)
        return users[: users.index(mine)] if mine in users else users

    def _number(self, invoice: Invoice, fields: InvoiceFields) -> tuple[str | None, Refused | None]:
        earlier_ids = self._earlier(invoice, fields.invoice_number)
        if not earlier_ids:
            return fields.invoice_number, None
        earlier = [e for e in (self.ctx.invoice(d) for d in earlier_ids) if e is not None]
        choice = choose_number(
            fields.invoice_number,
            list(earlier),
            len(earlier_ids) + 1,
            suffix=self.ctx.org.number_suffix,
            org_id=invoice.org_id,
            reference=invoice.reference,
        )
        if choice.number is None:
            return None, Refused(choice.error, BLOCKED, choice.action)
        return choice.number, None

    def _check(
        self, item: Item, invoice: Invoice, fields: InvoiceFields
    ) -> Outcome | tuple[str, Rounding | None]:
        ctx = self.ctx
        try:
            priced_lines(fields, ctx.org)
        except MappingError as exc:
            missing = MissingMappings(exc.categories, exc.tax_rates)
            return Refused(
                str(exc), "configuration", missing.action(invoice.org_id, invoice.number)
            )
        code = fields.currency
        currencies = ctx.facts.currencies(ctx.tenant_id, ctx.client, [item.doc], code)
        if not currencies.allows(code):
            currencies = ctx.facts.currencies(
                ctx.tenant_id, ctx.client, [item.doc], code, fresh=True
            )
        if not currencies.allows(fields.currency):
            return Refused(
                f"invoice in {fields.currency}, but the Xero organisation has "
                f"{currencies.describe()}",
                "configuration",
                f"enable {fields.currency} in Xero (Settings → Currencies) and run `syncledger "
                f"retry {invoice.number}`, or correct the invoice's currency in OpenSolar",
            )
        number, refusal = self._number(invoice, fields)
        if refusal is not None or number is None:
            return refusal or Refused("no number", "internal")
        try:
            extra = self._rounding(invoice, fields, [item.doc])
        except MoneyError as exc:
            return Refused(
                str(exc),
                "rejected",
                f"correct the invoice's lines or total in OpenSolar (it is sent again "
                f"automatically), or run `syncledger retry {invoice.number}` once corrected",
            )
        return number, extra

    # creating ---------------------------------------------------------------------------------

    def create(self, items: Sequence[Item]) -> dict[int, Outcome]:
        """Create (or adopt) the invoices of a batch; one outcome per message id."""
        ctx = self.ctx
        results: dict[int, Outcome] = {}
        checked: list[tuple[Item, Invoice, InvoiceFields, str, Rounding | None]] = []
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
                results[item.message.id] = Refused("not an invoice", "internal")
            elif invoice.in_xero:
                results[item.message.id] = Skipped("already in Xero")
            elif invoice.is_cancelled:
                results[item.message.id] = self._cancelled_push(item, invoice)
            elif invoice.fields is None or not invoice.is_issued:
                results[item.message.id] = Skipped("not issued in OpenSolar")
            else:
                checks = self._check(item, invoice, invoice.fields)
                if isinstance(checks, tuple):
                    checked.append((item, invoice, invoice.fields, *checks))
                else:
                    results[item.message.id] = checks
        if not checked:
            return results
        attempts = max(item.message.attempts for item, *_ in checked)
        contacts = ctx.contacts.resolve(
            [(fields.customer, item.doc) for item, _, fields, _, _ in checked], attempts
        )
        ready: list[_Ready] = []
        for item, invoice, fields, number, extra in checked:
            contact = contacts[customer_key(fields.customer)]
            if contact.contact_id is None:
                results[item.message.id] = Refused(
                    contact.error or "no contact",
                    "rejected",
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
            candidates = {number, fields.invoice_number}
            earlier = self._earlier(invoice, fields.invoice_number)
            if earlier:
                candidates.add(suffixed(fields.invoice_number, len(earlier) + 1))
            ready.append(
                _Ready(
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
        uncertain = [r for r in ready if r.item.message.uncertain]
        if uncertain:
            results.update(self._look_first(uncertain))
            ready = [r for r in ready if r.item.message.id not in results]
        duplicates: list[_Ready] = []
        for batch in chunks(ready, lambda r: r.body):
            elements = ctx.client.create_invoices(
                [r.body for r in batch],
                ctx.batch_key("invoice", [r.item for r in batch], [r.body for r in batch]),
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
            found = by_number(
                ctx.client.find_invoices(
                    [d.number for d in duplicates], [[d.item.doc] for d in duplicates]
                )
            )
            for entry in duplicates:
                existing = found.get(entry.number.casefold(), [])
                results[entry.item.message.id] = (
                    self._adopt(existing, entry, "Xero already had this invoice number")
                    if existing
                    else rejected(["Invoice # must be unique."], entry.invoice.number)
                )
        return results

    def _look_first(self, uncertain: Sequence[_Ready]) -> dict[int, Outcome]:
        """After an attempt whose outcome is unknown: adopt what Xero holds of it, if anything
        (under every number that attempt may have used)."""
        numbers = sorted({n for r in uncertain for n in r.candidates})
        owners = [[r.item.doc for r in uncertain if n in r.candidates] for n in numbers]
        found = by_number(self.ctx.client.find_invoices(numbers, owners))
        results: dict[int, Outcome] = {}
        for entry in uncertain:
            held = [i for n in entry.candidates for i in found.get(n.casefold(), [])]
            mine = [i for i in held if marked_document(i.get("Url")) == entry.item.doc]
            if mine:
                results[entry.item.message.id] = self._adopt(
                    mine, entry, "found in Xero after an uncertain earlier attempt"
                )
            elif [i for i in found.get(entry.number.casefold(), []) if i.get("Status") not in GONE]:
                results[entry.item.message.id] = self._adopt(
                    found[entry.number.casefold()],
                    entry,
                    "found in Xero after an uncertain earlier attempt",
                )
        return results

    def _cancelled_push(self, item: Item, invoice: Invoice) -> Outcome:
        """An invoice cancelled before its push was known to have reached Xero: if the push may
        have arrived anyway, look; what Xero holds of it is adopted so that it gets cancelled."""
        fields = invoice.fields
        if not item.message.uncertain or fields is None:
            return Skipped(CANCELLED_UNSENT)
        earlier = self._earlier(invoice, fields.invoice_number)
        numbers = sorted(
            {fields.invoice_number}
            | ({suffixed(fields.invoice_number, len(earlier) + 1)} if earlier else set())
        )
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
            {
                "number": str(held.get("InvoiceNumber")),
                "status": str(held.get("Status")),
                "total": amount_of(held.get("Total")),
                "amount_due": amount_of(held.get("AmountDue")),
                "currency": str(held.get("CurrencyCode") or fields.currency),
                "contact_id": str((held.get("Contact") or {}).get("ContactID") or ""),
            },
        )

    def _owner(self, existing: Mapping[str, Any], entry: _Ready) -> str | None:
        """The other ledger document a Xero invoice belongs to, if any."""
        marked = marked_document(existing.get("Url"))
        if marked is not None and marked != entry.item.doc:
            other = self.ctx.document(marked)
            return other.reference if other is not None else f"another document ({marked})"
        xero_id = str(existing.get("InvoiceID"))
        users = self.ctx.number_users(str(existing.get("InvoiceNumber") or entry.number))
        for doc_id in users:
            if doc_id == entry.item.doc:
                continue
            other_invoice = self.ctx.invoice(doc_id)
            if other_invoice is not None and other_invoice.xero_invoice_id == xero_id:
                return other_invoice.reference
        return None

    def _adopt(self, existing: Sequence[dict[str, Any]], entry: _Ready, how: str) -> Outcome:
        """Adopt the Xero invoice holding this number, if it is provably this document's."""
        live = [i for i in existing if i.get("Status") not in GONE]
        held = (live or list(existing))[0]
        label = f"Xero invoice {held.get('InvoiceNumber')} ({held.get('InvoiceID')})"
        reference = entry.invoice.number
        owner = self._owner(held, entry)
        if owner is not None:
            return Refused(
                f"Invoice # must be unique.; {label} belongs to {owner}, so syncledger neither "
                "created a second one nor reused it",
                BLOCKED,
                f"give {reference} a new number in OpenSolar (it is sent again automatically), "
                f"or run `syncledger config number-suffix {entry.invoice.org_id} on` and "
                f"`syncledger retry {reference}` if it reissues {owner}",
            )
        status = str(held.get("Status"))
        if status in GONE:
            return Refused(
                f"Invoice # must be unique.; {label} is {status} in Xero; syncledger does not "
                "reuse a voided or deleted invoice",
                BLOCKED,
                f"give {reference} a new number in OpenSolar (it is sent again automatically)",
            )
        differs = self._differences(held, entry)
        if differs:
            return Refused(
                f"Invoice # must be unique.; {label} is not this invoice: "
                + "; ".join(differs)
                + "; syncledger did not create a second one",
                BLOCKED,
                f"renumber {reference} in OpenSolar (it is sent again automatically), or void "
                f"the other invoice in Xero by hand and run `syncledger retry {reference}`",
            )
        facts = xero_facts(held, entry)
        return Succeeded(
            str(held["InvoiceID"]),
            entry.fields,
            f"invoice {held.get('InvoiceNumber')} {how}; adopted it (contact, currency and "
            "amounts match)",
            facts,
        )

    @staticmethod
    def _differences(held: Mapping[str, Any], entry: _Ready) -> list[str]:
        found: list[str] = []
        contact = str((held.get("Contact") or {}).get("ContactID") or "")
        if contact != entry.contact_id:
            name = (held.get("Contact") or {}).get("Name") or contact or "no contact"
            found.append(f"its contact is {name}, not {entry.contact['name'] or entry.contact_id}")
        currency = str(held.get("CurrencyCode") or "")
        if currency and currency != entry.fields.currency:
            found.append(f"its currency is {currency}, not {entry.fields.currency}")
        ours = sum(
            (
                cents(Decimal(str(line["Quantity"])) * Decimal(str(line["UnitAmount"])))
                for line in entry.body["LineItems"]
            ),
            Decimal("0.00"),
        )
        inclusive = entry.body["LineAmountTypes"] == "Inclusive"
        theirs = amount_of(held.get("Total" if inclusive else "SubTotal"))
        if held.get("LineAmountTypes") not in (None, entry.body["LineAmountTypes"]):
            found.append(
                f"its amounts are {held.get('LineAmountTypes')}, not "
                f"{entry.body['LineAmountTypes']}"
            )
        elif theirs is not None and theirs != ours:
            what = "total" if inclusive else "total before tax"
            found.append(f"its {what} is {theirs:,.2f}, not {ours:,.2f}")
        return found

    # updating ---------------------------------------------------------------------------------

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
            return Refused(
                f"{what} changed in OpenSolar after the invoice was sent to Xero, but Xero does "
                f"not let an invoice with a payment applied be edited ({', '.join(paid)})",
                "amendment",
                f"change it back in OpenSolar, or cancel {invoice.number} in OpenSolar and issue "
                "a new invoice",
            )
        try:
            priced_lines(fields, ctx.org)
            extra = self._rounding(invoice, fields, [item.doc])
        except MappingError as exc:
            return Refused(
                str(exc),
                "configuration",
                f"fix the mapping, then run `syncledger retry {invoice.number}`",
            )
        except MoneyError as exc:
            return Refused(
                str(exc), "rejected", "correct the invoice's lines or total in OpenSolar"
            )
        body = invoice_update_payload(
            invoice.xero_invoice_id, fields, ctx.org, invoice.issued_on, "", rounding=extra
        )
        body.pop("Status")
        try:
            answer = ctx.client.update_invoice(
                invoice.xero_invoice_id,
                body,
                ctx.key(item.message, "invoice_update", body),
                [item.doc],
            )
        except XeroRejectedError as exc:
            return Refused(
                f"{what} changed in OpenSolar after the invoice was sent to Xero; Xero refused "
                "the update: " + "; ".join(exc.messages),
                "amendment",
                f"change it back in OpenSolar, or cancel {invoice.number} in OpenSolar and issue "
                "a new invoice",
            )
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


__all__ = ["Invoices", "XeroError", "chunks", "rejected"]
