"""The SyncLedger application service: every command that appends to the log goes through here.

It is an eventsourcing ``Application`` whose aggregates are organisations, documents and
customers. Commands are short get / mutate / save methods; a save is one transaction,
so a batch of changes is recorded whole or not at all. A concurrent writer (the relay recording
an outcome while ``ingest`` appends a change to the same document) shows up as a version
conflict, and the command is simply run again on fresh state.

Rules that span documents are applied here, in the same transaction as what set them off: a
payment is linked to its invoice; a payment whose invoice will never reach Xero, or is in another
currency, fails with the reason; and after every outcome each document asks for what it needs
next (a credit note after a late success, the payment applied again after it was deleted ...).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Transcoder
from eventsourcing.utils import Environment, EnvType

from domain.customer import Customer
from domain.documents import Document, Invoice, Payment, follow_invoice
from domain.errors import DocumentNotFoundError
from domain.ids import document_id, organisation_id
from domain.opensolar import Change, InvoiceFields, PaymentFields
from domain.opensolar import Customer as CustomerFields
from domain.organisation import NO_CONNECTION, Organisation, Policy
from domain.transcodings import register_domain_transcodings

MAX_CONFLICT_RETRIES = 20
A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")

SUCCEEDED = "succeeded"
FAILED = "failed"
SKIPPED = "skipped"


@dataclass(frozen=True)
class IngestResult:
    """What a batch of changes did: recorded, or already recorded (duplicates)."""

    recorded: int
    duplicates: int


@dataclass(frozen=True)
class Resolution:
    """The final outcome of one delivery, to be recorded with others in one transaction:
    succeeded (Xero's answer), failed (the reason and the action) or skipped (nothing to do)."""

    doc_id: UUID
    operation: str
    request_version: int
    calls: list[dict[str, Any]]
    xero_id: str | None = None
    sent: InvoiceFields | PaymentFields | None = None
    detail: str = ""
    error: str | None = None
    category: str = ""
    action: str = ""
    skipped: str | None = None
    tenant_id: str | None = None
    xero: dict[str, Any] | None = None

    @property
    def kind(self) -> str:
        if self.skipped is not None:
            return SKIPPED
        return SUCCEEDED if self.error is None and self.xero_id is not None else FAILED

    @property
    def succeeded(self) -> bool:
        return self.kind == SUCCEEDED


@dataclass(frozen=True)
class ContactMatch:
    """A Xero contact matched to a customer during a delivery, to remember with its outcome."""

    customer: CustomerFields
    tenant_id: str
    contact_id: str
    contact_name: str
    how: str


class _Work:
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
            self.orgs[org_id] = self.ledger._current_organisation(org_id)
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


class SyncLedger(Application[UUID]):
    """The event-sourced ledger of OpenSolar documents and their sync to Xero."""

    name = "Ledger"

    def __init__(self, env: EnvType | None = None) -> None:
        super().__init__(env)
        self._ingest_organisations: dict[str, Organisation] = {}

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """Configure from the settings passed in only: the process environment is not read."""
        return Environment(name, dict(env or {}))

    def register_transcodings(self, transcoder: Transcoder) -> None:
        super().register_transcodings(transcoder)  # type: ignore[arg-type]
        register_domain_transcodings(transcoder)

    # reading ---------------------------------------------------------------------------------

    def _find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        try:
            found: Any = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        if not isinstance(found, cls):
            raise DocumentNotFoundError(f"{aggregate_id} is not a {cls.__name__}")
        return found

    def organisation(self, org_id: str) -> Organisation | None:
        """The organisation, or None if the ledger has never seen it."""
        return self._find(Organisation, organisation_id(org_id))

    def _current_organisation(self, org_id: str) -> Organisation | None:
        """The organisation as ``organisation`` gives it, from a copy kept between ingest
        batches when the log holds nothing newer for it (one cheap query instead of replaying
        its history for every batch). Only for reading: never changed in place."""
        cache = self._ingest_organisations
        cached = cache.get(org_id)
        if cached is not None and not self.recorder.select_events(
            cached.id, gt=cached.version, limit=1
        ):
            return cached
        found = self.organisation(org_id)
        if found is None:
            cache.pop(org_id, None)
        else:
            cache[org_id] = found
        return found

    def document(self, doc_id: UUID) -> Document:
        """The document aggregate with this id."""
        found = self._find(Document, doc_id)
        if found is None:
            raise DocumentNotFoundError(f"no document with id {doc_id}")
        return found

    def find_document_by_id(self, doc_id: UUID) -> Document | None:
        """The document with this id, or None if the ledger has not seen it."""
        return self._find(Document, doc_id)

    def find_document(self, org_id: str, kind: str, opensolar_id: str) -> Document | None:
        """The document by OpenSolar identity, or None."""
        return self._find(Document, document_id(org_id, kind, opensolar_id))

    def customer(self, org_id: str, fields: CustomerFields) -> Customer | None:
        """The customer's remembered Xero contacts, or None if never matched."""
        return self._find(Customer, Customer.id_for(org_id, fields))

    # writing ---------------------------------------------------------------------------------

    def _retrying(self, command: Callable[[], T]) -> T:
        """Run ``command`` (load, mutate, save) again on a version conflict."""
        for _ in range(MAX_CONFLICT_RETRIES):
            try:
                return command()
            except IntegrityError:
                continue
        return command()

    def ingest(self, changes: Sequence[Change]) -> IngestResult:
        """Record a batch of changes in one transaction; duplicates (by event id) change nothing."""

        def attempt() -> IngestResult:
            work = _Work(self)
            recorded = duplicates = 0
            for change in changes:
                if work.org(change.org_id) is None:
                    work.orgs[change.org_id] = Organisation.register(change.org_id)
                doc_id = document_id(change.org_id, change.kind, change.model_id)
                doc = work.doc(doc_id) or work.add(_start(change))
                before = len(doc.pending_events)
                if isinstance(doc, Invoice | Payment):
                    doc.receive(change, work.policy(change.org_id))
                if len(doc.pending_events) > before:
                    recorded += 1
                    _cross_document_rules(work, doc)
                else:
                    duplicates += 1
            work.save()
            return IngestResult(recorded, duplicates)

        return self._retrying(attempt)

    def _organisation_command(
        self, org_id: str, mutate: Callable[[Organisation], None]
    ) -> Organisation:
        def command() -> Organisation:
            org = self.organisation(org_id) or Organisation.register(org_id)
            mutate(org)
            self.save(org)
            return org

        return self._retrying(command)

    def connect(
        self,
        org_id: str,
        xero_url: str,
        tenant_id: str,
        at: datetime,
        method: str,
        *,
        switch_tenant: bool = False,
        synced_documents: int = 0,
    ) -> Organisation:
        """Record a Xero connection for an organisation (see ``Organisation.connect``)."""
        return self._organisation_command(
            org_id,
            lambda org: org.connect(
                xero_url,
                tenant_id,
                at,
                method,
                switch_tenant=switch_tenant,
                synced_documents=synced_documents,
            ),
        )

    def disconnect(self, org_id: str, reason: str) -> Organisation:
        """Record that an organisation's Xero connection is gone."""
        return self._organisation_command(org_id, lambda org: org.disconnect(reason))

    def map_account(self, org_id: str, category: str, code: str) -> Organisation:
        """Map a line category to a Xero account code."""
        return self._organisation_command(org_id, lambda org: org.map_account(category, code))

    def map_tax(self, org_id: str, tax_rate: str, tax_type: str) -> Organisation:
        """Map an OpenSolar tax rate to a Xero TaxType."""
        return self._organisation_command(org_id, lambda org: org.map_tax(tax_rate, tax_type))

    def set_payment_account(self, org_id: str, code: str) -> Organisation:
        """Choose the Xero account that receives payments."""
        return self._organisation_command(org_id, lambda org: org.set_payment_account(code))

    def set_invoice_status(self, org_id: str, status: str) -> Organisation:
        """Choose the status new invoices get in Xero."""
        return self._organisation_command(org_id, lambda org: org.set_invoice_status(status))

    def set_number_suffix(self, org_id: str, enabled: bool) -> Organisation:
        """Send reissues of a cancelled invoice's number as NUMBER-2, NUMBER-3 … (or not)."""
        return self._organisation_command(org_id, lambda org: org.set_number_suffix(enabled))

    def set_rounding_account(self, org_id: str, code: str) -> Organisation:
        """Choose the Xero account rounding lines go to."""
        return self._organisation_command(org_id, lambda org: org.set_rounding_account(code))

    def record_reconciliation(
        self, org_id: str, tenant_id: str, summary: dict[str, int]
    ) -> Organisation:
        """Record that a reconciliation with Xero ran for an organisation."""
        return self._organisation_command(
            org_id, lambda org: org.record_reconciliation(tenant_id, summary)
        )

    def _document_command(
        self, doc_id: UUID, mutate: Callable[[Document, _Work], None]
    ) -> Document:
        def command() -> Document:
            work = _Work(self)
            doc = work.doc(doc_id)
            if doc is None:
                raise DocumentNotFoundError(f"no document with id {doc_id}")
            mutate(doc, work)
            _cross_document_rules(work, doc)
            work.save()
            return doc

        return self._retrying(command)

    def request_sync(self, doc_id: UUID, reason: str) -> Document:
        """Ask for a Not Attempted document to be pushed now (``sync``)."""

        def mutate(doc: Document, work: _Work) -> None:
            if isinstance(doc, Invoice | Payment):
                doc.request_sync_now(work.policy(doc.org_id), reason)

        return self._document_command(doc_id, mutate)

    def request_retry(self, doc_id: UUID, reason: str = "retry requested") -> Document:
        """Ask for a Failed document's delivery to be tried again (``retry``)."""
        return self._document_command(
            doc_id, lambda doc, work: doc.request_retry(reason, work.policy(doc.org_id))
        )

    def record_success(
        self,
        doc_id: UUID,
        operation: str,
        request_version: int,
        xero_id: str,
        sent: InvoiceFields | PaymentFields | None,
        detail: str,
        calls: list[dict[str, Any]],
        *,
        tenant_id: str | None = None,
        xero: dict[str, Any] | None = None,
    ) -> bool:
        """Record that Xero accepted a delivery; False if nothing new was learned."""
        resolution = Resolution(
            doc_id,
            operation,
            request_version,
            calls,
            xero_id=xero_id,
            sent=sent,
            detail=detail,
            tenant_id=tenant_id,
            xero=xero,
        )
        return self.record_resolutions([resolution]) > 0

    def record_resolutions(self, resolutions: Sequence[Resolution]) -> int:
        """Record the final outcomes of a batch of deliveries in one transaction, each on its
        own document (one already resolved is left as it is), then what each needs next.
        Returns how many were recorded."""

        def command() -> int:
            work = _Work(self)
            recorded = 0
            touched: list[Document] = []
            for resolution in resolutions:
                doc = work.doc(resolution.doc_id)
                if doc is None:
                    continue
                if _resolve(doc, resolution):
                    recorded += 1
                    touched.append(doc)
            for doc in touched:
                doc.request_next(work.policy(doc.org_id))
                _cross_document_rules(work, doc)
            work.save()
            return recorded

        return self._retrying(command)

    def record_failure(
        self,
        doc_id: UUID,
        operation: str,
        request_version: int,
        error: str,
        category: str,
        *,
        final: bool,
        retry_at: datetime | None,
        calls: list[dict[str, Any]],
        action: str = "",
    ) -> bool:
        """Record a failed delivery (final, or to be retried at ``retry_at``)."""
        if final:
            resolution = Resolution(
                doc_id,
                operation,
                request_version,
                calls,
                error=error,
                category=category,
                action=action,
            )
            return self.record_resolutions([resolution]) > 0

        def command() -> bool:
            doc = self.document(doc_id)
            changed = doc.record_failure(
                operation,
                request_version,
                error,
                category,
                final=False,
                retry_at=retry_at,
                calls=calls,
            )
            if changed:
                self.save(doc)
            return changed

        return self._retrying(command)

    def record_deferral(
        self,
        doc_id: UUID,
        operation: str,
        request_version: int,
        reason: str,
        calls: list[dict[str, Any]],
    ) -> bool:
        """Record the calls of a delivery that must wait (rate limit, refused connection)."""

        def command() -> bool:
            doc = self.document(doc_id)
            changed = doc.record_deferral(operation, request_version, reason, calls)
            if changed:
                self.save(doc)
            return changed

        return self._retrying(command)

    def record_contact(self, org_id: str, contact: ContactMatch) -> None:
        """Remember which Xero contact a customer was matched to (as soon as it is known)."""

        def command() -> None:
            customer = self._matched(org_id, contact)
            if customer.pending_events:
                self.save(customer)

        self._retrying(command)

    def _matched(self, org_id: str, contact: ContactMatch) -> Customer:
        customer = self.customer(org_id, contact.customer) or Customer.register(
            org_id, contact.customer
        )
        customer.match(contact.tenant_id, contact.contact_id, contact.contact_name, contact.how)
        return customer

    def events_of(self, aggregate_id: UUID) -> Iterable[Any]:
        """Every event of one aggregate, in order."""
        return self.events.get(aggregate_id)


def _resolve(doc: Document, resolution: Resolution) -> bool:
    """Record one resolution on its document; False if it adds nothing."""
    if resolution.kind == SUCCEEDED and resolution.xero_id is not None:
        return doc.record_success(
            resolution.operation,
            resolution.request_version,
            resolution.xero_id,
            resolution.sent,
            resolution.detail,
            resolution.calls,
            tenant_id=resolution.tenant_id,
            xero=resolution.xero,
        )
    if resolution.kind == SKIPPED:
        return doc.record_skip(
            resolution.operation,
            resolution.request_version,
            resolution.skipped or "nothing to send",
            resolution.calls,
        )
    return doc.record_failure(
        resolution.operation,
        resolution.request_version,
        resolution.error or "failed",
        resolution.category,
        final=True,
        retry_at=None,
        calls=resolution.calls,
        action=resolution.action,
    )


def _cross_document_rules(work: _Work, doc: Document) -> None:
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


def _linked_elsewhere(work: _Work, payment: Payment, target: UUID) -> list[Invoice]:
    """Invoices the payment was against before it moved to ``target``."""
    found: list[Invoice] = []
    for invoice_id in payment.invoices_seen:
        previous = document_id(payment.org_id, "invoice", invoice_id)
        if previous == target:
            continue
        invoice = work.doc(previous)
        if isinstance(invoice, Invoice) and str(payment.id) in invoice.payments:
            found.append(invoice)
    return found


def _start(change: Change) -> Document:
    if change.model == "Invoice":
        invoice: Invoice = Invoice.start(change.org_id, change.model_id)
        return invoice
    payment: Payment = Payment.start(change.org_id, change.model_id)
    return payment
