"""What differs between invoices and credit notes (``Kind``: types, collection and field names,
number prefix, Xero's messages), the two kinds, and what every module handling either shares:
Xero's messages about them, their indexes, and ``find`` (a document by id or number)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from syncledger.sandbox import wire
from syncledger.sandbox.model import Document, Invoice, Organisation, name_key


@dataclass(frozen=True)
class Kind:
    """What differs between invoices and credit notes."""

    label: str
    types: frozenset[str]
    sales_types: frozenset[str]
    unique_types: frozenset[str]
    collection: str
    number_field: str
    id_field: str
    prefix: str
    duplicate_message: str
    allow_discount: bool
    void_blocked: str


INVOICE = Kind(
    label="Invoice",
    types=frozenset({"ACCREC", "ACCPAY"}),
    sales_types=frozenset({"ACCREC"}),
    unique_types=frozenset({"ACCREC"}),
    collection="Invoices",
    number_field="InvoiceNumber",
    id_field="InvoiceID",
    prefix="INV-",
    duplicate_message="Invoice # must be unique.",
    allow_discount=True,
    void_blocked=(
        "Invoice cannot be voided because it has payments or credit notes allocated to it."
    ),
)
CREDIT_NOTE = Kind(
    label="Credit note",
    types=frozenset({"ACCRECCREDIT", "ACCPAYCREDIT"}),
    sales_types=frozenset({"ACCRECCREDIT"}),
    unique_types=frozenset({"ACCRECCREDIT"}),
    collection="CreditNotes",
    number_field="CreditNoteNumber",
    id_field="CreditNoteID",
    prefix="CN-",
    duplicate_message="Credit Note # must be unique.",
    allow_discount=False,
    void_blocked="Credit note cannot be voided because it has been allocated or refunded.",
)


def not_subscribed(code: object) -> str:
    """Xero's message for a document in a currency the organisation has not enabled."""
    return f"Organisation is not subscribed to currency {code}"


def not_modifiable(kind: Kind) -> str:
    """Xero's message for a change the document's status does not allow."""
    return f"{kind.label} not of valid status for modification"


def doc_id(doc: Document) -> str:
    """The document's InvoiceID or CreditNoteID."""
    return doc.invoice_id if isinstance(doc, Invoice) else getattr(doc, "credit_note_id", "")


def store_of(org: Organisation, kind: Kind) -> dict[str, Any]:
    """The organisation's documents of this kind, by id."""
    return org.invoices if kind is INVOICE else org.credit_notes


def numbers_of(org: Organisation, kind: Kind) -> dict[str, str]:
    """Which document holds each number of this kind (by ``name_key``)."""
    return org.invoice_numbers if kind is INVOICE else org.credit_note_numbers


def find(org: Organisation, kind: Kind, ident: str) -> Document | None:
    """A document by its id, or else by its number (case-insensitive)."""
    store = store_of(org, kind)
    ident = ident.strip()
    if wire.is_guid(ident):
        by_id: Document | None = store.get(ident.lower())
        return by_id
    owner = numbers_of(org, kind).get(name_key(ident))
    if owner is not None:
        by_number: Document | None = store.get(owner)
        return by_number
    wanted = name_key(ident)
    for doc in store.values():
        if doc.number is not None and name_key(doc.number) == wanted:
            result: Document = doc
            return result
    return None
