"""Ingest on a real database: what one process records is seen by another's next ingest."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from projections.status import StatusFilter
from syncledger import service
from syncledger.bootstrap import System
from syncledger.samples import invoice_change, ndjson


def ingest(system, *changes):
    return service.ingest(system, io.BytesIO(ndjson(*changes).encode()))


def status_of(system, document):
    [row] = [
        v.as_json()
        for v in service.statuses(system, StatusFilter(include_hidden=True))
        if v.row.document == document
    ]
    return row


def test_a_connection_made_by_another_process_counts_for_the_next_ingest(system, settings):
    ingest(system, invoice_change(1041))  # organisation 42 is known, and not connected
    with System.open(settings) as other:  # `syncledger connect` in another process
        other.ledger.connect(
            "42", "http://127.0.0.1:9", "tenant-1", datetime(2026, 11, 1, tzinfo=UTC), "manual"
        )

    ingest(system, invoice_change(1042))

    assert status_of(system, "invoice:1041")["status"] == "Not Attempted"
    assert status_of(system, "invoice:1042")["status"] == "Pending"
