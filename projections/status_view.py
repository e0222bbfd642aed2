"""The status as shown: why a document is where it is (composed when read, from its row, its
invoice's row and its organisation's connection), the ``status --json`` object, the filter a
status query takes, and amounts as the table prints them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from domain.vocabulary import DocumentKind, Operation, Status
from projections.status_rules import OrgRow, StatusRow


def reason(row: StatusRow, invoice: StatusRow | None, org: OrgRow | None) -> str | None:
    """Why a document is where it is, in words, from its row and the rows it depends on."""
    if (
        row.status == Status.PENDING
        and row.kind == DocumentKind.PAYMENT
        and row.operation == Operation.PAYMENT
    ):
        if invoice is None or not invoice.visible:
            return "waiting for its invoice: not received from OpenSolar yet"
        if invoice.xero_id is None:
            if invoice.status == Status.NOT_ATTEMPTED and invoice.cancelled:
                return f"waiting for invoice {invoice.number}: it was cancelled before it was sent"
            if invoice.status == Status.NOT_ATTEMPTED:
                return (
                    f"waiting for invoice {invoice.number} (Not Attempted: run "
                    f"`syncledger sync {invoice.number}`)"
                )
            if invoice.status == Status.FAILED:
                return f"waiting for invoice {invoice.number} (Failed: {invoice.error})"
            return f"waiting for invoice {invoice.number}"
    if row.status == Status.NOT_ATTEMPTED and row.note is None and not row.visible:
        if row.kind == DocumentKind.INVOICE:
            return "a draft in OpenSolar (not issued yet): nothing to send"
        return "not paid in OpenSolar: nothing to send"
    if row.status == Status.NOT_ATTEMPTED and row.note is None:
        if org is None or org.connected_at is None:
            return f"organisation {row.org} is not connected to Xero"
        verb = "issued" if row.kind == DocumentKind.INVOICE else "paid"
        since = datetime.fromisoformat(org.connected_at).strftime("%Y-%m-%d %H:%M UTC")
        name = row.number if row.kind == DocumentKind.INVOICE else row.document
        return (
            f"{verb} before the Xero connection ({since}); run `syncledger sync {name}` to send it"
        )
    if row.status == Status.PENDING and org is not None and org.connected_at is None:
        return f"Xero connection lost: run `syncledger connect {row.org}`"
    if row.status == Status.PENDING and row.note is None:
        return "queued for delivery"
    return row.note


def shown(row: StatusRow, invoice: StatusRow | None) -> StatusRow:
    """The row as shown: a payment takes its customer and project from its invoice."""
    if row.kind != DocumentKind.PAYMENT or invoice is None:
        return row
    return dataclasses.replace(
        row, customer=row.customer or invoice.customer, project=row.project or invoice.project
    )


@dataclass(frozen=True)
class StatusView:
    """A row as shown to users: the row plus its composed reason."""

    row: StatusRow
    reason: str | None

    def as_json(self) -> dict[str, Any]:
        """The ``status --json`` object (field names are a public interface: fields are added,
        never renamed)."""
        row = self.row
        return {
            "org": row.org,
            "document": row.document,
            "kind": row.kind,
            "number": row.number,
            "status": row.status,
            "error": row.error,
            "reason": self.reason,
            "xero_id": row.xero_id,
            "credit_note_id": row.credit_note_id,
            "project": row.project,
            "customer": row.customer,
            "amount": row.amount,
            "currency": row.currency,
            "date": row.doc_date,
            "attempts": row.attempts,
            "updated_at": row.updated_at,
            "action": row.action if row.status == Status.FAILED else None,
            "xero_number": row.xero_number,
            "amount_due": row.amount_due,
            "refund_due": row.refund_due,
            "credited": row.credited,
            "contact": row.contact,
        }


@dataclass(frozen=True)
class StatusFilter:
    """Which rows a status query returns."""

    org: str | None = None
    project: str | None = None
    status: str | None = None
    kind: str | None = None
    include_hidden: bool = False


def money(value: str | None) -> str:
    """An amount for the table: thousands separators, two places."""
    if value is None:
        return ""
    return f"{Decimal(value):,.2f}"
