"""The audit projection on a real SQLite ledger, in-process: rebuilt from the log it comes out
identical whatever the batch size; secrets never reach its tables; percentiles are exact."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import pytest

from projections.audit import (
    AuditProjection,
    AuditRows,
    EventFilter,
    TimingRow,
    Window,
    known_event_types,
    redact,
    redact_text,
    stamp,
)
from projections.audit_table import TABLES, SQLAuditStore
from projections.base import catch_up
from syncledger import service
from syncledger.bootstrap import System
from syncledger.samples import invoice_change, ndjson, payment_change


def _call(operation: str, xero_id: str, collection: str, id_field: str) -> dict[str, Any]:
    return {
        "operation": operation,
        "method": "PUT",
        "path": f"/{collection}",
        "idempotency_key": f"syncledger-{operation}-1",
        "request": {"amount": "10.00"},
        "status": 200,
        "outcome": "ok",
        "response": {collection: [{id_field: xero_id}]},
        "duration_ms": 12.5,
        "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
    }


def _history(system: System) -> None:
    system.ledger.connect(
        "42", "http://xero.test", "tenant", datetime(2026, 11, 1, tzinfo=UTC), "manual"
    )
    changes = ndjson(
        invoice_change(1, number="INV-1"),
        payment_change(11, invoice_id=1),
        invoice_change(2, number="INV-2", customer={"id": 3, "name": "B", "email": "B@x.io"}),
        payment_change(21, invoice_id=9),
    )
    service.ingest(system, io.BytesIO(changes.encode()))
    invoice = system.ledger.find_document("42", "invoice", "1")
    assert invoice is not None and invoice.open_request is not None
    system.ledger.record_success(
        invoice.id,
        "invoice",
        invoice.open_request.version,
        "INV-XERO-1",
        None,
        "created",
        [_call("create_invoice", "INV-XERO-1", "Invoices", "InvoiceID")],
    )
    second = system.ledger.find_document("42", "invoice", "2")
    assert second is not None and second.open_request is not None
    system.ledger.record_failure(
        second.id,
        "invoice",
        second.open_request.version,
        "Account code '999' is not a valid code for this document.",
        "rejected",
        final=True,
        retry_at=None,
        calls=[],
    )
    service.ingest(
        system,
        io.BytesIO(
            ndjson(invoice_change(9, number="INV-9", timestamp="2026-11-21T00:00:00Z")).encode()
        ),
    )


def _dump(system: System) -> dict[str, list[tuple[Any, ...]]]:
    with system.database.read() as tx:
        return {table: sorted(tx.all(f"SELECT * FROM {table}"), key=repr) for table in TABLES}


def test_a_rebuild_gives_identical_tables_whatever_the_batch_size(system):
    _history(system)
    projection = AuditProjection(SQLAuditStore(system.database))
    catch_up(projection, system.log)
    first = _dump(system)

    for batch in (1, 3, 1000):
        projection.reset()
        catch_up(projection, system.log, batch=batch)
        assert _dump(system) == first, f"batch {batch}"
    assert first["audit_events"] and first["audit_calls"] and first["audit_failures"]


def test_every_event_is_indexed_with_its_document_number_and_customer_email(system):
    _history(system)
    store = SQLAuditStore(system.database)
    catch_up(AuditProjection(store), system.log, batch=1)

    everything = list(store.events(EventFilter()))
    bob = list(store.events(EventFilter(email="b@x.io")))
    jane = {e.document for e in store.events(EventFilter(email="jane@example.com"))}

    assert [e.position for e in everything] == list(range(1, system.log.head() + 1))
    assert {e.document for e in bob} == {"invoice:2"}
    assert {e.number for e in bob} == {"INV-2"}
    assert jane == {"invoice:1", "payment:11", "invoice:9", "payment:21"}


def test_timing_percentiles_are_exact(system):
    store = SQLAuditStore(system.database)
    at = stamp(datetime(2026, 11, 20, tzinfo=UTC))
    rows = [
        TimingRow(f"doc-{i}", "invoice", "42", f"invoice:{i}", f"INV-{i}", at, at, at, i, i)
        for i in range(1, 21)
    ]
    with store.batch() as batch:
        batch.save(AuditRows(timings=rows), 1)

    stats = store.timing_stats("invoice", None, Window(), from_request=False)
    odd = store.timing_stats("invoice", "42", Window(), from_request=True)

    assert (stats.count, stats.median, stats.p95, stats.max) == (20, 10.5, 19, 20)
    assert odd.count == 20
    assert [t.millis for t in store.slowest(None, Window(), False, 3)] == [20, 19, 18]


def test_known_event_types_cover_the_domain():
    known = known_event_types()

    for name in ("Invoice.Issued", "Payment.Paid", "Organisation.Reconciled", "Invoice.SyncFailed"):
        assert name in known


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("401 Unauthorized: Bearer eyJhbGciOi.abc-def", "eyJhbGciOi.abc-def"),
        ("POST /connect/token refresh_token=rt-123&client_secret=cs-456", "rt-123"),
        ("POST /connect/token refresh_token=rt-123&client_secret=cs-456", "cs-456"),
        ('{"access_token": "at-789"}', "at-789"),
        ("connected to https://user:pa55word@xero.example", "pa55word"),
    ],
)
def test_secrets_in_text_are_redacted(text, secret):
    cleaned = redact_text(text)

    assert secret not in cleaned and "[redacted]" in cleaned


def test_secret_fields_are_redacted_at_any_depth():
    data = {
        "request": {"Authorization": "Bearer x", "amount": "1.00", "client_secret": "y"},
        "tokens": [{"refresh_token": "z", "tenant_id": "t"}],
    }

    cleaned = redact(data)

    assert cleaned["request"] == {
        "Authorization": "[redacted]",
        "amount": "1.00",
        "client_secret": "[redacted]",
    }
    assert cleaned["tokens"] == "[redacted]"


def test_stamps_sort_as_time_does():
    early = stamp(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    late = stamp(datetime(2026, 11, 20, 9, 0, 0, 1, tzinfo=UTC))

    assert early < late and len(early) == len(late)
