"""Reading statuses and histories. Reads are fresh: a read first brings the status projection and
the outbox up to the end of the log. A reference (``INV-00019``, ``invoice:1042``) is resolved to
the one document it names, or refused with what to type instead.
"""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

from domain.errors import AmbiguousDocumentError, DocumentNotFoundError
from domain.vocabulary import Status
from projections.base import catch_up
from projections.status import StatusFilter, StatusRow, StatusView
from syncledger.bootstrap import System


def refresh(system: System) -> None:
    """Bring the status projection and the outbox up to the end of the log."""
    catch_up(system.outbox, system.log)
    catch_up(system.status, system.log)


def statuses(system: System, where: StatusFilter) -> list[StatusView]:
    """Current statuses (fresh); a Pending document of a parked organisation says why it waits
    ("Xero daily limit reached; resumes at 14:05 UTC")."""
    refresh(system)
    parked = system.org_state.parked(time.time())
    views = list(system.status_store.rows(where))
    if not parked:
        return views
    return [
        StatusView(v.row, parked[v.row.org][1])
        if v.row.status == Status.PENDING and v.row.org in parked
        else v
        for v in views
    ]


def resolve(system: System, reference: str, org: str | None) -> StatusRow:
    """The one document a reference names: ``INV-00019``, ``invoice:1042`` or ``payment:3001``."""
    rows = system.status_store.find(reference.strip(), org)
    if not rows:
        where = f" in organisation {org}" if org else ""
        raise DocumentNotFoundError(
            f"no document {reference!r}{where}: use an invoice number (INV-00019) or "
            "invoice:ID / payment:ID"
        )
    orgs = sorted({r.org for r in rows})
    if len(orgs) > 1:
        raise AmbiguousDocumentError(
            f"{reference!r} names documents in organisations {', '.join(orgs)}: add --org"
        )
    if len(rows) > 1:
        kinds = ", ".join(r.document for r in rows)
        raise AmbiguousDocumentError(
            f"{reference!r} names several documents ({kinds}): use KIND:ID"
        )
    return rows[0]


def history(system: System, reference: str, org: str | None) -> tuple[StatusRow, list[Any]]:
    """A document's row and every event of its history, in order."""
    refresh(system)
    row = resolve(system, reference, org)
    return row, list(system.ledger.events_of(UUID(row.doc_id)))


def synced_documents(system: System, org_id: str) -> int:
    """How many of an organisation's documents are in Xero (fresh)."""
    refresh(system)
    return sum(
        1
        for view in system.status_store.rows(StatusFilter(org=org_id, include_hidden=True))
        if view.row.xero_id is not None or view.row.credit_note_id is not None
    )
