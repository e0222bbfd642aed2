"""The status projection and the outbox writer on a real database: tracking in the same
transaction as the rows, rebuilds identical, outbox claims in order."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

from outbox.store import MessageState
from projections.base import catch_up
from projections.status import StatusFilter
from syncledger import service
from syncledger.samples import invoice_change, ndjson, payment_change


def ingest(system, *changes):
    return service.ingest(system, io.BytesIO(ndjson(*changes).encode()))


def connect(system, at="2026-11-01T00:00:00+00:00"):
    system.ledger.connect(
        "42", "http://127.0.0.1:9", "tenant-1", datetime.fromisoformat(at), "manual"
    )


def test_status_follows_the_log_and_a_rebuild_is_identical(system):
    connect(system)
    ingest(
        system,
        invoice_change(1042),
        invoice_change(1043, timestamp="2026-10-01T00:00:00Z"),
        payment_change(3001, invoice_id=1042),
    )
    before = [v.as_json() for v in service.statuses(system, StatusFilter())]

    system.status.reset()
    catch_up(system.status, system.log, batch=2)
    after = [v.as_json() for v in service.statuses(system, StatusFilter())]

    assert before == after
    assert [(r["document"], r["status"]) for r in after] == [
        ("invoice:1042", "Pending"),
        ("invoice:1043", "Not Attempted"),
        ("payment:3001", "Pending"),
    ]
    assert after[2]["reason"] == "waiting for invoice INV-1042"


def test_a_failed_batch_leaves_rows_and_position_untouched(system, monkeypatch):
    ingest(system, invoice_change(1042))
    catch_up(system.status, system.log)
    position = system.status.position()
    ingest(system, invoice_change(1043))

    from projections import status as status_module

    def boom(row, event):
        raise RuntimeError("projection bug")

    monkeypatch.setattr(status_module, "next_row", boom)
    with pytest.raises(RuntimeError):
        catch_up(system.status, system.log)

    assert system.status.position() == position
    assert system.status_store.find("invoice:1043", None) == []
    monkeypatch.undo()
    catch_up(system.status, system.log)
    assert [r.number for r in system.status_store.find("invoice:1043", None)] == ["INV-1043"]


def test_documents_are_found_by_number_or_reference(system):
    ingest(
        system,
        invoice_change(1042, number="INV-00019"),
        invoice_change(7, org_id=43, number="INV-00019"),
    )
    service.refresh(system)

    assert {r.org for r in system.status_store.find("INV-00019", None)} == {"42", "43"}
    assert [r.org for r in system.status_store.find("INV-00019", "43")] == ["43"]
    assert [r.number for r in system.status_store.find("invoice:1042", None)] == ["INV-00019"]


def test_outbox_payment_waits_for_its_invoice_and_is_released_when_it_syncs(system):
    connect(system)
    ingest(system, payment_change(3001, invoice_id=1042), invoice_change(1042))
    service.refresh(system)
    payment = system.status_store.find("payment:3001", None)[0]
    invoice = system.status_store.find("invoice:1042", None)[0]
    assert [m.state for m in system.outbox_store.messages(payment.doc_id)] == [MessageState.WAITING]

    document = system.ledger.document(__import__("uuid").UUID(invoice.doc_id))
    system.ledger.record_success(
        document.id, "invoice", document.open_request.version, "x-1", document.fields, "ok", []
    )
    catch_up(system.outbox, system.log)

    assert [m.state for m in system.outbox_store.messages(invoice.doc_id)] == [MessageState.DONE]
    assert [m.state for m in system.outbox_store.messages(payment.doc_id)] == [MessageState.READY]


def test_cancel_before_sync_drops_the_pending_push(system):
    connect(system)
    ingest(
        system,
        invoice_change(1042),
        invoice_change(1042, status="cancelled", timestamp="2026-11-21T00:00:00Z"),
    )
    service.refresh(system)
    invoice = system.status_store.find("invoice:1042", None)[0]

    assert [m.state for m in system.outbox_store.messages(invoice.doc_id)] == [MessageState.DROPPED]
    assert system.outbox_store.claim("t", now=1e12, lease=60) is None


def test_claims_go_oldest_first_and_skip_claimed_and_excluded(system):
    connect(system)
    ingest(system, invoice_change(1), invoice_change(2), invoice_change(3, org_id=43))
    system.ledger.connect(
        "43", "http://127.0.0.1:9", "tenant-2", datetime(2026, 1, 1, tzinfo=UTC), "manual"
    )
    service.sync(system, ["invoice:3"], not_attempted=False, org="43")
    service.refresh(system)

    first = system.outbox_store.claim("a", now=1000.0, lease=60)
    second = system.outbox_store.claim("a", now=1000.0, lease=60, orgs_excluded=("43",))
    third = system.outbox_store.claim("a", now=1000.0, lease=60, orgs_excluded=("43",))

    assert (first.doc_id != second.doc_id, first.org, second.org, third) == (True, "42", "42", None)
    assert system.outbox_store.claim("a", now=1061.0, lease=60).claims == 2


def test_rebuilding_the_outbox_does_not_reopen_finished_messages(system):
    connect(system)
    ingest(system, invoice_change(1042))
    service.refresh(system)
    invoice = system.status_store.find("invoice:1042", None)[0]
    document = system.ledger.document(__import__("uuid").UUID(invoice.doc_id))
    system.ledger.record_success(
        document.id, "invoice", document.open_request.version, "x", document.fields, "ok", []
    )

    service.replay(system, "outbox")

    assert [m.state for m in system.outbox_store.messages(invoice.doc_id)] == [MessageState.DONE]
