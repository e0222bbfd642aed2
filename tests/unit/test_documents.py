"""Document aggregates: which deliveries a change calls for, and the sync lifecycle's guards."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from domain.documents import Invoice, Payment
from domain.errors import InvalidRequestError
from domain.ids import document_id
from domain.opensolar import parse_change
from domain.organisation import Connection, Policy
from domain.vocabulary import Operation
from syncledger.samples import invoice_change, payment_change

CONNECTED = Connection("http://xero", "tenant-1", datetime(2026, 11, 1, tzinfo=UTC), "manual")
ISSUED = "2026-11-20"
CONNECTED_POLICY = Policy(datetime(2026, 11, 1, tzinfo=UTC), True, "tenant-1")


def change(data: dict):
    return parse_change(json.dumps(data))


def names(aggregate) -> list[str]:
    return [type(e).__name__ for e in aggregate.collect_events()]


def synced_invoice() -> Invoice:
    invoice = Invoice.start("42", "1042")
    invoice.receive(change(invoice_change()), CONNECTED)
    request = invoice.open_request
    invoice.record_success(
        Operation.INVOICE, request.version, "xero-inv-1", invoice.fields, "ok", []
    )
    invoice.collect_events()
    return invoice


def test_invoice_issued_after_the_connection_is_requested_at_once():
    invoice = Invoice.start("42", "1042")

    invoice.receive(change(invoice_change(timestamp="2026-11-20T09:30:00Z")), CONNECTED)

    assert names(invoice) == ["Received", "Issued", "SyncRequested"]
    assert invoice.open_request.operation == Operation.INVOICE


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
    assert invoice.open_request.operation == Operation.CREDIT_NOTE


def test_cancel_before_sync_ends_the_request_with_nothing_sent():
    invoice = Invoice.start("42", "1042")
    invoice.receive(change(invoice_change()), CONNECTED)
    invoice.collect_events()

    invoice.receive(
        change(invoice_change(status="cancelled", timestamp="2026-11-23T00:00:00Z")), CONNECTED
    )

    events = invoice.collect_events()
    assert [type(e).__name__ for e in events] == ["Cancelled", "SyncSkipped"]
    assert "before it was sent" in events[-1].reason
    assert invoice.open_request is None and invoice.is_abandoned


def test_cancel_while_the_push_may_be_in_flight_waits_and_a_late_success_asks_for_cancelling():
    invoice = Invoice.start("42", "1042")
    invoice.receive(change(invoice_change()), CONNECTED)
    version = invoice.open_request.version
    invoice.record_failure(
        Operation.INVOICE, version, "timeout", "uncertain", final=False, retry_at=None, calls=[{}]
    )
    invoice.receive(
        change(invoice_change(status="cancelled", timestamp="2026-11-23T00:00:00Z")), CONNECTED
    )
    invoice.collect_events()
    assert invoice.open_request is not None, "an attempted push is looked up, not skipped"

    invoice.record_success(Operation.INVOICE, version, "xero-1", invoice.fields, "found", [])
    invoice.request_next(CONNECTED_POLICY)

    assert names(invoice) == ["SyncSucceeded", "SyncRequested"]
    assert invoice.open_request.operation == Operation.CREDIT_NOTE


def test_a_success_for_a_request_skipped_meanwhile_is_still_recorded():
    invoice = Invoice.start("42", "1042")
    invoice.receive(change(invoice_change()), CONNECTED)
    version = invoice.open_request.version
    invoice.receive(
        change(invoice_change(status="cancelled", timestamp="2026-11-23T00:00:00Z")), CONNECTED
    )
    invoice.collect_events()

    recorded = invoice.record_success(
        Operation.INVOICE, version, "xero-1", invoice.fields, "ok", []
    )

    assert recorded and invoice.xero_invoice_id == "xero-1"
    assert not invoice.record_success(
        Operation.INVOICE, version, "xero-1", invoice.fields, "ok", []
    )


def test_changes_after_sync_ask_for_an_update_naming_the_fields():
    invoice = synced_invoice()
    amended = invoice_change(
        timestamp="2026-11-23T00:00:00Z", issued_date=ISSUED, due_date="2027-01-31"
    )
    amended["fields"]["line_items"][0]["unit_amount"] = "9999.00"

    invoice.receive(change(amended), CONNECTED)

    events = invoice.collect_events()
    assert [type(e).__name__ for e in events] == ["Amended", "SyncRequested"]
    assert events[0].fields == ["lines", "due date"]
    assert invoice.open_request.operation == Operation.INVOICE_UPDATE


def test_a_change_of_number_or_currency_after_sync_fails_at_once_with_the_action():
    invoice = synced_invoice()

    invoice.receive(
        change(invoice_change(number="INV-9", timestamp="2026-11-23T00:00:00Z")), CONNECTED
    )

    failed = invoice.collect_events()[-1]
    assert type(failed).__name__ == "SyncFailed" and failed.final and failed.calls == []
    assert "invoice number changed" in failed.error and "cancel" in failed.action


def test_reverting_to_what_xero_holds_skips_a_pending_update_without_a_call():
    invoice = synced_invoice()
    amended = invoice_change(
        timestamp="2026-11-23T00:00:00Z", issued_date=ISSUED, due_date="2027-01-31"
    )
    invoice.receive(change(amended), CONNECTED)
    invoice.collect_events()

    invoice.receive(
        change(invoice_change(timestamp="2026-11-24T00:00:00Z", issued_date=ISSUED)), CONNECTED
    )

    events = invoice.collect_events()
    assert [type(e).__name__ for e in events] == ["Updated", "SyncSkipped"]
    assert invoice.open_request is None and not invoice.differences()


def test_reverting_after_a_refused_update_is_back_in_line_and_retry_is_not_needed():
    invoice = synced_invoice()
    amended = invoice_change(
        timestamp="2026-11-23T00:00:00Z", issued_date=ISSUED, due_date="2027-01-31"
    )
    invoice.receive(change(amended), CONNECTED)
    invoice.record_failure(
        Operation.INVOICE_UPDATE,
        invoice.open_request.version,
        "has a payment",
        "amendment",
        final=True,
        retry_at=None,
        calls=[],
    )
    invoice.collect_events()

    invoice.receive(
        change(invoice_change(timestamp="2026-11-24T00:00:00Z", issued_date=ISSUED)), CONNECTED
    )

    assert names(invoice) == ["Updated", "BackInLine"]
    assert not invoice.is_failed


def test_customer_detail_changes_after_sync_never_fail_an_invoice():
    invoice = synced_invoice()
    fixed = invoice_change(
        timestamp="2026-11-23T00:00:00Z",
        issued_date=ISSUED,
        customer={"id": 555, "name": "Jane Citizen", "email": "jane.c@example.com"},
    )

    invoice.receive(change(fixed), CONNECTED)

    assert names(invoice) == ["Updated"]
    assert invoice.open_request is None and not invoice.is_failed


def test_status_only_changes_after_sync_are_not_amendments():
    invoice = synced_invoice()

    invoice.receive(
        change(invoice_change(status="paid", timestamp="2026-11-23T00:00:00Z", issued_date=ISSUED)),
        CONNECTED,
    )

    assert names(invoice) == ["Updated"]


def test_a_cancelled_invoice_is_never_reissued_by_a_later_change():
    invoice = synced_invoice()
    invoice.receive(
        change(invoice_change(status="cancelled", timestamp="2026-11-23T00:00:00Z")), CONNECTED
    )
    invoice.collect_events()

    invoice.receive(
        change(invoice_change(timestamp="2026-11-24T00:00:00Z", issued_date=ISSUED)), CONNECTED
    )

    [ignored] = invoice.collect_events()
    assert type(ignored).__name__ == "ChangeIgnored" and "never sent again" in ignored.reason


def test_retry_of_an_invoice_cancelled_before_it_reached_xero_is_refused():
    invoice = Invoice.start("42", "1042")
    invoice.receive(change(invoice_change()), CONNECTED)
    invoice.record_failure(
        Operation.INVOICE,
        invoice.open_request.version,
        "x",
        "configuration",
        final=True,
        retry_at=None,
        calls=[],
    )
    invoice.receive(
        change(invoice_change(status="cancelled", timestamp="2026-11-23T00:00:00Z")), CONNECTED
    )

    with pytest.raises(InvalidRequestError, match="before it reached Xero; nothing to send"):
        invoice.request_retry("user", CONNECTED_POLICY)
    assert invoice.open_request is None


def test_an_outcome_is_recorded_once_per_request():
    invoice = Invoice.start("42", "1042")
    invoice.receive(change(invoice_change()), CONNECTED)
    version = invoice.open_request.version

    first = invoice.record_success(Operation.INVOICE, version, "x1", invoice.fields, "ok", [])
    second = invoice.record_success(Operation.INVOICE, version, "x2", invoice.fields, "ok", [])

    assert (first, second) == (True, False)
    assert invoice.xero_invoice_id == "x1"


def test_retry_needs_a_final_failure():
    invoice = Invoice.start("42", "1042")
    invoice.receive(change(invoice_change()), CONNECTED)
    version = invoice.open_request.version
    with pytest.raises(InvalidRequestError, match="already Pending"):
        invoice.request_retry()

    invoice.record_failure(
        Operation.INVOICE, version, "boom", "rejected", final=True, retry_at=None, calls=[]
    )
    invoice.request_retry()

    assert invoice.open_request.retry and invoice.open_request.operation == Operation.INVOICE


def test_a_transient_failure_keeps_the_request_open():
    invoice = Invoice.start("42", "1042")
    invoice.receive(change(invoice_change()), CONNECTED)
    version = invoice.open_request.version

    invoice.record_failure(
        Operation.INVOICE,
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

    assert invoice.open_request.operation == Operation.INVOICE


def test_payment_reaching_paid_is_requested_and_depends_on_its_invoice():
    payment = Payment.start("42", "3001")

    payment.receive(
        change(payment_change(status="pending", timestamp="2026-11-21T00:00:00Z")), CONNECTED
    )
    payment.receive(change(payment_change(status="paid")), CONNECTED)

    events = payment.collect_events()
    assert [type(e).__name__ for e in events] == ["Received", "Recorded", "Paid", "SyncRequested"]
    assert events[-1].operation == Operation.PAYMENT
    assert events[-1].depends_on == str(document_id("42", "invoice", "1042"))


def synced_payment() -> Payment:
    payment = Payment.start("42", "3001")
    payment.receive(change(payment_change()), CONNECTED)
    payment.record_success(
        Operation.PAYMENT, payment.open_request.version, "p1", payment.fields, "ok", []
    )
    payment.collect_events()
    return payment


@pytest.mark.parametrize(
    ("changed", "why"),
    [
        ({"status": "failed"}, "no longer paid"),
        ({"status": "pending"}, "no longer paid"),
        ({"amount": "1500.00"}, "amount"),
        ({"invoice_id": 2042}, "invoice"),
    ],
)
def test_a_payment_changed_after_it_was_applied_is_deleted_in_xero(changed, why):
    payment = synced_payment()

    payment.receive(change(payment_change(timestamp="2026-11-25T00:00:00Z", **changed)), CONNECTED)

    request = payment.open_request
    assert request is not None and request.operation == Operation.PAYMENT_DELETE
    assert why in request.reason


def test_a_deleted_payment_still_paid_is_applied_again_where_it_belongs_now():
    payment = synced_payment()
    payment.receive(
        change(payment_change(invoice_id=2042, timestamp="2026-11-25T00:00:00Z")), CONNECTED
    )
    payment.record_success(
        Operation.PAYMENT_DELETE, payment.open_request.version, "p1", None, "", []
    )
    payment.request_next(CONNECTED_POLICY)

    request = payment.open_request
    assert request.operation == Operation.PAYMENT
    assert request.depends_on == str(document_id("42", "invoice", "2042"))
    assert payment.xero_payment_id is None and payment.deleted_in_xero == ["p1"]


def test_a_withdrawn_payment_reverted_before_the_deletion_went_out_needs_no_call():
    payment = synced_payment()
    payment.receive(
        change(payment_change(status="pending", timestamp="2026-11-25T00:00:00Z")), CONNECTED
    )
    payment.collect_events()

    payment.receive(
        change(payment_change(timestamp="2026-11-26T00:00:00Z", paid_date="2026-11-22")), CONNECTED
    )

    assert names(payment) == ["Paid", "SyncSkipped"]
    assert payment.open_request is None and payment.in_xero
