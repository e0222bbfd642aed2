"""One delivery: what Xero must be told for one outbox message, and telling it.

The document and its organisation are loaded fresh from the ledger and mapped at send time. Each
operation first settles its dependencies (the customer's contact; the invoice a payment or a
credit note belongs to) and, after an uncertain earlier attempt, looks the document up in Xero
and adopts what it finds instead of creating a second one. Invoices and credit notes are also
protected by their unique numbers: "Invoice # must be unique." leads to adoption when what Xero
holds is ours. The result is an ``Outcome`` for the relay to record; nothing here writes to the
ledger.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
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
)
from domain.opensolar import Customer as CustomerFields
from domain.opensolar import InvoiceFields, PaymentFields
from domain.organisation import Organisation
from outbox.store import Message
from outbox.xero import (
    XeroClient,
    XeroDuplicateNumberError,
    XeroRejectedError,
    idempotency_key,
)

NAME_TAKEN = "already assigned to another contact"
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


class Delivery:
    """Delivers one message for one organisation through one ``XeroClient``."""

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
        """Deliver ``message`` for ``document`` (raises ``XeroError`` on Xero's failures)."""
        open_request = document.open_request
        if open_request is None or open_request.version != message.request_version:
            return Skipped("this request is already resolved in the ledger")
        try:
            if message.operation == OP_INVOICE and isinstance(document, Invoice):
                return self._invoice(message, document, org)
            if message.operation == OP_CREDIT_NOTE and isinstance(document, Invoice):
                return self._credit_note(message, document, org)
            if message.operation == OP_PAYMENT and isinstance(document, Payment):
                return self._payment(message, document, org)
        except MappingError as exc:
            return Refused(str(exc), "configuration")
        return Refused(
            f"unknown operation {message.operation!r} for {document.reference}", "internal"
        )

    def _key(self, message: Message, operation: str, body: Any) -> str:
        generation = f"{message.request_version}.{message.attempts}"
        return idempotency_key(self.tenant_id, operation, message.doc_id, generation, body)

    # contacts ---------------------------------------------------------------------------------

    def contact_id(self, org_id: str, customer: CustomerFields, message: Message) -> str:
        """The Xero contact for a customer: remembered, found by email, or created (one
        lookup at a time per customer, so two invoices never create two contacts)."""
        guard = self.contact_lock(org_id, customer) if self.contact_lock else nullcontext()
        with guard:
            return self._contact_id(org_id, customer, message)

    def _contact_id(self, org_id: str, customer: CustomerFields, message: Message) -> str:
        remembered = self.ledger.customer(org_id, customer)
        if remembered is not None:
            known = remembered.contact_for(self.tenant_id)
            if known is not None:
                return known
        found = self.client.find_contacts(
            email=customer.email, name=None if customer.email else customer.name
        )
        active = [c for c in found if c.get("ContactStatus", "ACTIVE") == "ACTIVE"]
        if active:
            chosen, how = choose_contact(active, customer)
        else:
            chosen, how = self._create_contact(customer, message), "created"
        match = ContactMatch(
            customer, self.tenant_id, str(chosen["ContactID"]), str(chosen.get("Name", "")), how
        )
        self.ledger.record_contact(org_id, match)
        return match.contact_id

    def _create_contact(self, customer: CustomerFields, message: Message) -> dict[str, Any]:
        names = [customer.name]
        if customer.email:
            names.append(f"{customer.name} ({customer.email})")
        if customer.id:
            names.append(f"{customer.name} (OpenSolar customer {customer.id})")
        for index, name in enumerate(names):
            body = contact_payload(customer, name=name)
            key = idempotency_key(
                self.tenant_id, "contact", customer_key(customer), str(message.attempts), body
            )
            try:
                return self.client.create_contact(body, key)
            except XeroRejectedError as exc:
                name_taken = any(NAME_TAKEN in m for m in exc.messages)
                if not name_taken or index == len(names) - 1:
                    raise
        raise XeroRejectedError([f"no contact name could be used for {customer.name}"])

    # invoices ---------------------------------------------------------------------------------

    def _invoice(self, message: Message, invoice: Invoice, org: Organisation) -> Outcome:
        if invoice.xero_invoice_id is not None:
            return Skipped("already in Xero")
        if invoice.is_cancelled:
            return Skipped("cancelled in OpenSolar before it was sent")
        fields = invoice.fields
        if fields is None or invoice.issued_at is None:
            return Skipped("not issued in OpenSolar")
        check_mappings(fields, org)
        contact_id = self.contact_id(org.org_id, fields.customer, message)
        body = invoice_payload(fields, org, contact_id, invoice.issued_at.date())
        number = fields.invoice_number
        if message.uncertain:
            existing = self.client.find_invoice(number)
            if existing is not None:
                return self._adopt_invoice(
                    existing,
                    fields,
                    contact_id,
                    "found in Xero after an uncertain earlier attempt; adopted it",
                )
        try:
            created = self.client.create_invoice(body, self._key(message, OP_INVOICE, body))
        except XeroDuplicateNumberError as exc:
            existing = self.client.find_invoice(number)
            if existing is None:
                raise
            if not _same_contact(existing, contact_id):
                raise XeroRejectedError(
                    [
                        *exc.messages,
                        f"Xero already has an invoice numbered {number} for another contact "
                        f"({_contact_name(existing)}); syncledger did not create it. Renumber "
                        "or remove one of them.",
                    ]
                ) from exc
            return self._adopt_invoice(
                existing, fields, contact_id, "Xero already had this invoice number; adopted it"
            )
        status = created.get("Status", body["Status"])
        return Succeeded(
            str(created["InvoiceID"]),
            fields,
            f"invoice {number} created in Xero ({status}, total {created.get('Total', '?')})",
        )

    def _adopt_invoice(
        self, existing: Mapping[str, Any], fields: InvoiceFields, contact_id: str, how: str
    ) -> Outcome:
        if existing.get("Status") in ("VOIDED", "DELETED"):
            raise XeroRejectedError(
                [f"invoice {fields.invoice_number} exists in Xero but is {existing.get('Status')}"]
            )
        if not _same_contact(existing, contact_id):
            raise XeroRejectedError(
                [
                    f"Xero already has an invoice numbered {fields.invoice_number} for another "
                    f"contact ({_contact_name(existing)})"
                ]
            )
        return Succeeded(
            str(existing["InvoiceID"]),
            fields,
            f"invoice {fields.invoice_number} {how}",
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

    def _payment(self, message: Message, payment: Payment, org: Organisation) -> Outcome:
        if payment.xero_payment_id is not None:
            return Skipped("already in Xero")
        fields = payment.fields
        if fields is None or not payment.is_paid or payment.paid_at is None:
            return Skipped("not paid in OpenSolar")
        invoice_doc = payment.invoice_document
        invoice = self.ledger.document(invoice_doc) if invoice_doc else None
        if not isinstance(invoice, Invoice) or invoice.xero_invoice_id is None:
            number = invoice.number if isinstance(invoice, Invoice) else fields.invoice_id
            return Waiting(f"waiting for invoice {number}")
        body = payment_payload(
            fields, payment.opensolar_id, org, invoice.xero_invoice_id, payment.paid_at.date()
        )
        if message.uncertain:
            for existing in self.client.find_payments(body["Reference"]):
                same_invoice = (existing.get("Invoice") or {}).get(
                    "InvoiceID"
                ) == invoice.xero_invoice_id
                if same_invoice and Decimal(str(existing.get("Amount"))) == fields.amount:
                    return Succeeded(
                        str(existing["PaymentID"]),
                        fields,
                        f"payment of {fields.amount:.2f} found in Xero after an uncertain earlier "
                        f"attempt; adopted it",
                    )
        created = self.client.create_payment(body, self._key(message, OP_PAYMENT, body))
        due = (created.get("Invoice") or {}).get("AmountDue")
        tail = f", amount due now {due}" if due is not None else ""
        return Succeeded(
            str(created["PaymentID"]),
            fields,
            f"payment of {fields.amount:.2f} applied to {invoice.number}{tail}",
        )


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
