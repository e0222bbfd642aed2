"""Reconciliation with Xero: what Xero holds for one organisation (``records``, read by
``reader``), what the ledger implies it should hold (``implied``), and a pure comparison of the
two (``comparison``, ``strays``) reporting ``findings``:

    missing             the ledger holds it Synced; Xero does not have it
    voided / deleted    an invoice or credit note voided or deleted by hand in Xero
    removed             a payment deleted by hand in Xero
    duplicate           a second record for one document (same number, same contact, total and
                        reference, or a second payment naming the same OpenSolar payment)
    unexpected          a record syncledger created that the ledger no longer expects
    total_differs       a total (or a payment's amount) differs from what the ledger sent
    amount_due_differs  an invoice's amount due differs from total - payments - credit allocated
    unexplained         a credit note or payment no document explains: a payment on an invoice
                        the ledger holds, or a credit note for one of its invoices' contacts

Errors: ``ReconcileError`` (an ``OutboxError``) when Xero cannot be read completely.
"""

from __future__ import annotations

from outbox.reconcile.comparison import Comparison, Fetch
from outbox.reconcile.findings import CATEGORIES, Difference, Finding, Owner, summarise
from outbox.reconcile.implied import (
    CENT,
    ZERO,
    LedgerInvoice,
    LedgerPayment,
    SentLine,
    expected_total,
    implied_invoice,
    implied_payment,
    round_money,
)
from outbox.reconcile.reader import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    Progress,
    ReconcileError,
    XeroReader,
)
from outbox.reconcile.records import (
    XeroCreditNote,
    XeroInvoice,
    XeroPayment,
    XeroRecord,
    XeroSnapshot,
    parse_credit_note,
    parse_invoice,
    parse_payment,
    xero_date,
)
from outbox.xero.answers import GONE

__all__ = [
    "CATEGORIES",
    "CENT",
    "DEFAULT_PAGE_SIZE",
    "GONE",
    "MAX_PAGE_SIZE",
    "ZERO",
    "Comparison",
    "Difference",
    "Fetch",
    "Finding",
    "LedgerInvoice",
    "LedgerPayment",
    "Owner",
    "Progress",
    "ReconcileError",
    "SentLine",
    "XeroCreditNote",
    "XeroInvoice",
    "XeroPayment",
    "XeroReader",
    "XeroRecord",
    "XeroSnapshot",
    "expected_total",
    "implied_invoice",
    "implied_payment",
    "parse_credit_note",
    "parse_invoice",
    "parse_payment",
    "round_money",
    "summarise",
    "xero_date",
]
