"""The outbox writer: a projection of the log into outbox messages, one per requested delivery.

``SyncRequested`` and ``RetryRequested`` add a message (waiting, if it depends on an invoice not
yet in Xero); outcome events finish it (done, failed, or dropped when skipped) or reschedule it.
Because messages are made and finished only from the log, rebuilding the outbox never re-sends
what is already Synced.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.utils import get_topic

from domain.documents import Document, Invoice, event_topics
from domain.numbers import number_key
from domain.opensolar import InvoiceFields
from domain.organisation import Organisation
from domain.vocabulary import DocumentKind, FailureCategory, Operation
from outbox.store import MessageState, OutboxStore, OutboxWriteBatch
from projections.base import Recorded, StoredProjection

RELEVANT_TOPICS: frozenset[str] = event_topics(
    "Received", "SyncRequested", "RetryRequested", "SyncSucceeded", "SyncFailed", "SyncSkipped"
) | {
    get_topic(cls)
    for cls in (
        Invoice.Issued,
        Invoice.Updated,
        Organisation.Registered,
        Organisation.Connected,
        Organisation.Disconnected,
    )
}
"""The topics of the events the outbox acts on, built from the classes (others stay undecoded)."""


def relevant(topic: str) -> bool:
    """True for the event topics the outbox acts on (others are skipped undecoded)."""
    return topic in RELEVANT_TOPICS


class OutboxWriter(StoredProjection[OutboxStore, OutboxWriteBatch]):
    """Folds the log into the outbox, batch by batch."""

    name = "outbox"
    wanted = staticmethod(relevant)

    def fold(self, batch: OutboxWriteBatch, recorded: Sequence[Recorded]) -> None:
        for item in recorded:
            if item.event is not None:
                apply(batch, item.position, item.event)
        batch.advance(recorded[-1].position)


def apply(batch: OutboxWriteBatch, position: int, event: Any) -> None:
    """Apply one event to the outbox."""
    doc_id = str(event.originator_id)
    if isinstance(event, Organisation.Registered):
        batch.set_organisation(doc_id, event.org_id, connected=None)
    elif isinstance(event, Organisation.Connected):
        batch.set_organisation(doc_id, None, connected=True)
    elif isinstance(event, Organisation.Disconnected):
        batch.set_organisation(doc_id, None, connected=False)
    elif isinstance(event, Document.Received):
        received = (
            DocumentKind.INVOICE if isinstance(event, Invoice.Event) else DocumentKind.PAYMENT
        )
        batch.add_document(doc_id, event.org_id, received)
    elif isinstance(event, Document.SyncRequested | Document.RetryRequested):
        known = batch.document_org(doc_id)
        if known is None:
            return
        org, kind = known
        waits_for = event.depends_on
        if waits_for is not None and batch.is_synced(waits_for):
            waits_for = None
        batch.add_message(
            doc_id,
            org,
            kind,
            event.operation,
            event.originator_version,
            position,
            waits_for,
            event.timestamp.timestamp(),
            event.group,
        )
    elif isinstance(event, Document.SyncSucceeded):
        batch.finish(doc_id, event.request_version, MessageState.DONE, None)
        if event.operation == Operation.INVOICE:
            batch.mark_synced(doc_id)
            batch.release_waiting(doc_id)
    elif isinstance(event, Document.SyncFailed):
        if event.final:
            batch.finish(doc_id, event.request_version, MessageState.FAILED, event.error)
        elif event.retry_at is not None:
            batch.reschedule(
                doc_id,
                event.request_version,
                event.retry_at.timestamp(),
                event.error,
                event.category == FailureCategory.UNCERTAIN,
            )
    elif isinstance(event, Document.SyncSkipped):
        batch.finish(doc_id, event.request_version, MessageState.DROPPED, None)
    elif isinstance(event, Invoice.Issued | Invoice.Updated):
        fields = event.change.fields
        if isinstance(fields, InvoiceFields):
            batch.use_number(
                event.change.org_id, number_key(fields.invoice_number), doc_id, position
            )


__all__ = ["OutboxWriter", "apply", "relevant"]
