"""Adopting an invoice Xero already holds under this invoice's number ("Invoice # must be
unique.", or a look-up after an uncertain attempt) instead of creating a second one.

It is adopted only when it is this document's: its link names this document, or, made by hand,
no other document owns it and its contact, currency and amounts match and it is not VOIDED or
DELETED. Otherwise the document fails naming the Xero invoice, what differs and what to do.
Nothing is ever adopted twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from domain.documents import Invoice
from domain.mapping import marked_document
from domain.money import amount_of, cents
from domain.opensolar import InvoiceFields
from domain.vocabulary import FailureCategory
from outbox.delivery.context import Context
from outbox.delivery.outcomes import Item, Outcome, Refused, Succeeded, rejected
from outbox.xero.answers import GONE

UNCERTAIN_FOUND = "found in Xero after an uncertain earlier attempt"


@dataclass(frozen=True)
class Ready:
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


def by_number(invoices: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Xero's invoices by (case-folded) number."""
    found: dict[str, list[dict[str, Any]]] = {}
    for invoice in invoices:
        found.setdefault(str(invoice.get("InvoiceNumber", "")).casefold(), []).append(invoice)
    return found


def held_facts(
    held: Mapping[str, Any], *, number: Any, status: Any, currency: str, contact_id: str
) -> dict[str, Any]:
    """What Xero holds of an invoice, to record with the success (``number``, ``status`` and
    ``currency`` stand in for what Xero's answer leaves out)."""
    return {
        "number": str(held.get("InvoiceNumber") or number),
        "status": str(held.get("Status") or status),
        "total": amount_of(held.get("Total")),
        "amount_due": amount_of(held.get("AmountDue")),
        "currency": str(held.get("CurrencyCode") or currency),
        "contact_id": contact_id,
    }


def xero_facts(element: Mapping[str, Any], ready: Ready) -> dict[str, Any]:
    """What Xero holds of a created or adopted invoice, to record with the success."""
    return {
        **held_facts(
            element,
            number=ready.number,
            status=ready.body.get("Status"),
            currency=ready.fields.currency,
            contact_id=ready.contact_id,
        ),
        **{f"contact_{k}": v for k, v in ready.contact.items()},
    }


def _taken(label: str, what: str, action: str) -> Refused:
    return Refused(f"Invoice # must be unique.; {label} {what}", FailureCategory.BLOCKED, action)


class Adoption:
    """Adopts the invoices Xero already holds for one organisation's documents."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def after_uncertain(self, uncertain: Sequence[Ready]) -> dict[int, Outcome]:
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
                results[entry.item.message.id] = self.adopt(mine, entry, UNCERTAIN_FOUND)
            elif [i for i in found.get(entry.number.casefold(), []) if i.get("Status") not in GONE]:
                results[entry.item.message.id] = self.adopt(
                    found[entry.number.casefold()], entry, UNCERTAIN_FOUND
                )
        return results

    def numbers_taken(self, duplicates: Sequence[Ready]) -> dict[int, Outcome]:
        """Invoices Xero refused because their number is used: adopt what holds it, if ours."""
        found = by_number(
            self.ctx.client.find_invoices(
                [d.number for d in duplicates], [[d.item.doc] for d in duplicates]
            )
        )
        results: dict[int, Outcome] = {}
        for entry in duplicates:
            existing = found.get(entry.number.casefold(), [])
            results[entry.item.message.id] = (
                self.adopt(existing, entry, "Xero already had this invoice number")
                if existing
                else rejected(["Invoice # must be unique."], entry.invoice.number)
            )
        return results

    def _owner(self, existing: Mapping[str, Any], entry: Ready) -> str | None:
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

    def adopt(self, existing: Sequence[dict[str, Any]], entry: Ready, how: str) -> Outcome:
        """Adopt the Xero invoice holding this number, if it is provably this document's."""
        live = [i for i in existing if i.get("Status") not in GONE]
        held = (live or list(existing))[0]
        label = f"Xero invoice {held.get('InvoiceNumber')} ({held.get('InvoiceID')})"
        reference = entry.invoice.number
        owner = self._owner(held, entry)
        if owner is not None:
            return _taken(
                label,
                f"belongs to {owner}, so syncledger neither created a second one nor reused it",
                f"give {reference} a new number in OpenSolar (it is sent again automatically), "
                f"or run `syncledger config number-suffix {entry.invoice.org_id} on` and "
                f"`syncledger retry {reference}` if it reissues {owner}",
            )
        status = str(held.get("Status"))
        if status in GONE:
            return _taken(
                label,
                f"is {status} in Xero; syncledger does not reuse a voided or deleted invoice",
                f"give {reference} a new number in OpenSolar (it is sent again automatically)",
            )
        differs = _differences(held, entry)
        if differs:
            return _taken(
                label,
                "is not this invoice: " + "; ".join(differs) + "; syncledger did not create a "
                "second one",
                f"renumber {reference} in OpenSolar (it is sent again automatically), or void "
                f"the other invoice in Xero by hand and run `syncledger retry {reference}`",
            )
        return Succeeded(
            str(held["InvoiceID"]),
            entry.fields,
            f"invoice {held.get('InvoiceNumber')} {how}; adopted it (contact, currency and "
            "amounts match)",
            xero_facts(held, entry),
        )


def _differences(held: Mapping[str, Any], entry: Ready) -> list[str]:
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
            f"its amounts are {held.get('LineAmountTypes')}, not {entry.body['LineAmountTypes']}"
        )
    elif theirs is not None and theirs != ours:
        what = "total" if inclusive else "total before tax"
        found.append(f"its {what} is {theirs:,.2f}, not {ours:,.2f}")
    return found
