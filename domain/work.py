"""One command's unit of work: the aggregates it loads and changes, and the rules that span
documents, applied in the same transaction as what set them off.

A payment is linked to its invoice (and unlinked from one it moved away from); an invoice passes
its state on to its payments, so a payment whose invoice will never reach Xero, or is in another
currency, fails with the reason, and is asked for again once that no longer holds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.documents import Document, Invoice, Payment, follow_invoice
from domain.ids import document_id
from domain.opensolar import Change
from domain.organisation import NO_CONNECTION, Organisation, Policy
from domain.vocabulary import DocumentKind

if TYPE_CHECKING:
    from domain.ledger import SyncLedger


class Work:
    """The aggregates one command loads and changes, each loaded once; saved together."""

    def __init__(self, ledger: SyncLedger) -> None:
        self.ledger = ledger
        self.docs: dict[UUID, Document | None] = {}
        self.orgs: dict[str, Organisation | None] = {}

    def doc(self, doc_id: UUID) -> Document | None:
        if doc_id not in self.docs:
            self.docs[doc_id] = self.ledger.find_document_by_id(doc_id)
        return self.docs[doc_id]

    def add(self, doc: Document) -> Document:
        self.docs[doc.id] = doc
        return doc

    def org(self, org_id: str) -> Organisation | None:
        if org_id not in self.orgs:
            self.orgs[org_id] = self.ledger.current_organisation(org_id)
        return self.orgs[org_id]

    def policy(self, org_id: str) -> Policy:
        org = self.org(org_id)
        return org.policy() if org is not None else NO_CONNECTION

    def changed(self) -> list[Aggregate]:
        aggregates: list[Aggregate] = [
            a for a in (*self.orgs.values(), *self.docs.values()) if a is not None
        ]
        return [a for a in aggregates if a.pending_events]

    def save(self) -> None:
        changed = self.changed()
        if changed:
            self.ledger.save(*changed)


def cross_document_rules(work: Work, doc: Document) -> None:
    """The rules that span documents, after ``doc`` changed: an invoice passes its state on to
    its payments; a payment links itself to its invoice and follows it."""
    if isinstance(doc, Invoice):
        for payment_id in list(doc.payments):
            payment = work.doc(UUID(payment_id))
            if isinstance(payment, Payment) and payment.invoice_document == doc.id:
                follow_invoice(payment, doc)
    elif isinstance(doc, Payment):
        target = doc.invoice_document
        if target is None:
            return
        for linked in _linked_elsewhere(work, doc, target):
            linked.unlink_payment(str(doc.id))
        invoice = work.doc(target)
        if invoice is None:
            invoice = work.add(Invoice.start(doc.org_id, doc.invoice_id))
        if isinstance(invoice, Invoice):
            invoice.link_payment(str(doc.id))
            follow_invoice(doc, invoice)


def _linked_elsewhere(work: Work, payment: Payment, target: UUID) -> list[Invoice]:
    """Invoices the payment was against before it moved to ``target``."""
    found: list[Invoice] = []
    for invoice_id in payment.invoices_seen:
        previous = document_id(payment.org_id, DocumentKind.INVOICE, invoice_id)
        if previous == target:
            continue
        invoice = work.doc(previous)
        if isinstance(invoice, Invoice) and str(payment.id) in invoice.payments:
            found.append(invoice)
    return found


def start_document(change: Change) -> Document:
    """The new document a change about an unseen invoice or payment begins."""
    if change.model == "Invoice":
        invoice: Invoice = Invoice.start(change.org_id, change.model_id)
        return invoice
    payment: Payment = Payment.start(change.org_id, change.model_id)
    return payment
