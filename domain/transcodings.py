"""How the domain's values are written into stored events: compact JSON with amounts as strings.

Registered on the ledger's transcoder (and on any reader of its log) so that events keep typed
``Decimal``, ``date`` and change values through a round trip.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from eventsourcing.persistence import Transcoder, Transcoding

from domain.opensolar import Change, Customer, InvoiceFields, LineItem, PaymentFields


class DateAsISO(Transcoding):
    """A ``date`` as ``YYYY-MM-DD``."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


def _optional_date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


class CustomerAsDict(Transcoding):
    """A ``Customer`` as a small object."""

    type = Customer
    name = "os_customer"

    def encode(self, obj: Customer) -> dict[str, Any]:
        return {"id": obj.id, "name": obj.name, "email": obj.email}

    def decode(self, data: dict[str, Any]) -> Customer:
        return Customer(id=data["id"], name=data["name"], email=data["email"])


class LineItemAsList(Transcoding):
    """A ``LineItem`` as a five-element list (lines are the bulk of an invoice's bytes)."""

    type = LineItem
    name = "os_line"

    def encode(self, obj: LineItem) -> list[Any]:
        return [
            obj.category,
            obj.description,
            str(obj.quantity),
            str(obj.unit_amount),
            obj.tax_rate,
        ]

    def decode(self, data: list[Any]) -> LineItem:
        category, description, quantity, unit_amount, tax_rate = data
        return LineItem(category, description, Decimal(quantity), Decimal(unit_amount), tax_rate)


class InvoiceFieldsAsDict(Transcoding):
    """``InvoiceFields`` with dates and flags as plain JSON."""

    type = InvoiceFields
    name = "os_invoice"

    def encode(self, obj: InvoiceFields) -> dict[str, Any]:
        return {
            "number": obj.invoice_number,
            "status": obj.status,
            "project": obj.project_id,
            "issued": obj.issued_date.isoformat() if obj.issued_date else None,
            "due": obj.due_date.isoformat() if obj.due_date else None,
            "currency": obj.currency,
            "incl": obj.amounts_include_tax,
            "customer": obj.customer,
            "lines": list(obj.line_items),
            **({"total": str(obj.stated_total)} if obj.stated_total is not None else {}),
        }

    def decode(self, data: dict[str, Any]) -> InvoiceFields:
        return InvoiceFields(
            invoice_number=data["number"],
            status=data["status"],
            project_id=data["project"],
            issued_date=_optional_date(data["issued"]),
            due_date=_optional_date(data["due"]),
            currency=data["currency"],
            amounts_include_tax=data["incl"],
            customer=data["customer"],
            line_items=tuple(data["lines"]),
            stated_total=Decimal(data["total"]) if data.get("total") is not None else None,
        )


class PaymentFieldsAsDict(Transcoding):
    """``PaymentFields`` as plain JSON."""

    type = PaymentFields
    name = "os_payment"

    def encode(self, obj: PaymentFields) -> dict[str, Any]:
        return {
            "invoice": obj.invoice_id,
            "amount": str(obj.amount),
            "currency": obj.currency,
            "status": obj.status,
            "paid": obj.paid_date.isoformat() if obj.paid_date else None,
            "reference": obj.reference,
        }

    def decode(self, data: dict[str, Any]) -> PaymentFields:
        return PaymentFields(
            invoice_id=data["invoice"],
            amount=Decimal(data["amount"]),
            currency=data["currency"],
            status=data["status"],
            paid_date=_optional_date(data["paid"]),
            reference=data["reference"],
        )


class ChangeAsDict(Transcoding):
    """A whole OpenSolar ``Change`` as received (after validation)."""

    type = Change
    name = "os_change"

    def encode(self, obj: Change) -> dict[str, Any]:
        return {
            "event_id": obj.event_id,
            "timestamp": obj.timestamp,
            "org_id": obj.org_id,
            "model": obj.model,
            "model_id": obj.model_id,
            "event": obj.event,
            "fields": obj.fields,
        }

    def decode(self, data: dict[str, Any]) -> Change:
        return Change(
            event_id=data["event_id"],
            timestamp=data["timestamp"],
            org_id=data["org_id"],
            model=data["model"],
            model_id=data["model_id"],
            event=data["event"],
            fields=data["fields"],
        )


def register_domain_transcodings(transcoder: Transcoder) -> None:
    """Register every transcoding the domain's events need on ``transcoder``."""
    register = getattr(transcoder, "register")  # noqa: B009 (JSONTranscoder-only method)
    for transcoding in (
        DateAsISO(),
        CustomerAsDict(),
        LineItemAsList(),
        InvoiceFieldsAsDict(),
        PaymentFieldsAsDict(),
        ChangeAsDict(),
    ):
        register(transcoding)
