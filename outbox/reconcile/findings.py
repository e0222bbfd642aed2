"""What a reconciliation reports: the kinds of finding (``Finding``, defined once), one
``Difference`` between Xero and the ledger, the ``Owner`` a stray Xero record can be traced to,
and the summary counting each kind.

Xero records are named by the operation that creates them (``Operation.INVOICE``,
``Operation.CREDIT_NOTE``, ``Operation.PAYMENT``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any


class Finding(StrEnum):
    """The ways Xero can differ from what the ledger implies."""

    MISSING = "missing"
    """The ledger holds it Synced; Xero does not have it."""
    VOIDED = "voided"
    """An invoice or credit note voided by hand in Xero."""
    DELETED = "deleted"
    """An invoice or credit note deleted by hand in Xero."""
    REMOVED = "removed"
    """A payment deleted by hand in Xero."""
    DUPLICATE = "duplicate"
    """A second record for one document."""
    UNEXPECTED = "unexpected"
    """A record syncledger created that the ledger no longer expects."""
    TOTAL_DIFFERS = "total_differs"
    """A total (or a payment's amount) differs from what the ledger sent."""
    AMOUNT_DUE_DIFFERS = "amount_due_differs"
    """An invoice's amount due differs from total - payments - credit allocated."""
    UNEXPLAINED = "unexplained"
    """A credit note or payment no document explains."""


CATEGORIES: tuple[Finding, ...] = tuple(Finding)


@dataclass(frozen=True)
class Difference:
    """One way Xero differs from what the ledger implies."""

    category: str
    record: str
    document: str | None
    number: str | None
    xero_id: str | None
    ledger: str | None
    xero: str | None
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "record": self.record,
            "document": self.document,
            "number": self.number,
            "xero_id": self.xero_id,
            "ledger": self.ledger,
            "xero": self.xero,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Owner:
    """A ledger document that created (or adopted) a Xero record."""

    aggregate_id: str
    document: str
    number: str


def money(value: Decimal | None) -> str | None:
    """An amount as the report writes it (two decimals), or None."""
    return f"{value:.2f}" if value is not None else None


def summarise(differences: Iterable[Difference]) -> dict[str, int]:
    """How many differences of each category (every category, zeros included)."""
    counts = Counter(d.category for d in differences)
    return {category.value: counts.get(category, 0) for category in CATEGORIES}
