"""``audit reconcile``: read what Xero holds for one organisation's tenant, walk the ledger's
invoices (each with its payments) through the audit index, compare, and record that the
reconciliation ran. The Xero side is held compactly in memory (ids, numbers, statuses, amounts);
the ledger side is streamed one invoice group at a time."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from domain.errors import DomainError
from domain.vocabulary import DocumentKind, Operation
from outbox.reconcile import (
    Comparison,
    Difference,
    LedgerInvoice,
    LedgerPayment,
    Owner,
    Progress,
    XeroReader,
    implied_invoice,
    implied_payment,
    summarise,
)
from outbox.xero import CallRecord
from projections.audit import DocumentRef
from syncledger.audit.queries import Audit


class NotReconcilableError(DomainError):
    """The organisation cannot be reconciled (unknown, or not connected to Xero)."""


@dataclass
class ReconcileReport:
    """What a reconciliation compared and what differed."""

    org: str
    tenant_id: str
    differences: list[Difference]
    checked: dict[str, int]
    xero: dict[str, int]
    calls: int
    waited_seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def summary(self) -> dict[str, int]:
        """How many differences of each category."""
        return summarise(self.differences)

    def as_json(self) -> dict[str, Any]:
        return {
            "org": self.org,
            "tenant_id": self.tenant_id,
            "differences_count": len(self.differences),
            "summary": self.summary,
            "checked": self.checked,
            "xero": self.xero,
            "calls": self.calls,
            "waited_seconds": round(self.waited_seconds, 1),
            "notes": self.notes,
            "differences": [d.as_json() for d in self.differences],
        }


def _groups(refs: Iterator[DocumentRef]) -> Iterator[list[DocumentRef]]:
    group: list[DocumentRef] = []
    for ref in refs:
        if group and ref.group_key != group[0].group_key:
            yield group
            group = []
        group.append(ref)
    if group:
        yield group


def reconcile(
    audit: Audit,
    org_id: str,
    *,
    since: date | None = None,
    until: date | None = None,
    page_size: int = 100,
    max_wait: float = 120.0,
    on_page: Progress | None = None,
    on_documents: Callable[[int, int], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    record: bool = True,
) -> ReconcileReport:
    """Compare one organisation's ledger with its Xero tenant (documents dated in
    ``[since, until)`` when given) and record that the reconciliation ran."""
    system = audit.system
    organisation = system.ledger.organisation(org_id)
    if organisation is None:
        raise NotReconcilableError(f"organisation {org_id} is not known to this ledger")
    connection = organisation.connection
    if connection is None:
        raise NotReconcilableError(
            f"organisation {org_id} is not connected to Xero: run `syncledger connect {org_id}`"
        )
    audit.refresh()

    def ignore(record: CallRecord) -> None:
        """Reconciliation reads are not part of any document's history."""

    client = system.xero_client(organisation, ignore)
    reader = XeroReader(
        client, page_size=page_size, max_wait=max_wait, on_page=on_page, sleep=sleep
    )
    snapshot = reader.snapshot(since, until)
    comparison = Comparison(snapshot, fetch=reader.fetch)
    differences: list[Difference] = []
    total = audit.store.count_documents(org_id)
    done = 0
    windowed = since is not None or until is not None
    for group in _groups(
        audit.store.groups(
            org_id,
            since.isoformat() if since else None,
            until.isoformat() if until else None,
        )
    ):
        invoice: LedgerInvoice | None = None
        payments: list[LedgerPayment] = []
        for ref in group:
            events = system.ledger.events_of(UUID(ref.aggregate_id))
            if ref.kind == DocumentKind.INVOICE:
                invoice = implied_invoice(events)
            else:
                payment = implied_payment(events)
                if payment is not None:
                    payments.append(payment)
        differences.extend(comparison.group(invoice, payments))
        done += len(group)
        if on_documents is not None:
            on_documents(done, total)
    owners = {
        xero_id: Owner(ref.aggregate_id, ref.document or ref.aggregate_id, ref.number)
        for xero_id, ref in audit.store.owners(org_id, comparison.unclaimed()).items()
    }
    differences.extend(comparison.finish(owners, comparison.seen if windowed else None))
    report = ReconcileReport(
        org=org_id,
        tenant_id=connection.tenant_id,
        differences=differences,
        checked={
            "invoices": comparison.checked[Operation.INVOICE],
            "credit_notes": comparison.checked[Operation.CREDIT_NOTE],
            "payments": comparison.checked[Operation.PAYMENT],
        },
        xero=snapshot.counts(),
        calls=reader.calls,
        waited_seconds=reader.waited,
        notes=list(snapshot.notes),
    )
    if record:
        system.ledger.record_reconciliation(org_id, connection.tenant_id, report.summary)
    return report


__all__ = ["NotReconcilableError", "ReconcileReport", "reconcile"]
