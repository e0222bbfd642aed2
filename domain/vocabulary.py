"""The ledger's words, defined once: document kinds, operations sent to Xero, statuses, failure
categories, attempt outcomes and the ways an invoice's life in Xero ends.

Each is a ``StrEnum`` whose values are the strings stored in events and tables and printed by the
CLI, so a member compares equal to (and serialises as) the text older code wrote.
"""

from __future__ import annotations

from enum import StrEnum


class DocumentKind(StrEnum):
    """The two kinds of OpenSolar document the ledger follows."""

    INVOICE = "invoice"
    PAYMENT = "payment"


class Operation(StrEnum):
    """What one outbox message asks Xero to do for a document."""

    INVOICE = "invoice"
    INVOICE_UPDATE = "invoice_update"
    CREDIT_NOTE = "credit_note"
    PAYMENT = "payment"
    PAYMENT_DELETE = "payment_delete"


class Status(StrEnum):
    """A document's sync status, as the status projection derives it."""

    SYNCED = "Synced"
    PENDING = "Pending"
    NOT_ATTEMPTED = "Not Attempted"
    FAILED = "Failed"


class FailureCategory(StrEnum):
    """Why an attempt failed: the retry policy's categories, then the ledger's own.

    The first eight come from a Xero call (or the lack of one) and decide retrying; the last
    three are the ledger's own verdicts on a document's state."""

    TRANSIENT = "transient"
    UNCERTAIN = "uncertain"
    REJECTED = "rejected"
    CONFIGURATION = "configuration"
    RATE_LIMITED = "rate_limited"
    DAILY_LIMIT = "daily_limit"
    AUTHENTICATION = "authentication"
    INTERNAL = "internal"
    BLOCKED = "blocked"
    """The document cannot go to Xero as things stand; the reason says what to change."""
    FOLLOWS_INVOICE = "follows_invoice"
    """A payment held back by its invoice; lifted as soon as that no longer holds."""
    AMENDMENT = "amendment"
    """OpenSolar changed something Xero cannot take on the invoice it holds."""


class AttemptOutcome(StrEnum):
    """How one recorded delivery attempt ended."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


class Cancellation(StrEnum):
    """What ended an invoice's life in Xero."""

    CREDITED = "credited"
    DRAFT_DELETED = "draft_deleted"
    VOIDED_IN_XERO = "voided_in_xero"
    DELETED_IN_XERO = "deleted_in_xero"
