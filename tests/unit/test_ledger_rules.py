"""Rules that span documents, applied by the ledger in the same transaction as the change that
set them off (an in-memory ledger: no I/O)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from domain.documents import Invoice, Payment
from domain.ids import document_id
from domain.ledger import SyncLedger
from domain.numbers import choose_number
from domain.opensolar import parse_change
from domain.vocabulary import FailureCategory, Operation
from syncledger.samples import invoice_change, payment_change

CONNECTED_AT = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def ledger() -> Iterator[SyncLedger]:
    app = SyncLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    app.connect("42", "http://xero", "tenant-1", CONNECTED_AT, "manual")
    yield app
    app.close()


def ingest(ledger: SyncLedger, *changes: dict) -> None:
    ledger.ingest([parse_change(json.dumps(c)) for c in changes])


def invoice(ledger: SyncLedger, model_id: int) -> Invoice:
    found = ledger.find_document("42", "invoice", str(model_id))
    assert isinstance(found, Invoice)
    return found


def payment(ledger: SyncLedger, model_id: int) -> Payment:
    found = ledger.find_document("42", "payment", str(model_id))
    assert isinstance(found, Payment)
    return found


def sync(ledger: SyncLedger, doc: Invoice | Payment, xero_id: str) -> None:
    request = doc.open_request
    assert request is not None
    ledger.record_success(
        doc.id,
        request.operation,
        request.version,
        xero_id,
        doc.fields,
        "ok",
        [],
        tenant_id="tenant-1",
    )


def test_a_reissue_of_a_number_held_in_xero_is_refused_or_suffixed(ledger):
    ingest(ledger, invoice_change(1, number="INV-19"))
    sync(ledger, invoice(ledger, 1), "xero-1")
    ingest(
        ledger,
        invoice_change(1, number="INV-19", status="cancelled", timestamp="2026-11-21T00:00:00Z"),
        invoice_change(2, number="inv-19", timestamp="2026-11-22T00:00:00Z"),
    )
    first, reissue = invoice(ledger, 1), invoice(ledger, 2)
    assert first.open_request is not None and first.open_request.operation == Operation.CREDIT_NOTE

    refused = choose_number(
        "inv-19", [first], 2, suffix=False, org_id="42", reference=reissue.reference
    )
    suffixed = choose_number(
        "inv-19", [first], 2, suffix=True, org_id="42", reference=reissue.reference
    )

    assert refused.number is None and "number-suffix 42 on" in refused.action
    assert "invoice:1" in refused.error and "invoice:2" in refused.action
    assert suffixed.number == "inv-19-2" and suffixed.reissue_of == "invoice:1"


def test_a_number_whose_earlier_user_never_reached_xero_is_free(ledger):
    ingest(
        ledger,
        invoice_change(1, number="INV-19"),
        invoice_change(1, number="INV-19", status="cancelled", timestamp="2026-11-21T00:00:00Z"),
        invoice_change(2, number="INV-19", timestamp="2026-11-22T00:00:00Z"),
    )
    first, second = invoice(ledger, 1), invoice(ledger, 2)

    choice = choose_number("INV-19", [first], 2, suffix=True, org_id="42", reference="x")

    assert first.is_abandoned and choice.number == "INV-19"
    assert second.open_request is not None and second.open_request.operation == Operation.INVOICE


def test_two_live_invoices_with_one_number_are_refused_whatever_the_suffix_setting(ledger):
    ingest(ledger, invoice_change(1, number="INV-19"), invoice_change(2, number="INV-19"))

    for suffix in (False, True):
        choice = choose_number(
            "INV-19", [invoice(ledger, 1)], 2, suffix=suffix, org_id="42", reference="x"
        )
        assert choice.number is None and "not cancelled" in choice.error


def test_money_received_for_an_invoice_cancelled_before_it_reached_xero_fails_at_once(ledger):
    ingest(
        ledger,
        invoice_change(1),
        payment_change(7, invoice_id=1),
        invoice_change(1, status="cancelled", timestamp="2026-11-23T00:00:00Z"),
    )

    paid = payment(ledger, 7)

    assert paid.is_failed and paid.last_outcome is not None
    assert paid.last_outcome.category == FailureCategory.FOLLOWS_INVOICE
    assert "cancelled in OpenSolar before it reached Xero" in (paid.last_outcome.error or "")
    events = list(ledger.events_of(paid.id))
    assert events[-1].action.startswith("refund the customer")


def test_a_payment_recorded_before_its_invoice_is_linked_and_follows_it(ledger):
    ingest(ledger, payment_change(7, invoice_id=1))
    stub = invoice(ledger, 1)
    assert str(payment(ledger, 7).id) in stub.payments and not stub.is_issued

    ingest(
        ledger,
        invoice_change(1),
        invoice_change(1, status="cancelled", timestamp="2026-11-23T00:00:00Z"),
    )

    assert payment(ledger, 7).is_failed


def test_a_payment_in_another_currency_fails_and_is_asked_again_once_corrected(ledger):
    ingest(ledger, invoice_change(1), payment_change(7, invoice_id=1, currency="USD"))
    blocked = payment(ledger, 7)
    assert blocked.is_failed and "USD" in (blocked.last_outcome.error or "")
    assert "AUD" in (blocked.last_outcome.error or "")

    ingest(ledger, payment_change(7, invoice_id=1, timestamp="2026-11-23T00:00:00Z"))

    fixed = payment(ledger, 7)
    assert fixed.open_request is not None and fixed.open_request.operation == Operation.PAYMENT


def test_a_payment_moved_to_another_invoice_is_linked_there_and_unlinked_here(ledger):
    ingest(ledger, invoice_change(1), invoice_change(2), payment_change(7, invoice_id=1))
    ingest(ledger, payment_change(7, invoice_id=2, timestamp="2026-11-23T00:00:00Z"))

    moved = str(payment(ledger, 7).id)

    assert moved not in invoice(ledger, 1).payments
    assert moved in invoice(ledger, 2).payments
    request = payment(ledger, 7).open_request
    assert request is not None and request.depends_on == str(document_id("42", "invoice", "2"))


def test_activity_while_disconnected_is_requested_for_the_reconnection(ledger):
    ledger.disconnect("42", "test")

    ingest(ledger, invoice_change(1, timestamp="2026-11-25T00:00:00Z"))

    request = invoice(ledger, 1).open_request
    assert request is not None and request.operation == Operation.INVOICE
