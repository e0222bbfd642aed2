"""Replaying: projections dropped and rebuilt from the log (the log is the truth, so they come out
identical), and one document's open deliveries re-driven now, or shown call by call with
``dry_run`` against a Xero that records instead of sending.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from outbox.delivery import Delivery
from outbox.dryrun import DryRunXero
from outbox.store import OPEN_STATES, MessageState
from projections.base import catch_up
from syncledger.bootstrap import System
from syncledger.service.reading import refresh, resolve

ALL = "all"
"""The name that asks ``replay`` for every projection."""


def replay(
    system: System,
    which: str,
    *,
    dry_run: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, int]:
    """Drop and rebuild projections from the log; return how many events each applied.
    ``progress(name, done, total)`` is called after every batch."""
    names = list(system.projections) if which == ALL else [which]
    applied: dict[str, int] = {}
    head = system.log.head()
    if dry_run:  # a rebuild applies the whole log to each projection: count what it would
        size = log_size(system)
        return {name: size for name in names}
    for name in names:
        projection = system.projections[name]
        projection.reset()
        done = 0

        def step(count: int, name: str = name) -> None:
            nonlocal done
            done += count
            if progress is not None:
                progress(name, done, head)

        applied[name] = catch_up(projection, system.log, progress=step)
    return applied


def log_size(system: System) -> int:
    """How many events the log holds (positions may have gaps on PostgreSQL: counted, not
    inferred from the head)."""
    count, after = 0, 0
    while True:
        batch = system.log.read(after, 5000, wanted=lambda _topic: False)
        if not batch:
            return count
        count += len(batch)
        after = batch[-1].position


def replay_document(
    system: System, reference: str, org: str | None, *, dry_run: bool, echo: Callable[[str], Any]
) -> list[str]:
    """Re-drive one document's open deliveries now (idempotent: what is Synced sends nothing);
    with ``dry_run``, print each call that would be made instead."""
    refresh(system)
    row = resolve(system, reference, org)
    messages = [m for m in system.outbox_store.messages(row.doc_id) if m.state in OPEN_STATES]
    if not messages:
        return [f"nothing to send: {row.number} ({row.document}) is {row.status}"]
    lines: list[str] = []
    for message in messages:
        if message.state == MessageState.WAITING:
            lines.append(f"{row.number}: {message.operation} waits for another document")
            continue
        if dry_run:
            lines.append(f"{row.number}: {message.operation} would make these calls:")
            document = system.ledger.document(UUID(row.doc_id))
            organisation = system.ledger.organisation(document.org_id)
            if organisation is None or organisation.connection is None:
                lines.append("  (the organisation is not connected)")
                continue
            client = DryRunXero(organisation.connection.tenant_id, echo)
            for line in lines:
                echo(line)
            lines = []
            outcome = Delivery(
                system.ledger,
                client,
                organisation.connection.tenant_id,
                numbers=system.outbox_store.number_users,
            ).run(message, document, organisation)
            lines.append(f"  → {type(outcome).__name__.lower()}: {_outcome_text(outcome)}")
            continue
        system.outbox_store.defer(message.id, 0.0)
        lines.append(f"{row.number}: {message.operation} is due now; the relay will send it")
    return lines


def _outcome_text(outcome: Any) -> str:
    for attribute in ("detail", "error", "reason"):
        value = getattr(outcome, attribute, None)
        if value:
            return str(value)
    return ""
