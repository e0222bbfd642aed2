"""Asking for deliveries: ``sync`` requests Not Attempted documents (an invoice brings its paid
payments along), ``retry`` requests Failed ones again, and ``estimate`` says what a sync will cost
in Xero calls. Each request is an event appended to the log, with who asked; the outbox writer
turns it into a delivery.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from domain.errors import AmbiguousDocumentError, DocumentNotFoundError, InvalidRequestError
from domain.vocabulary import DocumentKind, Status
from domain.wording import counted
from projections.base import catch_up
from projections.status import StatusFilter, StatusRow
from syncledger.bootstrap import System
from syncledger.service.reading import refresh, resolve


@dataclass
class CommandReport:
    """What a sync or retry did, document by document."""

    done: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def _rows_for(
    system: System, references: Iterable[str], org: str | None, report: CommandReport
) -> list[StatusRow]:
    rows: list[StatusRow] = []
    for reference in references:
        try:
            rows.append(resolve(system, reference, org))
        except (DocumentNotFoundError, AmbiguousDocumentError) as exc:
            report.refused.append(str(exc))
    return rows


def _payments_last(row: StatusRow) -> bool:
    return row.kind != DocumentKind.INVOICE


def retry(
    system: System,
    references: Iterable[str],
    *,
    failed: bool,
    org: str | None,
    reason: str = "retry requested by a user",
) -> CommandReport:
    """Append a retry request for each Failed document named (or every Failed one); ``reason``
    (who asked, and where) is recorded with it."""
    refresh(system)
    report = CommandReport()
    if failed:
        rows = [
            v.row for v in system.status_store.rows(StatusFilter(org=org, status=Status.FAILED))
        ]
    else:
        rows = _rows_for(system, references, org, report)
    retried: set[str] = set()
    for row in sorted(rows, key=_payments_last):
        try:
            system.ledger.request_retry(UUID(row.doc_id), reason)
        except InvalidRequestError as exc:
            if row.invoice_doc in retried and _no_longer_failed(system, row):
                # retrying its invoice in this same command brought it back in line
                report.done.append(f"{row.number} ({row.document}): retried with its invoice")
            else:
                report.refused.append(str(exc))
        else:
            retried.add(row.doc_id)
            report.done.append(f"{row.number} ({row.document}): retry requested")
    return report


def _no_longer_failed(system: System, row: StatusRow) -> bool:
    catch_up(system.status, system.log)
    return all(
        found.status != Status.FAILED
        for found in system.status_store.find(row.document, row.org)
        if found.doc_id == row.doc_id
    )


@dataclass
class SyncPlan:
    """The documents a ``sync`` would request, and the references it could not use."""

    rows: list[StatusRow]
    refused: list[str]


def plan_sync(
    system: System,
    references: Iterable[str],
    *,
    not_attempted: bool,
    org: str | None,
    since: date | None = None,
) -> SyncPlan:
    """The Not Attempted documents to request: the ones named, or every one (of ``org``,
    dated on or after ``since``); invoices first, oldest first."""
    refresh(system)
    report = CommandReport()
    if not_attempted:
        rows = [
            v.row
            for v in system.status_store.rows(StatusFilter(org=org, status=Status.NOT_ATTEMPTED))
            if v.row.note is None and (since is None or (v.row.doc_date or "") >= since.isoformat())
        ]
        rows.sort(key=lambda r: (_payments_last(r), r.moment or "", r.number))
    else:
        rows = _rows_for(system, references, org, report)
    unique = list({r.doc_id: r for r in rows}.values())
    return SyncPlan(unique, report.refused)


def estimate(system: System, rows: Sequence[StatusRow]) -> list[str]:
    """How many Xero calls a sync will take per organisation, and how long at its limits."""
    lines: list[str] = []
    states = {s.org: s for s in system.org_state.all()}
    budget = system.settings.org_minute_budget
    window = system.settings.limit_window_seconds
    by_org: dict[str, list[StatusRow]] = {}
    for row in rows:
        by_org.setdefault(row.org, []).append(row)
    for org, docs in sorted(by_org.items()):
        customers = {r.email or r.customer for r in docs if r.kind == DocumentKind.INVOICE}
        calls = len(docs) + len(customers)
        minutes = calls / budget * window / 60
        state = states.get(org)
        day = state.day_remaining if state is not None else None
        text = (
            f"organisation {org}: {counted(len(docs), 'document')}, "
            f"about {counted(calls, 'Xero call')} "
            f"(up to {len(customers)} contact lookups), about {minutes:.1f} minutes at "
            f"{budget} calls a minute"
        )
        if day is not None:
            text += f"; Xero reported {day} calls left today"
            if calls > day:
                text += " (more than that: the rest waits for tomorrow's allowance)"
        lines.append(text)
    return lines


def sync(
    system: System,
    references: Iterable[str],
    *,
    not_attempted: bool,
    org: str | None,
    since: date | None = None,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
    reason: str = "sync requested by a user",
) -> CommandReport:
    """Request delivery of Not Attempted documents (named, or all of them); an invoice brings
    its Not Attempted paid payments along. ``reason`` (who asked) is recorded with each."""
    plan = plan_sync(system, references, not_attempted=not_attempted, org=org, since=since)
    report = CommandReport(refused=list(plan.refused))
    seen: set[str] = set()
    for row in plan.rows:
        if progress is not None:
            progress(1)
        if row.doc_id in seen:
            continue
        seen.add(row.doc_id)
        if dry_run:
            report.done.append(f"{row.number} ({row.document}): would be sent")
            continue
        try:
            system.ledger.request_sync(UUID(row.doc_id), reason)
        except InvalidRequestError as exc:
            report.refused.append(str(exc))
            continue
        report.done.append(f"{row.number} ({row.document}): sync requested")
        if row.kind == DocumentKind.INVOICE:
            _sync_payments_of(system, row, reason, seen, report)
    return report


def _sync_payments_of(
    system: System, invoice: StatusRow, reason: str, seen: set[str], report: CommandReport
) -> None:
    """Request the invoice's visible Not Attempted payments along with it."""
    for payment in system.status_store.payments_of(invoice.doc_id):
        if payment.doc_id in seen or payment.status != Status.NOT_ATTEMPTED or not payment.visible:
            continue
        seen.add(payment.doc_id)
        try:
            system.ledger.request_sync(
                UUID(payment.doc_id), f"{reason}, with its invoice {invoice.number}"
            )
        except InvalidRequestError:
            continue
        report.done.append(f"{payment.number} ({payment.document}): sync requested")
