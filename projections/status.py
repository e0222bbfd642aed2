"""The status projection: one row per document, Synced | Pending | Not Attempted | Failed.

``next_row`` (in ``status_rules``) is the pure rule that moves a row on by one event;
``StatusProjection`` here folds batches of the log with it through a ``StatusStore`` (one
implementation over every backend, ``status_table``). Rows hold facts from
the log only; the human reason a document waits ("waiting for invoice INV-00019", "issued before
the Xero connection") is composed when the rows are read, from the row, its invoice's row and its
organisation's connection (``status_view``), so it is always current and a rebuild reproduces it
exactly.

Once a document is in Xero its row shows what Xero holds: the invoice's number there, its total
(tax included), what payments and credit took off it (the amount due), a refund due after a
cancellation, and the contact. A Failed row carries its reason and the action a person can take.
A payment waiting for an invoice that is Failed is Failed too ("blocked"), because nothing will
move until someone fixes the invoice; it goes back to Pending once the invoice does.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterator, Sequence
from decimal import Decimal
from typing import Any

from domain.documents import Document, Invoice
from domain.organisation import Organisation
from domain.vocabulary import DocumentKind, Status
from projections.base import ProjectionStore, Recorded, StoredProjection
from projections.status_rules import (
    COLUMNS,
    OrgRow,
    StatusRow,
    blocked_view,
    new_row,
    next_org,
    next_row,
    paid_changes,
)
from projections.status_view import StatusFilter, StatusView, money, reason, shown

# The statuses under their old names, typed as text as before, for callers not yet on ``Status``.
STATUSES: tuple[str, ...] = tuple(status.value for status in Status)
"""The statuses in their display order, as plain text (``click.Choice`` names enum members by
their Python name, so choices and messages take these)."""


class StatusBatch(ABC):
    """Rows and position inside one projection transaction (per backend)."""

    position: int

    @abstractmethod
    def load_many(self, doc_ids: Collection[str]) -> dict[str, StatusRow]:
        """The rows of these documents that exist (one query per few hundred)."""

    @abstractmethod
    def load_org(self, key: str) -> OrgRow | None: ...

    @abstractmethod
    def payments_of(self, invoice_docs: Collection[str]) -> dict[str, StatusRow]:
        """The payment rows against these invoices, by document id."""

    @abstractmethod
    def save(self, rows: Sequence[StatusRow], orgs: Sequence[OrgRow], position: int) -> None:
        """Write rows and organisations and move the position, in this transaction."""


class StatusStore(ProjectionStore[StatusBatch]):
    """Storage of the status projection (one implementation per backend)."""

    @abstractmethod
    def rows(self, where: StatusFilter) -> Iterator[StatusView]:
        """Rows matching a filter, each with its reason, in a stable order."""

    @abstractmethod
    def find(self, reference: str, org: str | None) -> list[StatusRow]:
        """Rows matching a document reference: ``INV-00019``, ``invoice:1042`` or an id."""

    @abstractmethod
    def payments_of(self, invoice_doc: str) -> list[StatusRow]:
        """The payment rows against one invoice."""

    @abstractmethod
    def organisations(self) -> list[OrgRow]:
        """Every organisation the log has named, with its connection."""

    @abstractmethod
    def counts(self) -> dict[str, int]:
        """How many visible documents are in each status."""


class StatusProjection(StoredProjection[StatusStore, StatusBatch]):
    """Folds the log into the status table, batch by batch."""

    name = "status"

    def fold(self, batch: StatusBatch, recorded: Sequence[Recorded]) -> None:
        rows: dict[str, StatusRow | None] = {}
        orgs: dict[str, OrgRow | None] = {}
        needed = _rows_to_load(recorded)
        found = batch.load_many(needed)
        rows.update({doc_id: found.get(doc_id) for doc_id in needed})
        for item in recorded:
            self._apply(batch, rows, orgs, item.event)
        follow_payments(batch, rows, found)
        batch.save(
            [r for r in rows.values() if r is not None],
            [o for o in orgs.values() if o is not None],
            recorded[-1].position,
        )

    @staticmethod
    def _apply(
        batch: StatusBatch,
        rows: dict[str, StatusRow | None],
        orgs: dict[str, OrgRow | None],
        event: Any,
    ) -> None:
        if isinstance(event, Organisation.Event):
            key = str(event.originator_id)
            if key not in orgs:
                orgs[key] = batch.load_org(key)
            orgs[key] = next_org(orgs[key], event)
            return
        if not isinstance(event, Document.Event):
            return
        doc_id = str(event.originator_id)
        if isinstance(event, Document.Received):
            kind = (
                DocumentKind.INVOICE if isinstance(event, Invoice.Event) else DocumentKind.PAYMENT
            )
            rows[doc_id] = new_row(event, kind)
            return
        row = rows.get(doc_id)  # loaded before the batch (``_rows_to_load``), or None
        if row is not None:
            rows[doc_id] = next_row(row, event)


def follow_payments(
    batch: StatusBatch, rows: dict[str, StatusRow | None], before: dict[str, StatusRow]
) -> None:
    """What payments changed in a batch mean for their invoices (money applied in Xero), and
    what invoices changed mean for their payments (blocked while a waited-for invoice is
    Failed). Rows are loaded as needed and updated in ``rows``."""
    changes: list[tuple[str, Decimal]] = []
    for doc_id, row in list(rows.items()):
        if row is not None and row.kind == DocumentKind.PAYMENT:
            changes.extend(paid_changes(before.get(doc_id), row))
    invoices = {i for i, _ in changes}
    invoices |= {
        r.invoice_doc
        for r in rows.values()
        if r and r.kind == DocumentKind.PAYMENT and r.invoice_doc
    }
    missing = [i for i in invoices if i not in rows]
    rows.update(batch.load_many(missing))
    for invoice_id, amount in changes:
        invoice = rows.get(invoice_id)
        if invoice is not None:
            paid = Decimal(invoice.paid or "0") + amount
            rows[invoice_id] = dataclasses.replace(invoice, paid=str(paid))
    changed_invoices = [
        doc_id
        for doc_id, row in rows.items()
        if row is not None and row.kind == DocumentKind.INVOICE and before.get(doc_id) != row
    ]
    for doc_id, payment in batch.payments_of(changed_invoices).items():
        if doc_id not in rows:
            invoice = rows.get(payment.invoice_doc) if payment.invoice_doc else None
            shown_now = blocked_view(payment, invoice)
            if shown_now != payment:
                rows[doc_id] = shown_now
    for doc_id, row in list(rows.items()):
        if row is not None and row.kind == DocumentKind.PAYMENT:
            invoice = rows.get(row.invoice_doc) if row.invoice_doc else None
            rows[doc_id] = blocked_view(row, invoice)


def _rows_to_load(recorded: Sequence[Recorded]) -> set[str]:
    """The documents whose rows a batch changes without first receiving them anew."""
    received: set[str] = set()
    needed: set[str] = set()
    for item in recorded:
        event = item.event
        if isinstance(event, Document.Event):
            doc_id = str(event.originator_id)
            if isinstance(event, Document.Received):
                received.add(doc_id)
            elif doc_id not in received:
                needed.add(doc_id)
    return needed


__all__ = [
    "COLUMNS",
    "STATUSES",
    "OrgRow",
    "StatusBatch",
    "StatusFilter",
    "StatusProjection",
    "StatusRow",
    "StatusStore",
    "StatusView",
    "blocked_view",
    "follow_payments",
    "money",
    "new_row",
    "next_org",
    "next_row",
    "paid_changes",
    "reason",
    "shown",
]
