"""Document aggregates: which deliveries a change calls for, and the sync lifecycle's guards."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from domain.documents import OP_CREDIT_NOTE, OP_INVOICE, OP_PAYMENT, Invoice, Payment
from domain.errors import InvalidRequestError
from domain.ids import document_id
from domain.opensolar import parse_change
from domain.organisation import Connection
from tests.factories import invoice_change, payment_change

CONNECTED = Connection("http://xero", "tenant-1", datetime(2026, 11, 1, tzinfo=UTC), "manual")


def change(data: dict):
    return parse_change(json.dumps(data))


def names(aggregate) -> list[str]:
    return [type(e).__name__ for e in aggregate.collect_events()]


def synced_invoice() -> Invoice:
    invoice = Invoice.start("42", "1042")
    invoice.receive(change(invoice_change()), CONNECTED)
    request = invoice.open_request
    invoice.record_success(OP_INVOICE, request.version, "xero-inv-1", invoice.fields, "ok", [])
    invoice.collect_events()
    return invoice


def test_invoice_issued_after_the_connection_is_requested_at_once():
    invoice = Invoice.start("42", "1042")

    invoice.receive(change(invoice_change(timestamp="2026-11-20T09:30:00Z")), CONNECTED)

    assert names(invoice) == ["Received", "Issued", "SyncRequested"]
    assert invoice.open_request.operation == OP_INVOICE


def test_invoice_issued_before_the_connection_is_not_requested():
    invoice = Invoice.start("42", "1042")

    invoice.receive(change(invoice_change(timestamp="2026-10-20T09:30:00Z")), CONNECTED)

    assert names(invoice) == ["Received", "Issued"]
    assert invoice.open_request is None


def test_a_draft_is_recorded_and_only_issued_later():
    invoice = Invoice.start("42", "1042")

    invoice.receive(change(invoice_change(status="not_sent", lines=[])), CONNECTED)
    invoice.receive(
        change(invoice_change(status="sent", timestamp="2026-11-21T00:00:00Z")), CONNECTED
    )

    assert names(invoice) == ["Received", "Drafted", "Issued", "SyncRequested"]


def test_the_same_change_twice_is_recorded_once():
    invoice = Invoice.start("42", "1042")
    once = change(invoice_change(event_id="evt-1"))

    invoice.receive(once, CONNECTED)
    invoice.receive(once, CONNECTED)

    assert names(invoice) == ["Received", "Issued", "SyncRequested"]


def test_an_older_change_arriving_late_is_recorded_but_not_applied():
    invoice = Invoice.start("42", "1042")
    invoice.receive(
        change(invoice_change(timestamp="2026-11-20T10:00:00Z", status="viewed")), CONNECTED
    )

    invoice.receive(
        change(invoice_change(timestamp="2026-11-20T09:00:00Z", status="cancelled")), CONNECTED
    )

    assert names(invoice)[-1] == "ChangeIgnored"
    assert not invoice.is_cancelled


def test_cancel_after_sync_requests_a_credit_note():
    invoice = synced_invoice()

    invoice.receive(
        change(invoice_change(status="cancelled", timestamp="2026-11-23T00:00:00Z")), CONNECTED
    )

    assert names(invoice) == ["Cancelled", "SyncRequested"]
    assert invoice.open_request.operation == OP_CREDIT_NOTE


def test_cancel_before_sync_requests_nothing():
    invoice = Invoice.start("42", "1042")
    invoice.receive(change(invoice_change()), CONNECTED)
    invoice.collect_events()

    invoice.receive(
        change(invoice_change(status="cancelled", timestamp="2026-11-23T00:00:00Z")), CONNECTED
    )

    assert names(invoice) == ["Cancelled"]


def test_cancel_while_the_push_is_in_flight_asks_for_the_credit_note_once_synced():
    invoice = Invoice.start("42", "1042")
    invoice.receive(change(invoice_change()), CONNECTED)
    version = invoice.open_request.version
    invoice.receive(
        change(invoice_change(status="cancelled", timestamp="2026-11-23T00:00:00Z")), CONNECTED
    )
    invoice.collect_events()

    invoice.record_success(OP_INVOICE, version, "xero-1", invoice.fields, "created", [])
    invoice.after_invoice_synced()

    assert names(invoice) == ["SyncSucceeded", "SyncRequested"]
    assert invoice.open_request.operation == OP_CREDIT_NOTE


def test_amounts_changed_after_sync_fail_with_guidance_and_cannot_be_retried():
    invoice = synced_invoice()
    amended = invoice_change(timestamp="2026-11-23T00:00:00Z")
    amended["fields"]["line_items"][0]["unit_amount"] = "9999.00"

    invoice.receive(change(amended), CONNECTED)

    assert names(invoice) == ["AmendedAfterSync"]
    with pytest.raises(InvalidRequestError, match="cancel this invoice in OpenSolar"):
        invoice.request_retry()


def test_status_only_changes_after_sync_are_not_amendments():
    invoice = synced_invoice()

    invoice.receive(
        change(invoice_change(status="paid", timestamp="2026-11-23T00:00:00Z")), CONNECTED
    )

    assert names(invoice) == ["Updated"]


def test_an_outcome_is_recorded_once_per_request():
    invoice = Invoice.start("42", "1042")
    invoice.receive(change(invoice_change()), CONNECTED)
    version = invoice.open_request.version

    first = invoice.record_success(OP_INVOICE, version, "x1", invoice.fields, "ok", [])
    second = invoice.record_success(OP_INVOICE, version, "x2", invoice.fields, "ok", [])

    assert (first, second) == (True, False)
    assert invoice.xero_invoice_id == "x1"


def test_retry_needs_a_final_failure():
    invoice = Invoice.start("42", "1042")
    invoice.receive(change(invoice_change()), CONNECTED)
    version = invoice.open_request.version
    with pytest.raises(InvalidRequestError, match="already Pending"):
        invoice.request_retry()

    invoice.record_failure(
        OP_INVOICE, version, "boom", "rejected", final=True, retry_at=None, calls=[]
    )
    invoice.request_retry()

    assert invoice.open_request.retry and invoice.open_request.operation == OP_INVOICE


def test_a_transient_failure_keeps_the_request_open():
    invoice = Invoice.start("42", "1042")
    invoice.receive(change(invoice_change()), CONNECTED)
    version = invoice.open_request.version

    invoice.record_failure(
        OP_INVOICE,
        version,
        "503",
        "transient",
        final=False,
        retry_at=datetime(2026, 11, 20, tzinfo=UTC),
        calls=[],
    )

    assert invoice.open_request is not None and invoice.open_request.version == version


def test_sync_of_a_not_attempted_invoice_needs_a_connection():
    invoice = Invoice.start("42", "1042")
    invoice.receive(change(invoice_change(timestamp="2026-10-01T00:00:00Z")), CONNECTED)

    with pytest.raises(InvalidRequestError, match="not connected"):
        invoice.request_sync_now(None, "user")
    invoice.request_sync_now(CONNECTED, "user")

    assert invoice.open_request.operation == OP_INVOICE


def test_payment_reaching_paid_is_requested_and_depends_on_its_invoice():
    payment = Payment.start("42", "3001")

    payment.receive(
        change(payment_change(status="pending", timestamp="2026-11-21T00:00:00Z")), CONNECTED
    )
    payment.receive(change(payment_change(status="paid")), CONNECTED)

    events = payment.collect_events()
    assert [type(e).__name__ for e in events] == ["Received", "Recorded", "Paid", "SyncRequested"]
    assert events[-1].operation == OP_PAYMENT
    assert events[-1].depends_on == str(document_id("42", "invoice", "1042"))


def test_payment_withdrawn_after_sync_fails_with_guidance():
    payment = Payment.start("42", "3001")
    payment.receive(change(payment_change()), CONNECTED)
    payment.record_success(OP_PAYMENT, payment.open_request.version, "p1", payment.fields, "ok", [])
    payment.collect_events()

    payment.receive(
        change(payment_change(status="failed", timestamp="2026-11-25T00:00:00Z")), CONNECTED
    )

    assert names(payment) == ["Voided"]
    assert "delete the payment in Xero" in payment.amendment_error
