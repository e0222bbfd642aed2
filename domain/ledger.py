"""The SyncLedger application service: every command that appends to the log goes through here.

It is an eventsourcing ``Application`` whose aggregates are organisations, documents and
customers. Commands are short get / mutate / save methods; a save is one transaction,
so a batch of changes is recorded whole or not at all. A concurrent writer (the relay recording
an outcome while ``ingest`` appends a change to the same document) shows up as a version
conflict, and the command is simply run again on fresh state.

Each document command runs as one ``Work`` (``domain.work``): the rules that span documents are
applied in the same transaction as what set them off, and after every outcome each document asks
for what it needs next (a credit note after a late success, the payment applied again after it
was deleted ...).
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
from domain.documents import Document, Invoice, Payment
from domain.errors import DocumentNotFoundError
from domain.ids import document_id, organisation_id
from domain.opensolar import Change, InvoiceFields, PaymentFields
from domain.opensolar import Customer as CustomerFields
from domain.organisation import Organisation
from domain.resolutions import ContactMatch, Resolution, resolve
from domain.transcodings import register_domain_transcodings
from domain.work import Work, cross_document_rules, start_document

__all__ = ["ContactMatch", "IngestResult", "Resolution", "SyncLedger"]

MAX_CONFLICT_RETRIES = 20
A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")


@dataclass(frozen=True)
class IngestResult:
    """What a batch of changes did: recorded, or already recorded (duplicates)."""

    recorded: int
    duplicates: int


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

    def current_organisation(self, org_id: str) -> Organisation | None:
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
            work = Work(self)
            recorded = duplicates = 0
            for change in changes:
                if work.org(change.org_id) is None:
                    work.orgs[change.org_id] = Organisation.register(change.org_id)
                doc_id = document_id(change.org_id, change.kind, change.model_id)
                doc = work.doc(doc_id) or work.add(start_document(change))
                before = len(doc.pending_events)
                if isinstance(doc, Invoice | Payment):
                    doc.receive(change, work.policy(change.org_id))
                if len(doc.pending_events) > before:
                    recorded += 1
                    cross_document_rules(work, doc)
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

    def _document_command(self, doc_id: UUID, mutate: Callable[[Document, Work], None]) -> Document:
        def command() -> Document:
            work = Work(self)
            doc = work.doc(doc_id)
            if doc is None:
                raise DocumentNotFoundError(f"no document with id {doc_id}")
            mutate(doc, work)
            cross_document_rules(work, doc)
            work.save()
            return doc

        return self._retrying(command)

    def request_sync(self, doc_id: UUID, reason: str) -> Document:
        """Ask for a Not Attempted document to be pushed now (``sync``)."""

        def mutate(doc: Document, work: Work) -> None:
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
            work = Work(self)
            recorded = 0
            touched: list[Document] = []
            for resolution in resolutions:
                doc = work.doc(resolution.doc_id)
                if doc is None:
                    continue
                if resolve(doc, resolution):
                    recorded += 1
                    touched.append(doc)
            for doc in touched:
                doc.request_next(work.policy(doc.org_id))
                cross_document_rules(work, doc)
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

        return self._attempt_command(
            doc_id,
            lambda doc: doc.record_failure(
                operation,
                request_version,
                error,
                category,
                final=False,
                retry_at=retry_at,
                calls=calls,
            ),
        )

    def record_deferral(
        self,
        doc_id: UUID,
        operation: str,
        request_version: int,
        reason: str,
        calls: list[dict[str, Any]],
    ) -> bool:
        """Record the calls of a delivery that must wait (rate limit, refused connection)."""
        return self._attempt_command(
            doc_id, lambda doc: doc.record_deferral(operation, request_version, reason, calls)
        )

    def _attempt_command(self, doc_id: UUID, record: Callable[[Document], bool]) -> bool:
        """Record an attempt that leaves its request open (nothing else follows from it)."""

        def command() -> bool:
            doc = self.document(doc_id)
            changed = record(doc)
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
