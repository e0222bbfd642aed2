"""Deliveries: what Xero must be told for outbox messages, and telling it.

Invoices and payments go in batches: the messages of one organisation and operation that are
due together travel in one PUT of up to 50 (``summarizeErrors=false``), and each element's
outcome belongs to its own document, so one bad invoice fails alone while its neighbours sync.
A lone document is simply a batch of one. Contacts for the batch's new customers are found with
one ``where`` ORed over their emails and created in one PUT. Credit notes (two steps: create,
then allocate) go one at a time.

Documents and their organisation are loaded fresh from the ledger and mapped at send time.
After an uncertain earlier attempt, documents are looked up in Xero first (by number, or by
reference for payments) and adopted instead of being created a second time; invoices and credit
notes are also protected by their unique numbers ("Invoice # must be unique." leads to adoption
when what Xero holds is ours). The results are ``Outcome``s for the relay to record; the only
thing written to the ledger here is a contact match, as soon as it is known.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from domain.customer import Customer, customer_key
from domain.documents import OP_CREDIT_NOTE, OP_INVOICE, OP_PAYMENT, Document, Invoice, Payment
from domain.errors import MappingError
from domain.ledger import ContactMatch, SyncLedger
from domain.mapping import (
    allocation_payload,
    check_mappings,
    contact_payload,
    credit_note_number,
    credit_note_payload,
    invoice_date,
    invoice_payload,
    payment_payload,
    payment_reference,
)
from domain.opensolar import Customer as CustomerFields
from domain.opensolar import InvoiceFields, PaymentFields
from domain.organisation import Organisation
from outbox.store import Message
from outbox.xero import (
    Element,
    XeroClient,
    XeroDuplicateNumberError,
    XeroRejectedError,
    dumps,
    idempotency_key,
)

NAME_TAKEN = "already assigned to another contact"
MAX_BATCH = 50
MAX_BATCH_BYTES = 3_000_000
ContactLock = Callable[[str, CustomerFields], AbstractContextManager[None]]
"""Serialises contact resolution per (organisation, customer)."""


@dataclass(frozen=True)
class Succeeded:
    """Xero holds the document: record it as Synced."""

    xero_id: str
    sent: InvoiceFields | PaymentFields | None
    detail: str


@dataclass(frozen=True)
class Refused:
    """The document cannot be sent as it is (our own check, before any call)."""

    error: str
    category: str


@dataclass(frozen=True)
class Skipped:
    """Nothing to send any more (already resolved, or no longer wanted)."""

    reason: str


@dataclass(frozen=True)
class Waiting:
    """The delivery must wait for another document (e.g. a payment for its invoice)."""

    reason: str


Outcome = Succeeded | Refused | Skipped | Waiting


@dataclass(frozen=True)
class Item:
    """One message of a batch and its document, loaded fresh."""

    message: Message
    document: Document


@dataclass(frozen=True)
class _Ready:
    """A document whose payload is built and that will be sent (or adopted)."""

    item: Item
    body: dict[str, Any]
    fields: InvoiceFields | PaymentFields
    number: str
    contact_id: str | None = None


class Delivery:
    """Delivers messages of one organisation through one ``XeroClient``."""

    def __init__(
        self,
        ledger: SyncLedger,
        client: XeroClient,
        tenant_id: str,
        *,
        contact_lock: ContactLock | None = None,
    ) -> None:
        self.ledger = ledger
        self.client = client
        self.tenant_id = tenant_id
        self.contact_lock = contact_lock

    def run(self, message: Message, document: Document, org: Organisation) -> Outcome:
        """Deliver one message (raises ``XeroError`` on Xero's failures)."""
        return self.run_many([Item(message, document)], org)[message.id]

    def run_many(self, items: Sequence[Item], org: Organisation) -> dict[int, Outcome]:
        """Deliver messages of one operation for one organisation, in batches where Xero takes
        them; one outcome per message id (raises ``XeroError`` when a whole call fails)."""
        results: dict[int, Outcome] = {}
        live: list[Item] = []
        for item in items:
            request = item.document.open_request
            if request is None or request.version != item.message.request_version:
                results[item.message.id] = Skipped("this request is already resolved")
            else:
                live.append(item)
        invoices = [i for i in live if i.message.operation == OP_INVOICE]
        payments = [i for i in live if i.message.operation == OP_PAYMENT]
        others = [i for i in live if i not in invoices and i not in payments]
        if invoices:
            results.update(self._invoices(invoices, org))
        if payments:
            results.update(self._payments(payments, org))
        for item in others:
            results[item.message.id] = self._single(item, org)
        return results

    def _single(self, item: Item, org: Organisation) -> Outcome:
        message, document = item.message, item.document
        try:
            if message.operation == OP_CREDIT_NOTE and isinstance(document, Invoice):
                return self._credit_note(message, document, org)
        except MappingError as exc:
            return Refused(str(exc), "configuration")
        return Refused(
            f"unknown operation {message.operation!r} for {document.reference}", "internal"
        )

    def _key(self, message: Message, operation: str, body: Any) -> str:
        generation = f"{message.request_version}.{message.attempts}"
        return idempotency_key(self.tenant_id, operation, message.doc_id, generation, body)

    def _batch_key(self, operation: str, ready: Sequence[_Ready]) -> str:
        members = ",".join(
            sorted(
                f"{r.item.message.doc_id}:{r.item.message.request_version}."
                f"{r.item.message.attempts}"
                for r in ready
            )
        )
        return idempotency_key(self.tenant_id, operation, members, "batch", [r.body for r in ready])

    # contacts ---------------------------------------------------------------------------------

    def contact_id(self, org_id: str, customer: CustomerFields, message: Message) -> str:
        """The Xero contact for one customer: remembered, found by email, or created."""
        return self.contact_ids(org_id, [customer], message.attempts)[customer_key(customer)]

    def contact_ids(
        self, org_id: str, customers: Sequence[CustomerFields], attempts: int
    ) -> dict[str, str]:
        """Xero contacts for customers (by customer key): remembered ones need no call; the
        others are found with one lookup ORed over their emails, and the rest created in one
        call. One resolution at a time per customer, so concurrent deliveries never create
        two contacts for one customer."""
        unique = {customer_key(c): c for c in customers}
        with ExitStack() as held:
            if self.contact_lock is not None:
                for key in sorted(unique):
                    held.enter_context(self.contact_lock(org_id, unique[key]))
            found: dict[str, str] = {}
            unknown: list[CustomerFields] = []
            for key, customer in unique.items():
                remembered = self.ledger.customer(org_id, customer)
                known = remembered.contact_for(self.tenant_id) if remembered else None
                if known is not None:
                    found[key] = known
                else:
                    unknown.append(customer)
            for customer, chosen, how in self._lookup(unknown):
                found[customer_key(customer)] = self._remember(org_id, customer, chosen, how)
            missing = [c for c in unknown if customer_key(c) not in found]
            for customer, created in self._create_contacts(missing, attempts):
                found[customer_key(customer)] = self._remember(org_id, customer, created, "created")
        return found

    def _remember(
        self, org_id: str, customer: CustomerFields, contact: Mapping[str, Any], how: str
    ) -> str:
        match = ContactMatch(
            customer, self.tenant_id, str(contact["ContactID"]), str(contact.get("Name", "")), how
        )
        self.ledger.record_contact(org_id, match)
        return match.contact_id

    def _lookup(
        self, customers: Sequence[CustomerFields]
    ) -> list[tuple[CustomerFields, dict[str, Any], str]]:
        matches: list[tuple[CustomerFields, dict[str, Any], str]] = []
        with_email = [c for c in customers if c.email]
        contacts = self.client.find_contacts_by_emails(
            sorted({c.email for c in with_email if c.email})
        )
        for customer in with_email:
            sharing = [
                c
                for c in contacts
                if str(c.get("EmailAddress", "")).casefold() == (customer.email or "").casefold()
                and c.get("ContactStatus", "ACTIVE") == "ACTIVE"
            ]
            if sharing:
                chosen, how = choose_contact(sharing, customer)
                matches.append((customer, chosen, how))
        for customer in customers:
            if customer.email:
                continue
            named = [
                c
                for c in self.client.find_contacts(name=customer.name)
                if c.get("ContactStatus", "ACTIVE") == "ACTIVE"
            ]
            if named:
                chosen, how = choose_contact(named, customer)
                matches.append((customer, chosen, how))
        return matches

    def _create_contacts(
        self, customers: Sequence[CustomerFields], attempts: int
    ) -> list[tuple[CustomerFields, dict[str, Any]]]:
        if not customers:
            return []
        bodies = [contact_payload(c) for c in customers]
        key = idempotency_key(
            self.tenant_id,
            "contacts",
            ",".join(sorted(customer_key(c) for c in customers)),
            str(attempts),
            bodies,
        )
        created: list[tuple[CustomerFields, dict[str, Any]]] = []
        for customer, element in zip(
            customers, self.client.create_contacts(bodies, key), strict=True
        ):
            if element.ok:
                created.append((customer, element.data))
            elif any(NAME_TAKEN in m for m in element.messages):
                created.append((customer, self._create_renamed(customer, attempts)))
            else:
                raise XeroRejectedError(list(element.messages))
        return created

    def _create_renamed(self, customer: CustomerFields, attempts: int) -> dict[str, Any]:
        """A contact whose name is taken by another contact: try the name with the email, then
        with the OpenSolar customer id (Xero wants names unique among active contacts)."""
        names = []
        if customer.email:
            names.append(f"{customer.name} ({customer.email})")
        if customer.id:
            names.append(f"{customer.name} (OpenSolar customer {customer.id})")
        for index, name in enumerate(names):
            body = contact_payload(customer, name=name)
            key = idempotency_key(
                self.tenant_id, "contact", customer_key(customer), str(attempts), body
            )
            try:
                return self.client.create_contact(body, key)
            except XeroRejectedError as exc:
                name_taken = any(NAME_TAKEN in m for m in exc.messages)
                if not name_taken or index == len(names) - 1:
                    raise
        raise XeroRejectedError([f"no contact name could be used for {customer.name}"])

    # invoices ---------------------------------------------------------------------------------

    def _invoices(self, items: Sequence[Item], org: Organisation) -> dict[int, Outcome]:
        results: dict[int, Outcome] = {}
        candidates: list[tuple[Item, Invoice, InvoiceFields]] = []
        for item in items:
            invoice = item.document
            if not isinstance(invoice, Invoice):
                results[item.message.id] = Refused("not an invoice", "internal")
            elif invoice.xero_invoice_id is not None:
                results[item.message.id] = Skipped("already in Xero")
            elif invoice.is_cancelled:
                results[item.message.id] = self._cancelled_push(item, invoice)
            elif invoice.fields is None or invoice.issued_at is None:
                results[item.message.id] = Skipped("not issued in OpenSolar")
            else:
                try:
                    check_mappings(invoice.fields, org)
                except MappingError as exc:
                    results[item.message.id] = Refused(str(exc), "configuration")
                    continue
                candidates.append((item, invoice, invoice.fields))
        if not candidates:
            return results
        attempts = max(item.message.attempts for item, _, _ in candidates)
        contacts = self.contact_ids(org.org_id, [f.customer for _, _, f in candidates], attempts)
        ready = []
        for item, invoice, fields in candidates:
            contact_id = contacts[customer_key(fields.customer)]
            issued_on = invoice.issued_at.date() if invoice.issued_at else date.today()
            body = invoice_payload(fields, org, contact_id, issued_on)
            ready.append(_Ready(item, body, fields, fields.invoice_number, contact_id))
        uncertain = [r for r in ready if r.item.message.uncertain]
        if uncertain:
            found = _by_number(self.client.find_invoices([r.number for r in uncertain]))
            for entry in uncertain:
                existing = found.get(entry.number)
                if existing is not None:
                    results[entry.item.message.id] = self._adopt_invoice(
                        existing, entry, "found in Xero after an uncertain earlier attempt"
                    )
            ready = [r for r in ready if r.item.message.id not in results]
        duplicates: list[_Ready] = []
        for chunk in _chunks(ready):
            elements = self.client.create_invoices(
                [r.body for r in chunk], self._batch_key(OP_INVOICE, chunk)
            )
            for entry, element in zip(chunk, elements, strict=True):
                if element.ok:
                    status = element.data.get("Status", entry.body["Status"])
                    total = element.data.get("Total", "?")
                    results[entry.item.message.id] = Succeeded(
                        str(element.data["InvoiceID"]),
                        entry.fields,
                        f"invoice {entry.number} created in Xero ({status}, total {total})",
                    )
                elif element.duplicate_number:
                    duplicates.append(entry)
                else:
                    results[entry.item.message.id] = _rejected(element)
        if duplicates:
            found = _by_number(self.client.find_invoices([d.number for d in duplicates]))
            for entry in duplicates:
                existing = found.get(entry.number)
                results[entry.item.message.id] = (
                    self._adopt_invoice(existing, entry, "Xero already had this invoice number")
                    if existing is not None
                    else Refused("Invoice # must be unique.", "rejected")
                )
        return results

    def _cancelled_push(self, item: Item, invoice: Invoice) -> Outcome:
        """An invoice cancelled before its push was known to have reached Xero: if the push may
        have arrived anyway, look; what Xero holds is adopted so that it gets its credit note."""
        if not item.message.uncertain or invoice.fields is None:
            return Skipped("cancelled in OpenSolar before it was sent")
        number = invoice.fields.invoice_number
        existing = _by_number(self.client.find_invoices([number])).get(number)
        if existing is None or existing.get("Status") in ("VOIDED", "DELETED"):
            return Skipped("cancelled in OpenSolar before it was sent (not in Xero)")
        return Succeeded(
            str(existing["InvoiceID"]),
            invoice.fields,
            f"invoice {number} found in Xero after an uncertain attempt although cancelled "
            "since; adopted it so it can be credited",
        )

    def _adopt_invoice(self, existing: Mapping[str, Any], entry: _Ready, how: str) -> Outcome:
        if existing.get("Status") in ("VOIDED", "DELETED"):
            return Refused(
                f"invoice {entry.number} exists in Xero but is {existing.get('Status')}",
                "rejected",
            )
        if entry.contact_id is not None and not _same_contact(existing, entry.contact_id):
            return Refused(
                f"Invoice # must be unique.; Xero already has an invoice numbered {entry.number} "
                f"for another contact ({_contact_name(existing)}); syncledger did not create it. "
                "Renumber or remove one of them.",
                "rejected",
            )
        return Succeeded(
            str(existing["InvoiceID"]), entry.fields, f"invoice {entry.number} {how}; adopted it"
        )

    # credit notes -----------------------------------------------------------------------------

    def _credit_note(self, message: Message, invoice: Invoice, org: Organisation) -> Outcome:
        if invoice.xero_credit_note_id is not None:
            return Skipped("credit note already in Xero")
        invoice_id = invoice.xero_invoice_id
        sent = invoice.sent_fields or invoice.fields
        if invoice_id is None or sent is None or invoice.issued_at is None:
            return Waiting("the invoice is not in Xero yet")
        contact_id = self.contact_id(org.org_id, sent.customer, message)
        issued_on = invoice_date(sent, invoice.issued_at.date())
        cancelled_on = invoice.cancelled_at.date() if invoice.cancelled_at else issued_on
        day = max(cancelled_on, issued_on)
        number = credit_note_number(sent.invoice_number)
        credit = self.client.find_credit_note(number)
        if credit is None:
            body = credit_note_payload(sent, org, contact_id, day)
            try:
                credit = self.client.create_credit_note(
                    body, self._key(message, OP_CREDIT_NOTE, body)
                )
            except XeroDuplicateNumberError:
                credit = self.client.find_credit_note(number)
                if credit is None:
                    raise
        credit_id = str(credit["CreditNoteID"])
        detail = self._allocate(message, credit, invoice_id, sent.invoice_number, day)
        return Succeeded(credit_id, sent, f"credit note {number}: {detail}")

    def _allocate(
        self,
        message: Message,
        credit: Mapping[str, Any],
        invoice_id: str,
        invoice_number: str,
        day: date,
    ) -> str:
        for allocation in credit.get("Allocations") or []:
            if (allocation.get("Invoice") or {}).get("InvoiceID") == invoice_id:
                return f"already allocated to {invoice_number}"
        xero_invoice = self.client.get_invoice(invoice_id)
        due = Decimal(str(xero_invoice.get("AmountDue", "0")))
        remaining = Decimal(str(credit.get("RemainingCredit", credit.get("Total", "0"))))
        amount = min(due, remaining)
        if amount <= 0:
            return f"nothing to allocate ({invoice_number} has nothing due); the credit remains"
        body = allocation_payload(invoice_id, amount, day)
        self.client.allocate_credit_note(
            str(credit["CreditNoteID"]), body, self._key(message, "allocation", body)
        )
        left = remaining - amount
        tail = f"; {left:.2f} remains as credit to refund" if left > 0 else ""
        return (
            f"allocated {amount:.2f} to {invoice_number}, amount due now {due - amount:.2f}{tail}"
        )

    # payments ---------------------------------------------------------------------------------

    def _withdrawn_payment(self, item: Item, payment: Payment) -> Outcome:
        """A payment withdrawn before its delivery was known to have reached Xero: if it may
        have arrived anyway, look, and adopt what Xero holds (it is then Failed with guidance:
        delete it in Xero)."""
        fields = payment.fields
        if not item.message.uncertain or fields is None:
            return Skipped("not paid in OpenSolar")
        reference = payment_reference(fields, payment.opensolar_id)
        for existing in self.client.find_payments_by_references([reference]):
            if Decimal(str(existing.get("Amount"))) == fields.amount:
                return Succeeded(
                    str(existing["PaymentID"]),
                    fields,
                    f"payment of {fields.amount:.2f} found in Xero after an uncertain attempt "
                    "although withdrawn since; adopted it",
                )
        return Skipped("not paid in OpenSolar (not in Xero)")

    def _payments(self, items: Sequence[Item], org: Organisation) -> dict[int, Outcome]:
        results: dict[int, Outcome] = {}
        ready: list[_Ready] = []
        for item in items:
            payment = item.document
            if not isinstance(payment, Payment):
                results[item.message.id] = Refused("not a payment", "internal")
                continue
            fields = payment.fields
            if payment.xero_payment_id is not None:
                results[item.message.id] = Skipped("already in Xero")
                continue
            if fields is None or not payment.is_paid or payment.paid_at is None:
                results[item.message.id] = self._withdrawn_payment(item, payment)
                continue
            invoice_doc = payment.invoice_document
            invoice = self.ledger.find_document_by_id(invoice_doc) if invoice_doc else None
            if not isinstance(invoice, Invoice) or invoice.xero_invoice_id is None:
                number = invoice.number if isinstance(invoice, Invoice) else fields.invoice_id
                results[item.message.id] = Waiting(f"waiting for invoice {number}")
                continue
            try:
                body = payment_payload(
                    fields,
                    payment.opensolar_id,
                    org,
                    invoice.xero_invoice_id,
                    payment.paid_at.date(),
                )
            except MappingError as exc:
                results[item.message.id] = Refused(str(exc), "configuration")
                continue
            ready.append(_Ready(item, body, fields, invoice.number))
        uncertain = [r for r in ready if r.item.message.uncertain]
        if uncertain:
            existing = self.client.find_payments_by_references(
                [r.body["Reference"] for r in uncertain]
            )
            for entry in uncertain:
                match = _same_payment(existing, entry.body)
                if match is not None:
                    results[entry.item.message.id] = Succeeded(
                        str(match["PaymentID"]),
                        entry.fields,
                        f"payment of {entry.body['Amount']:.2f} found in Xero after an "
                        "uncertain earlier attempt; adopted it",
                    )
            ready = [r for r in ready if r.item.message.id not in results]
        for chunk in _chunks(ready):
            elements = self.client.create_payments(
                [r.body for r in chunk], self._batch_key(OP_PAYMENT, chunk)
            )
            for entry, element in zip(chunk, elements, strict=True):
                if element.ok:
                    due = (element.data.get("Invoice") or {}).get("AmountDue")
                    tail = f", amount due now {due}" if due is not None else ""
                    results[entry.item.message.id] = Succeeded(
                        str(element.data["PaymentID"]),
                        entry.fields,
                        f"payment of {entry.body['Amount']:.2f} applied to {entry.number}{tail}",
                    )
                else:
                    results[entry.item.message.id] = _rejected(element)
        return results


def _chunks(ready: Sequence[_Ready]) -> list[list[_Ready]]:
    """Batches of at most 50 elements and about 3 MB (Xero's 3.5 MB limit, with room)."""
    chunks: list[list[_Ready]] = []
    current: list[_Ready] = []
    size = 0
    for entry in ready:
        body_size = len(dumps(entry.body))
        if current and (len(current) >= MAX_BATCH or size + body_size > MAX_BATCH_BYTES):
            chunks.append(current)
            current, size = [], 0
        current.append(entry)
        size += body_size
    if current:
        chunks.append(current)
    return chunks


def _by_number(invoices: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Xero's invoices by number, a live one preferred to a voided or deleted one."""
    found: dict[str, dict[str, Any]] = {}
    for invoice in invoices:
        number = str(invoice.get("InvoiceNumber", ""))
        current = found.get(number)
        if current is None or current.get("Status") in ("VOIDED", "DELETED"):
            found[number] = invoice
    return found


def _same_payment(
    existing: Sequence[dict[str, Any]], body: Mapping[str, Any]
) -> dict[str, Any] | None:
    for payment in existing:
        same_invoice = (payment.get("Invoice") or {}).get("InvoiceID") == body["Invoice"][
            "InvoiceID"
        ]
        same_reference = payment.get("Reference") == body["Reference"]
        if (
            same_invoice
            and same_reference
            and Decimal(str(payment.get("Amount"))) == body["Amount"]
        ):
            return payment
    return None


def _rejected(element: Element) -> Refused:
    return Refused("; ".join(element.messages), "rejected")


def choose_contact(
    contacts: list[dict[str, Any]], customer: CustomerFields
) -> tuple[dict[str, Any], str]:
    """Choose deterministically among contacts sharing an email, and say which and why."""
    target = customer.name.casefold()
    ordered = sorted(
        contacts,
        key=lambda c: (str(c.get("Name", "")).casefold() != target, str(c.get("ContactID"))),
    )
    chosen = ordered[0]
    found_by = f"email {customer.email}" if customer.email else f"name {customer.name}"
    if len(contacts) == 1:
        return chosen, f"found by {found_by}"
    why = (
        "its name matches the customer's"
        if str(chosen.get("Name", "")).casefold() == target
        else "lowest ContactID (no name matches the customer's)"
    )
    return chosen, (
        f"found by {found_by}: {len(contacts)} contacts share it; chose "
        f"{chosen.get('Name')} ({chosen.get('ContactID')}) because {why}"
    )


def _same_contact(invoice: Mapping[str, Any], contact_id: str) -> bool:
    return str((invoice.get("Contact") or {}).get("ContactID")) == contact_id


def _contact_name(invoice: Mapping[str, Any]) -> str:
    return str((invoice.get("Contact") or {}).get("Name") or "unknown contact")


__all__ = ["Customer", "Delivery", "Outcome", "Refused", "Skipped", "Succeeded", "Waiting"]
