"""The Xero records no ledger document claimed, judged once every group was compared: a second
record for a document (same number; same contact, total and reference or date; a second payment
naming the same OpenSolar payment) is a duplicate, one syncledger created but no longer expects
is unexpected, and a credit note or payment for one of the ledger's contacts or invoices that no
document explains is unexplained. ``Claims`` is what the comparison of the groups left for this.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from domain.vocabulary import Operation
from outbox.reconcile.findings import Difference, Finding, Owner, money
from outbox.reconcile.records import (
    XeroCreditNote,
    XeroInvoice,
    XeroPayment,
    XeroRecord,
    XeroSnapshot,
)
from outbox.xero.answers import GONE

R = TypeVar("R", bound=XeroRecord)
Twin = tuple[str, str]
"""The ledger document holding a record, and that record's Xero id (or number)."""


def likeness(
    contact_id: str | None, total: Decimal | None, reference: str, day: date | None
) -> Any:
    """What makes two invoices look like the same one: contact, total, and reference (or date)."""
    return (contact_id, money(total), reference.casefold() if reference else day)


@dataclass
class Claims:
    """What the ledger's documents claimed in Xero while their groups were compared."""

    ids: set[str] = field(default_factory=set)
    numbers: dict[str, Twin] = field(default_factory=dict)
    """Invoice number (case-folded) -> (document, Xero id)."""
    credit_numbers: dict[str, Twin] = field(default_factory=dict)
    """Credit note number (case-folded) -> (document, Xero id)."""
    alike: dict[Any, list[Twin]] = field(default_factory=dict)
    """An invoice's ``likeness`` -> (document, number) of the ledger's invoices with it."""
    payments: dict[str, Twin] = field(default_factory=dict)
    """OpenSolar payment id -> (document, Xero id)."""
    invoices: dict[str, str] = field(default_factory=dict)
    """Xero invoice id -> the ledger document holding it."""
    contacts: dict[str, str] = field(default_factory=dict)
    """Xero contact id -> a ledger document whose invoice is for it."""

    def invoice(self, document: str, number: str, xero: XeroInvoice) -> None:
        """The ledger's invoice ``document`` (numbered ``number``) holds ``xero``."""
        self.numbers.setdefault(xero.number.casefold(), (document, xero.xero_id))
        self.invoices[xero.xero_id] = document
        if xero.contact_id is not None:
            self.contacts.setdefault(xero.contact_id, document)
        key = likeness(xero.contact_id, xero.total, xero.reference, xero.date)
        self.alike.setdefault(key, []).append((document, number))


def unexpected(record: str, owner: Owner, xero_id: str, number: str) -> Difference:
    """A record syncledger created for ``owner`` that the ledger no longer expects."""
    return Difference(
        Finding.UNEXPECTED,
        record,
        owner.document,
        number,
        xero_id,
        "not expected",
        "present",
        f"syncledger created this {record.replace('_', ' ')} for {owner.document} "
        f"({owner.number}) but the ledger no longer expects it in Xero",
    )


def _duplicate(
    record: str, twin: Twin, number: str, xero_id: str, xero: str, detail: str
) -> Difference:
    return Difference(Finding.DUPLICATE, record, twin[0], number, xero_id, twin[1], xero, detail)


def _unexplained(
    record: str, document: str, number: str, xero_id: str, amount: Decimal | None, detail: str
) -> Difference:
    return Difference(
        Finding.UNEXPLAINED, record, document, number, xero_id, None, money(amount), detail
    )


class Strays:
    """Judges the records no document claimed. ``owners`` names the ledger documents that
    created some of them; with ``scope`` (a date window), only owners among the documents
    checked count."""

    def __init__(
        self, claims: Claims, owners: Mapping[str, Owner], scope: set[str] | None = None
    ) -> None:
        self.claims = claims
        self.owners = owners
        self.scope = scope

    def unclaimed(self, records: Iterable[R]) -> list[R]:
        """The live records among these that nobody claimed, by Xero id."""
        return sorted(
            (r for r in records if r.xero_id not in self.claims.ids and r.status not in GONE),
            key=lambda r: r.xero_id,
        )

    def owner_of(self, xero_id: str) -> Owner | None:
        owner = self.owners.get(xero_id)
        if owner is None or (self.scope is not None and owner.aggregate_id not in self.scope):
            return None
        return owner

    def differences(self, snapshot: XeroSnapshot) -> list[Difference]:
        """Every difference among the records of ``snapshot`` nobody claimed."""
        found = [self.invoice(i) for i in self.unclaimed(snapshot.invoices.values())]
        found += [self.credit_note(c) for c in self.unclaimed(snapshot.credit_notes.values())]
        found += [self.payment(p) for p in self.unclaimed(snapshot.payments.values())]
        return [d for d in found if d is not None]

    def _numbered(
        self, record: str, twin: Twin | None, number: str, xero_id: str
    ) -> Difference | None:
        """A second record under a number the ledger's record has, or one it no longer expects."""
        if twin is not None:
            label = record.replace("_", " ")
            detail = f"a second {label} numbered {number} in Xero"
            return _duplicate(record, twin, number, xero_id, xero_id, detail)
        owner = self.owner_of(xero_id)
        return unexpected(record, owner, xero_id, number) if owner is not None else None

    def invoice(self, invoice: XeroInvoice) -> Difference | None:
        twin = self.claims.numbers.get(invoice.number.casefold()) if invoice.number else None
        numbered = self._numbered(Operation.INVOICE, twin, invoice.number, invoice.xero_id)
        if numbered is not None:
            return numbered
        key = likeness(invoice.contact_id, invoice.total, invoice.reference, invoice.date)
        same = self.claims.alike.get(key)
        if not same:
            return None
        originals = " or ".join(f"{number} ({document})" for document, number in same)
        return _duplicate(
            Operation.INVOICE,
            same[0],
            invoice.number,
            invoice.xero_id,
            invoice.number,
            f"invoice {invoice.number} in Xero has the same contact, total "
            f"({money(invoice.total)}) and "
            + (f"reference ({invoice.reference})" if invoice.reference else "date")
            + f" as {originals}",
        )

    def credit_note(self, credit: XeroCreditNote) -> Difference | None:
        twin = self.claims.credit_numbers.get(credit.number.casefold())
        numbered = self._numbered(Operation.CREDIT_NOTE, twin, credit.number, credit.xero_id)
        if numbered is not None:
            return numbered
        contact = credit.contact_id
        if credit.xero_id in self.owners or contact is None or contact not in self.claims.contacts:
            return None
        document = self.claims.contacts[contact]
        return _unexplained(
            Operation.CREDIT_NOTE,
            document,
            credit.number,
            credit.xero_id,
            credit.total,
            f"credit note {credit.number} ({money(credit.total)}) in Xero for the contact of "
            f"{document} explains no document of the ledger",
        )

    def payment(self, payment: XeroPayment) -> Difference | None:
        opensolar = payment.opensolar_payment
        twin = self.claims.payments.get(opensolar) if opensolar else None
        if twin is not None:
            return _duplicate(
                Operation.PAYMENT,
                twin,
                f"payment {opensolar}",
                payment.xero_id,
                payment.xero_id,
                f"a second payment of {money(payment.amount)} in Xero for {twin[0]} "
                f"(reference {payment.reference!r})",
            )
        owner = self.owner_of(payment.xero_id)
        if owner is not None:
            number = f"payment {opensolar or '?'}"
            return unexpected(Operation.PAYMENT, owner, payment.xero_id, number)
        on = payment.invoice_id
        if payment.xero_id in self.owners or on is None or on not in self.claims.invoices:
            return None
        document = self.claims.invoices[on]
        return _unexplained(
            Operation.PAYMENT,
            document,
            payment.reference or f"payment {payment.xero_id}",
            payment.xero_id,
            payment.amount,
            f"a payment of {money(payment.amount)} (reference {payment.reference!r}) on "
            f"{document}'s invoice in Xero explains no payment of the ledger",
        )
