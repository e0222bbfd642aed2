"""The Xero Accounting API client: the named calls syncledger makes for one tenant (the
organisation's settings, contacts, invoices, credit notes, payments), over ``XeroTransport``.

Every call is reported to ``on_call`` as a ``CallRecord`` (operation, idempotency key, a summary of
the request and of Xero's answer, status and duration, and which documents each part of it was
for) so the ledger can record it on exactly those documents. ``owners`` arguments name the ledger
documents a call (or each of its entries) serves. Failures raise the classified errors of
``outbox.xero.errors``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from outbox.xero.answers import GONE, Element, every, first
from outbox.xero.shapes import (
    FOUR_DECIMALS,
    Lookup,
    Owners,
    XeroCalls,
    batch,
    document_summary,
    listed,
    quote,
    where,
)


def _contact_summary(body: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": body.get("Name"), "email": body.get("EmailAddress")}


_EMAILS = Lookup(
    "find_contacts", "/Contacts", "emails", "EmailAddress", "where", where("EmailAddress")
)
_NAMES = Lookup("find_contacts", "/Contacts", "names", "Name", "where", where("Name"))
_NUMBERS = Lookup(
    "find_invoices", "/Invoices", "numbers", "InvoiceNumber", "InvoiceNumbers", listed, page=True
)
_IDS = Lookup("get_invoices", "/Invoices", "ids", "InvoiceID", "IDs", listed, page=True)
_REFERENCES = Lookup(
    "find_payments", "/Payments", "references", "Reference", "where", where("Reference")
)


class XeroClient(XeroCalls):
    """Calls Xero's Accounting API for one tenant."""

    # the organisation -------------------------------------------------------------------------

    def organisation(self, owners: Sequence[str] = ()) -> dict[str, Any]:
        """The Xero organisation (its name, base currency, lock dates)."""
        return first(self._read("get_organisation", "/Organisation", owners), "Organisations")

    def currencies(self, owners: Sequence[str] = ()) -> list[str]:
        """The currency codes the organisation has enabled."""
        data = self._read("get_currencies", "/Currencies", owners)
        return [str(c.get("Code")) for c in every(data, "Currencies") if c.get("Code")]

    def tax_rates(self, owners: Sequence[str] = ()) -> list[dict[str, Any]]:
        """The organisation's tax rates."""
        return every(self._read("get_tax_rates", "/TaxRates", owners), "TaxRates")

    def accounts(self, owners: Sequence[str] = ()) -> list[dict[str, Any]]:
        """The organisation's chart of accounts."""
        return every(self._read("list_accounts", "/Accounts", owners), "Accounts")

    # contacts ---------------------------------------------------------------------------------

    def find_contacts(
        self, *, email: str | None = None, name: str | None = None, owners: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        """Active contacts whose email (or name) equals the one given, case-insensitively."""
        if email:
            clause = f'EmailAddress=="{quote(email)}"'
        elif name:
            clause = f'Name=="{quote(name)}"'
        else:
            return []
        summary = {"email": email, "name": name}
        return self._search("find_contact", "/Contacts", {"where": clause}, summary, owners)

    def find_contacts_by_emails(
        self, emails: list[str], owners: Owners | None = None
    ) -> list[dict[str, Any]]:
        """Active contacts whose email is any of ``emails`` (one call: a ``where`` with ORs)."""
        return self._lookup(_EMAILS, emails, owners)

    def find_contacts_by_names(
        self, names: list[str], owners: Owners | None = None
    ) -> list[dict[str, Any]]:
        """Active contacts whose name is any of ``names`` (one call)."""
        return self._lookup(_NAMES, names, owners)

    def create_contacts(
        self, bodies: list[dict[str, Any]], key: str, owners: Owners | None = None
    ) -> list[Element]:
        """Create several contacts in one call; one outcome per contact, in order."""
        summary = batch(bodies, _contact_summary)
        return self._create_many("create_contacts", "Contacts", bodies, key, owners, summary)

    def create_contact(
        self, body: dict[str, Any], key: str, owners: Sequence[str] = ()
    ) -> dict[str, Any]:
        """Create one contact."""
        summary = _contact_summary(body)
        return self._write_one(
            "create_contact", "/Contacts", "Contacts", body, key, summary, owners
        )

    # invoices ---------------------------------------------------------------------------------

    def find_invoice(self, number: str, owners: Sequence[str] = ()) -> dict[str, Any] | None:
        """The ACCREC invoice with this number, if Xero has one (voided and deleted ones too)."""
        params = {"InvoiceNumbers": number}
        invoices = self._search("find_invoice", "/Invoices", params, {"number": number}, owners)
        found = [i for i in invoices if i.get("Type", "ACCREC") == "ACCREC"]
        live = [i for i in found if i.get("Status") not in GONE]
        candidates = live or found
        return candidates[0] if candidates else None

    def find_invoices(
        self, numbers: list[str], owners: Owners | None = None
    ) -> list[dict[str, Any]]:
        """The ACCREC invoices with any of these numbers, with their lines (one call)."""
        found = self._lookup(_NUMBERS, numbers, owners)
        return [i for i in found if i.get("Type", "ACCREC") == "ACCREC"]

    def get_invoices(self, ids: list[str], owners: Owners | None = None) -> list[dict[str, Any]]:
        """The invoices with these InvoiceIDs, with their lines (one call)."""
        return self._lookup(_IDS, ids, owners)

    def create_invoices(
        self, bodies: list[dict[str, Any]], key: str, owners: Owners | None = None
    ) -> list[Element]:
        """Create several invoices in one call; one outcome per invoice, in order."""
        summary = batch(bodies, lambda b: document_summary(b, "InvoiceNumber"))
        return self._create_many(
            "create_invoices", "Invoices", bodies, key, owners, summary, FOUR_DECIMALS
        )

    def get_invoice(self, invoice_id: str, owners: Sequence[str] = ()) -> dict[str, Any]:
        """One invoice by InvoiceID."""
        data = self._call(
            "get_invoice",
            "GET",
            f"/Invoices/{invoice_id}",
            summary={"invoice_id": invoice_id},
            owners=owners,
        )
        return first(data, "Invoices")

    def create_invoice(
        self, body: dict[str, Any], key: str, owners: Sequence[str] = ()
    ) -> dict[str, Any]:
        """Create one invoice."""
        summary = document_summary(body, "InvoiceNumber")
        return self._write_one(
            "create_invoice", "/Invoices", "Invoices", body, key, summary, owners, FOUR_DECIMALS
        )

    def update_invoice(
        self, invoice_id: str, body: dict[str, Any], key: str, owners: Sequence[str] = ()
    ) -> dict[str, Any]:
        """Edit one invoice (its lines, dates, reference; or its status to DELETED)."""
        summary = {"invoice_id": invoice_id, **document_summary(body, "InvoiceNumber")}
        return self._write_one(
            "update_invoice",
            f"/Invoices/{invoice_id}",
            "Invoices",
            body,
            key,
            summary,
            owners,
            {"unitdp": "4"},
            "POST",
        )

    # credit notes -----------------------------------------------------------------------------

    def find_credit_note(self, number: str, owners: Sequence[str] = ()) -> dict[str, Any] | None:
        """The credit note with this number, if Xero has one."""
        params = {"where": f'CreditNoteNumber=="{quote(number)}"'}
        found = self._search("find_credit_note", "/CreditNotes", params, {"number": number}, owners)
        live = [c for c in found if c.get("Status") not in GONE]
        return live[0] if live else None

    def create_credit_note(
        self, body: dict[str, Any], key: str, owners: Sequence[str] = ()
    ) -> dict[str, Any]:
        """Create one credit note."""
        summary = document_summary(body, "CreditNoteNumber")
        return self._write_one(
            "create_credit_note",
            "/CreditNotes",
            "CreditNotes",
            body,
            key,
            summary,
            owners,
            FOUR_DECIMALS,
        )

    def allocate_credit_note(
        self, credit_note_id: str, body: dict[str, Any], key: str, owners: Sequence[str] = ()
    ) -> dict[str, Any]:
        """Allocate part of a credit note to an invoice."""
        summary = {
            "credit_note_id": credit_note_id,
            "invoice_id": body["Invoice"]["InvoiceID"],
            "amount": str(body["Amount"]),
        }
        path = f"/CreditNotes/{credit_note_id}/Allocations"
        return self._write_one(
            "allocate_credit_note", path, "Allocations", body, key, summary, owners
        )

    # payments ---------------------------------------------------------------------------------

    def find_payments(self, reference: str, owners: Sequence[str] = ()) -> list[dict[str, Any]]:
        """Payments with this Reference (ours name the OpenSolar payment)."""
        params = {"where": f'Reference=="{quote(reference)}"'}
        summary = {"reference": reference}
        found = self._search("find_payment", "/Payments", params, summary, owners)
        return [p for p in found if p.get("Status") != "DELETED"]

    def find_payments_by_references(
        self, references: list[str], owners: Owners | None = None
    ) -> list[dict[str, Any]]:
        """Payments with any of these References (one call)."""
        found = self._lookup(_REFERENCES, references, owners)
        return [p for p in found if p.get("Status") != "DELETED"]

    def create_payments(
        self, bodies: list[dict[str, Any]], key: str, owners: Owners | None = None
    ) -> list[Element]:
        """Apply several payments in one call; one outcome per payment, in order."""
        summary = batch(
            bodies,
            lambda b: {
                "invoice_id": b["Invoice"].get("InvoiceID"),
                "amount": str(b["Amount"]),
                "reference": b.get("Reference"),
            },
        )
        return self._create_many("create_payments", "Payments", bodies, key, owners, summary)

    def create_payment(
        self, body: dict[str, Any], key: str, owners: Sequence[str] = ()
    ) -> dict[str, Any]:
        """Apply one payment to an invoice."""
        summary = {
            "invoice_id": body["Invoice"].get("InvoiceID"),
            "account": body["Account"].get("Code"),
            "amount": str(body["Amount"]),
            "date": body.get("Date"),
            "reference": body.get("Reference"),
        }
        return self._write_one(
            "create_payment", "/Payments", "Payments", body, key, summary, owners
        )

    def delete_payment(
        self, payment_id: str, key: str, owners: Sequence[str] = ()
    ) -> dict[str, Any]:
        """Delete a payment (Xero's only change to a payment)."""
        data = self._call(
            "delete_payment",
            "POST",
            f"/Payments/{payment_id}",
            body={"Status": "DELETED"},
            key=key,
            summary={"payment_id": payment_id, "status": "DELETED"},
            owners=owners,
        )
        return first(data, "Payments")
