"""The comparison of the ledger with one ``XeroSnapshot``: one invoice group at a time (the
invoice, its credit note and its payments), then the records nobody claimed (``strays``).

Pure apart from ``fetch``, which looks up (by id) a record the listing did not hold.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal

from domain.mapping import credit_note_number
from domain.vocabulary import Operation, Status
from outbox.reconcile.findings import Difference, Finding, Owner, money
from outbox.reconcile.implied import ZERO, LedgerInvoice, LedgerPayment
from outbox.reconcile.records import (
    XeroCreditNote,
    XeroInvoice,
    XeroPayment,
    XeroRecord,
    XeroSnapshot,
)
from outbox.reconcile.strays import Claims, Strays
from outbox.xero.answers import GONE

Fetch = Callable[[str, str], XeroRecord | None]
Add = Callable[[str, str | None, str | None, str], None]
"""Adds a difference about one record: its category, the ledger's and Xero's side, the detail."""


def _adder(found: list[Difference], record: str, document: str, number: str, xero_id: str) -> Add:
    def add(category: str, ledger: str | None, actual: str | None, detail: str) -> None:
        found.append(
            Difference(category, record, document, number, xero_id, ledger, actual, detail)
        )

    return add


def _gone(status: str) -> Finding:
    return Finding.VOIDED if status == "VOIDED" else Finding.DELETED


class Comparison:
    """Compares the ledger with one ``XeroSnapshot``, one invoice group at a time, then the
    records nobody claimed. Pure apart from ``fetch``, which looks up (by id) a record the
    listing did not hold."""

    def __init__(self, snapshot: XeroSnapshot, fetch: Fetch | None = None) -> None:
        self.snapshot = snapshot
        self.fetch = fetch
        self.claims = Claims()
        self.checked: Counter[str] = Counter()
        self.seen: set[str] = set()

    @property
    def claimed(self) -> set[str]:
        """The Xero ids some ledger document claimed so far."""
        return self.claims.ids

    def _claim(self, record: str, xero_id: str) -> XeroRecord | None:
        """Count a record the ledger expects, claim its id, and find it."""
        self.checked[record] += 1
        self.claims.ids.add(xero_id)
        found = self.snapshot.held(record, xero_id)
        if found is None and self.fetch is not None:
            found = self.fetch(record, xero_id)
            if found is not None:
                self.snapshot.add(found)
        return found

    def group(
        self, invoice: LedgerInvoice | None, payments: Sequence[LedgerPayment]
    ) -> list[Difference]:
        """Check one invoice, its credit note and its payments."""
        found: list[Difference] = []
        xero_invoice: XeroInvoice | None = None
        total: Decimal | None = None
        if invoice is not None:
            self.seen.add(invoice.aggregate_id)
            xero_invoice, total = self._invoice(invoice, found)
            if invoice.credit_note_id is not None:
                self._credit_note(invoice, xero_invoice, total, found)
        for payment in payments:
            self.seen.add(payment.aggregate_id)
            self._payment(payment, found)
        if invoice is not None and xero_invoice is not None:
            self._amount_due(invoice, xero_invoice, total, payments, found)
        return found

    def _invoice(
        self, invoice: LedgerInvoice, found: list[Difference]
    ) -> tuple[XeroInvoice | None, Decimal | None]:
        if invoice.xero_id is None:
            return None, None
        record = self._claim(Operation.INVOICE, invoice.xero_id)
        xero = record if isinstance(record, XeroInvoice) else None
        add = _adder(found, Operation.INVOICE, invoice.document, invoice.number, invoice.xero_id)
        if xero is None:
            add(Finding.MISSING, Status.SYNCED, None, f"Xero has no invoice {invoice.number}")
            return None, None
        if xero.status in GONE and invoice.gone_in_xero is not None:
            return None, None
        if xero.status in GONE:
            detail = f"invoice {xero.number} was {xero.status} in Xero"
            add(_gone(xero.status), Status.SYNCED, xero.status, detail)
            return None, None
        self.claims.invoice(invoice.document, invoice.number, xero)
        total = invoice.total(self.snapshot)
        if total is not None and xero.total is not None and total != xero.total:
            add(
                Finding.TOTAL_DIFFERS,
                money(total),
                money(xero.total),
                f"invoice {xero.number} total in Xero is {money(xero.total)}; the lines the "
                f"ledger sent make {money(total)}",
            )
        return xero, total

    def _credit_note(
        self,
        invoice: LedgerInvoice,
        xero_invoice: XeroInvoice | None,
        total: Decimal | None,
        found: list[Difference],
    ) -> None:
        credit_id = invoice.credit_note_id
        if credit_id is None:
            return
        record = self._claim(Operation.CREDIT_NOTE, credit_id)
        number = invoice.credit_note_number or credit_note_number(invoice.number)
        xero = record if isinstance(record, XeroCreditNote) else None
        add = _adder(found, Operation.CREDIT_NOTE, invoice.document, number, credit_id)
        if xero is None:
            add(Finding.MISSING, Status.SYNCED, None, f"Xero has no credit note {number}")
            return
        if xero.status in GONE:
            detail = f"credit note {xero.number} was {xero.status}"
            add(_gone(xero.status), Status.SYNCED, xero.status, detail)
            return
        twin = (invoice.document, xero.xero_id)
        self.claims.credit_numbers.setdefault(xero.number.casefold(), twin)
        expected = total if total is not None else (xero_invoice.total if xero_invoice else None)
        if expected is not None and xero.total is not None and expected != xero.total:
            add(
                Finding.TOTAL_DIFFERS,
                money(expected),
                money(xero.total),
                f"credit note {xero.number} total in Xero is {money(xero.total)}; it should "
                f"mirror the invoice ({money(expected)})",
            )

    def _payment(self, payment: LedgerPayment, found: list[Difference]) -> None:
        self.claims.ids.update(payment.deleted_ids)
        if payment.xero_id is None:
            return
        record = self._claim(Operation.PAYMENT, payment.xero_id)
        xero = record if isinstance(record, XeroPayment) else None
        label = f"payment {payment.opensolar_id}"
        add = _adder(found, Operation.PAYMENT, payment.document, label, payment.xero_id)
        if xero is None:
            if not payment.withdrawn:
                add(
                    Finding.MISSING,
                    Status.SYNCED,
                    None,
                    f"Xero has no payment for {payment.document}",
                )
            return
        if xero.status == "DELETED":
            if not payment.withdrawn:
                add(
                    Finding.REMOVED,
                    money(payment.amount),
                    "DELETED",
                    f"the payment of {money(xero.amount)} for {payment.document} was deleted "
                    "in Xero",
                )
            return
        self.claims.payments.setdefault(payment.opensolar_id, (payment.document, xero.xero_id))
        if payment.withdrawn:
            add(
                Finding.UNEXPECTED,
                "withdrawn",
                money(xero.amount),
                f"{payment.document} was withdrawn in OpenSolar after it was synced; the payment "
                "still stands in Xero: delete it there by hand",
            )
        elif (
            payment.amount is not None and xero.amount is not None and payment.amount != xero.amount
        ):
            add(
                Finding.TOTAL_DIFFERS,
                money(payment.amount),
                money(xero.amount),
                f"payment amount in Xero is {money(xero.amount)}; the ledger sent "
                f"{money(payment.amount)}",
            )

    def _amount_due(
        self,
        invoice: LedgerInvoice,
        xero: XeroInvoice,
        total: Decimal | None,
        payments: Sequence[LedgerPayment],
        found: list[Difference],
    ) -> None:
        base = total if total is not None else xero.total
        if base is None or xero.amount_due is None:
            return
        paid = sum((p.amount or ZERO for p in payments if p.expected_live), ZERO)
        allocated = ZERO
        if invoice.credit_note_id is not None:
            allocated = (
                invoice.allocated
                if invoice.allocated is not None
                else max(ZERO, min(base - paid, base))
            )
        expected = base - paid - allocated
        if expected == xero.amount_due:
            return
        ours = {p.xero_id for p in payments}
        extra = [
            p
            for p in self.snapshot.payments_on(xero.xero_id)
            if p.xero_id not in ours and p.status not in GONE
        ]
        named = {p.opensolar_id for p in payments}
        if (
            extra
            and all(p.opensolar_payment in named for p in extra)
            and expected - sum((p.amount or ZERO for p in extra), ZERO) == xero.amount_due
        ):
            # Explained by second payments for the same OpenSolar payments: reported as
            # duplicates, counted once.
            return
        detail = (
            f"invoice {xero.number} amount due in Xero is {money(xero.amount_due)}; the ledger "
            f"implies {money(expected)} (total {money(base)} - payments {money(paid)} - "
            f"credit {money(allocated)})"
        )
        if extra:
            detail += "; Xero also has payments the ledger did not send: " + ", ".join(
                f"{money(p.amount)} ({p.reference or p.xero_id})" for p in extra
            )
        if found:
            # Already explained by what differs in this group: say it there, count it once.
            first = found[0]
            found[0] = Difference(
                first.category,
                first.record,
                first.document,
                first.number,
                first.xero_id,
                first.ledger,
                first.xero,
                f"{first.detail}; {detail}",
            )
            return
        held_id = invoice.xero_id or xero.xero_id
        add = _adder(found, Operation.INVOICE, invoice.document, invoice.number, held_id)
        add(Finding.AMOUNT_DUE_DIFFERS, money(expected), money(xero.amount_due), detail)

    # what nobody claimed ---------------------------------------------------------------------

    def unclaimed(self) -> list[str]:
        """Ids of live Xero records no ledger document claimed."""
        return sorted(
            r.xero_id
            for r in self.snapshot.records()
            if r.xero_id not in self.claims.ids and r.status not in GONE
        )

    def finish(
        self, owners: Mapping[str, Owner], scope: set[str] | None = None
    ) -> list[Difference]:
        """Differences among the records no ledger document claimed. ``owners`` names the ledger
        documents that created some of them; with ``scope`` (a date window), only owners among
        the documents checked count."""
        return Strays(self.claims, owners, scope).differences(self.snapshot)
