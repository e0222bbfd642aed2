"""The status rules: rows folded from a document's events, and the reasons composed at read time."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from domain.documents import Invoice, Payment
from domain.opensolar import parse_change
from domain.organisation import Connection
from domain.vocabulary import Operation, Status
from projections.status import OrgRow, StatusRow, new_row, next_row, reason
from syncledger.samples import invoice_change, payment_change

CONNECTED = Connection("http://xero", "t", datetime(2026, 11, 1, tzinfo=UTC), "manual")


def change(data):
    return parse_change(json.dumps(data))


def fold(aggregate, kind: str, row: StatusRow | None = None) -> StatusRow:
    for event in aggregate.collect_events():
        row = new_row(event, kind) if row is None else next_row(row, event)
    assert row is not None
    return row


def test_issued_before_connection_is_not_attempted_and_says_why():
    invoice = Invoice.start("42", "1042")
    invoice.receive(change(invoice_change(timestamp="2026-10-01T00:00:00Z")), CONNECTED)

    row = fold(invoice, "invoice")

    assert (row.status, row.visible, row.amount) == (Status.NOT_ATTEMPTED, True, "9650.00")
    org = OrgRow("k", "42", "2026-11-01T00:00:00+00:00", "t")
    assert "issued before the Xero connection" in reason(row, None, org)
    assert "not connected" in reason(row, None, None)


def test_pending_then_failed_then_retried_then_synced():
    invoice = Invoice.start("42", "1042")
    invoice.receive(change(invoice_change()), CONNECTED)
    row = fold(invoice, "invoice")
    assert row.status == Status.PENDING and reason(row, None, None) == "queued for delivery"

    version = invoice.open_request.version
    invoice.record_failure(
        Operation.INVOICE,
        version,
        "Missing Ledger Account: x",
        "configuration",
        final=True,
        retry_at=None,
        calls=[],
    )
    row = fold(invoice, "invoice", row)
    assert (row.status, row.error, row.attempts) == (Status.FAILED, "Missing Ledger Account: x", 1)

    invoice.request_retry()
    row = fold(invoice, "invoice", row)
    assert (row.status, row.error) == (Status.PENDING, None)

    invoice.record_success(
        Operation.INVOICE, invoice.open_request.version, "xero-1", invoice.fields, "done", []
    )
    row = fold(invoice, "invoice", row)
    assert (row.status, row.xero_id, row.attempts) == (Status.SYNCED, "xero-1", 2)


def test_a_transient_failure_stays_pending_with_the_retry_time():
    invoice = Invoice.start("42", "1042")
    invoice.receive(change(invoice_change()), CONNECTED)
    row = fold(invoice, "invoice")

    invoice.record_failure(
        Operation.INVOICE,
        invoice.open_request.version,
        "503 Service Unavailable",
        "transient",
        final=False,
        retry_at=datetime(2026, 11, 20, 10, 0, 5, tzinfo=UTC),
        calls=[],
    )
    row = fold(invoice, "invoice", row)

    assert row.status == Status.PENDING
    assert row.note == "will retry at 10:00:05 UTC after: 503 Service Unavailable (attempt 1)"


def test_cancelled_before_it_was_sent_is_not_attempted_with_nothing_to_send():
    invoice = Invoice.start("42", "1042")
    invoice.receive(change(invoice_change()), CONNECTED)
    invoice.receive(
        change(invoice_change(status="cancelled", timestamp="2026-11-21T00:00:00Z")), CONNECTED
    )

    row = fold(invoice, "invoice")

    assert row.status == Status.NOT_ATTEMPTED
    assert "cancelled in OpenSolar before it was sent" in reason(row, None, None)


def test_payment_waiting_for_its_invoice_says_which_and_why():
    payment = Payment.start("42", "3001")
    payment.receive(change(payment_change()), CONNECTED)
    row = fold(payment, "payment")
    invoice_row = StatusRow(
        doc_id=row.invoice_doc,
        org="42",
        kind="invoice",
        opensolar_id="1042",
        number="INV-00019",
        status=Status.FAILED,
        error="Missing Ledger Account: x",
        visible=True,
    )

    assert row.status == Status.PENDING
    assert reason(row, None, None) == "waiting for its invoice: not received from OpenSolar yet"
    assert reason(row, invoice_row, None) == (
        "waiting for invoice INV-00019 (Failed: Missing Ledger Account: x)"
    )
    synced = StatusRow(
        **{**invoice_row.__dict__, "status": Status.SYNCED, "xero_id": "x", "error": None}
    )
    assert reason(row, synced, None) == "queued for delivery"


def test_updated_at_comes_from_the_events_so_rebuilds_match():
    invoice = Invoice.start("42", "1042")
    invoice.receive(change(invoice_change()), CONNECTED)
    events = invoice.collect_events()

    first = second = None
    for event in events:
        first = new_row(event, "invoice") if first is None else next_row(first, event)
        second = new_row(event, "invoice") if second is None else next_row(second, event)

    assert first == second and first.updated_at == events[-1].timestamp.isoformat()
