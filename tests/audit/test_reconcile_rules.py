"""The reconciliation's pure parts: Xero's totals, what the ledger implies from a document's
events, the comparison's categories, and reading Xero page by page within its rate limits
(through a real ``XeroClient`` over an ``httpx.MockTransport``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from domain.documents import Invoice, Payment
from domain.opensolar import parse_change_object
from domain.organisation import Connection
from outbox.reconcile import (
    Comparison,
    Finding,
    LedgerInvoice,
    LedgerPayment,
    Owner,
    ReconcileError,
    SentLine,
    XeroCreditNote,
    XeroInvoice,
    XeroPayment,
    XeroReader,
    XeroSnapshot,
    expected_total,
    implied_invoice,
    implied_payment,
    summarise,
    xero_date,
)
from outbox.xero import XeroClient
from syncledger.samples import invoice_change, payment_change

D = Decimal
CONNECTION = Connection("http://xero.test", "tenant", datetime(2026, 11, 1, tzinfo=UTC), "manual")


# totals -----------------------------------------------------------------------------------------


def test_exclusive_totals_round_tax_per_line_as_xero_does():
    lines = [SentLine(D(1), D("1.05"), "OUTPUT", "200")] * 3

    total = expected_total(lines, "Exclusive", {"OUTPUT": D(10)}, {})

    # per line 0.105 -> 0.11, three times 0.33; on the total it would be 0.315 -> 0.32
    assert total == D("3.48")


def test_inclusive_totals_are_the_rounded_line_amounts_whatever_the_rates():
    lines = [SentLine(D(3), D("3.3333"), "OUTPUT", "200"), SentLine(D(1), D(-1), None, None)]

    assert expected_total(lines, "Inclusive", None, None) == D("9.00")


def test_a_line_without_tax_type_takes_its_accounts_default_and_unknown_gives_none():
    line = SentLine(D(1), D(100), None, "260")

    assert expected_total([line], "Exclusive", {"OUTPUT": D(10)}, {"260": "OUTPUT"}) == D(110)
    assert expected_total([line], "Exclusive", {"OUTPUT": D(10)}, {}) is None
    assert expected_total([line], "Exclusive", None, None) is None


def test_xero_dates_come_in_three_shapes():
    assert xero_date("/Date(1795132800000+0000)/") == date(2026, 11, 20)
    assert xero_date("2026-11-20T00:00:00") == date(2026, 11, 20)
    assert xero_date("2026-11-20") == date(2026, 11, 20)
    assert xero_date(None) is None


# what the ledger implies ------------------------------------------------------------------------


def _create_call(xero_id: str) -> dict[str, Any]:
    return {
        "operation": "create_invoice",
        "outcome": "ok",
        "request": {
            "number": "INV-1",
            "line_amount_types": "Exclusive",
            "lines": [
                {"account": "200", "tax_type": "OUTPUT", "quantity": "1", "unit_amount": "100.00"},
                {"account": "200", "tax_type": None, "quantity": "2", "unit_amount": "0.125"},
            ],
        },
        "response": {"Invoices": [{"InvoiceID": xero_id, "Total": "110.28"}]},
    }


def test_an_invoice_implies_the_lines_it_sent_its_id_and_its_credit_allocation():
    invoice = Invoice.start("42", "1")
    invoice.receive(parse_change_object(invoice_change(1, number="INV-1")), CONNECTION)
    invoice.record_success(
        "invoice", invoice.open_request.version, "ABC", invoice.fields, "", [_create_call("ABC")]
    )
    cancel = invoice_change(1, number="INV-1", status="cancelled", timestamp="2026-11-25T00:00:00Z")
    invoice.receive(parse_change_object(cancel), CONNECTION)
    allocation = {
        "operation": "allocate_credit_note",
        "outcome": "ok",
        "request": {"credit_note_id": "CN", "invoice_id": "ABC", "amount": "110.28"},
    }
    invoice.record_success(
        "credit_note", invoice.open_request.version, "CN", invoice.fields, "", [allocation]
    )

    implied = implied_invoice(invoice.collect_events())

    assert implied is not None
    assert (implied.number, implied.xero_id, implied.credit_note_id) == ("INV-1", "abc", "cn")
    assert implied.credit_note_number == "CN-INV-1"
    assert implied.allocated == D("110.28") and implied.cancelled
    assert implied.amount_types == "Exclusive"
    assert implied.total(XeroSnapshot(tax_rates={"OUTPUT": D(10)}, account_tax={"200": "OUTPUT"}))
    assert implied.total(XeroSnapshot(tax_rates={"OUTPUT": D(10)}, account_tax={})) == D(
        "110.28"
    ), "a line's default tax unknown: falls back to the total Xero reported on creation"


def test_a_payment_withdrawn_after_sync_is_no_longer_expected_in_xero():
    payment = Payment.start("42", "5")
    payment.receive(parse_change_object(payment_change(5, amount="250.00")), CONNECTION)
    payment.record_success("payment", payment.open_request.version, "PAY", payment.fields, "", [])
    withdrawn = payment_change(5, status="failed", timestamp="2026-11-23T00:00:00Z")
    payment.receive(parse_change_object(withdrawn), CONNECTION)

    implied = implied_payment(payment.collect_events())

    assert implied is not None
    assert (implied.xero_id, implied.amount, implied.withdrawn) == ("pay", D("250.00"), True)
    assert not implied.expected_live


# the comparison ---------------------------------------------------------------------------------


def _invoice(
    xero_id: str = "i1", number: str = "INV-1", status: str = "AUTHORISED", **kw: Any
) -> XeroInvoice:
    values: dict[str, Any] = {
        "contact_id": "c1",
        "total": D("110.00"),
        "amount_due": D("110.00"),
        "reference": "OpenSolar project 1",
        "date": date(2026, 11, 20),
    }
    values.update(kw)
    return XeroInvoice(xero_id, number, status, **values)


def _payment(xero_id: str = "p1", status: str = "AUTHORISED", **kw: Any) -> XeroPayment:
    values: dict[str, Any] = {
        "invoice_id": "i1",
        "amount": D("10.00"),
        "reference": "Card (OpenSolar payment 5)",
        "date": date(2026, 11, 22),
    }
    values.update(kw)
    return XeroPayment(xero_id, status=status, **values)


def _ledger_invoice(**kw: Any) -> LedgerInvoice:
    values: dict[str, Any] = {
        "xero_id": "i1",
        "lines": (SentLine(D(1), D(100), "OUTPUT", "200"),),
        "amount_types": "Exclusive",
    }
    values.update(kw)
    return LedgerInvoice("agg-1", "invoice:1", "INV-1", **values)


def _ledger_payment(**kw: Any) -> LedgerPayment:
    values: dict[str, Any] = {"xero_id": "p1", "amount": D("10.00")}
    values.update(kw)
    return LedgerPayment("agg-5", "payment:5", "5", **values)


def _compare(
    snapshot: XeroSnapshot,
    invoice: LedgerInvoice | None = None,
    payments: tuple[LedgerPayment, ...] = (),
    owners: dict[str, Owner] | None = None,
    fetch: Callable[[str, str], Any] | None = None,
) -> list[tuple[str, str, str | None]]:
    comparison = Comparison(snapshot, fetch)
    found = comparison.group(invoice, list(payments))
    found += comparison.finish(owners or {})
    return [(d.category, d.record, d.xero_id) for d in found]


def _snapshot(*records: Any) -> XeroSnapshot:
    snapshot = XeroSnapshot(tax_rates={"OUTPUT": D(10)}, account_tax={})
    for record in records:
        snapshot.add(record)
    return snapshot


def test_what_xero_holds_as_the_ledger_implies_is_no_difference():
    snapshot = _snapshot(_invoice(amount_due=D("100.00")), _payment())

    assert _compare(snapshot, _ledger_invoice(), (_ledger_payment(),)) == []


def test_a_record_neither_listed_nor_found_by_id_is_missing():
    looked_up: list[tuple[str, str]] = []

    def fetch(record: str, xero_id: str) -> None:
        looked_up.append((record, xero_id))

    found = _compare(_snapshot(), _ledger_invoice(), (_ledger_payment(),), fetch=fetch)

    assert found == [(Finding.MISSING, "invoice", "i1"), (Finding.MISSING, "payment", "p1")]
    assert looked_up == [("invoice", "i1"), ("payment", "p1")]


def test_a_record_found_by_id_but_not_listed_is_compared():
    found = _compare(
        _snapshot(), _ledger_invoice(), fetch=lambda record, xero_id: _invoice(status="VOIDED")
    )

    assert found == [(Finding.VOIDED, "invoice", "i1")]


@pytest.mark.parametrize(
    ("status", "category"), [("VOIDED", Finding.VOIDED), ("DELETED", Finding.DELETED)]
)
def test_invoices_voided_or_deleted_by_hand(status, category):
    assert _compare(_snapshot(_invoice(status=status)), _ledger_invoice()) == [
        (category, "invoice", "i1")
    ]


def test_a_deleted_credit_note_is_reported():
    credit = XeroCreditNote("cn", "CN-INV-1", "DELETED", D(110), D(0), None)
    invoice = _ledger_invoice(credit_note_id="cn", allocated=D(110))

    found = _compare(_snapshot(_invoice(amount_due=D(0)), credit), invoice)

    assert found == [(Finding.DELETED, "credit_note", "cn")]


def test_a_payment_deleted_by_hand_is_removed_but_not_when_it_was_withdrawn():
    snapshot = _snapshot(_invoice(), _payment(status="DELETED"))

    assert _compare(snapshot, _ledger_invoice(), (_ledger_payment(),)) == [
        (Finding.REMOVED, "payment", "p1")
    ]
    assert _compare(snapshot, _ledger_invoice(), (_ledger_payment(withdrawn=True),)) == []


def test_a_withdrawn_payment_still_in_xero_is_unexpected():
    snapshot = _snapshot(_invoice(amount_due=D("100.00")), _payment())

    found = _compare(snapshot, _ledger_invoice(), (_ledger_payment(withdrawn=True),))

    assert (Finding.UNEXPECTED, "payment", "p1") in found


def test_totals_and_payment_amounts_that_differ():
    snapshot = _snapshot(_invoice(total=D(120), amount_due=D(110)), _payment(amount=D(12)))

    found = _compare(snapshot, _ledger_invoice(), (_ledger_payment(),))

    assert found == [
        (Finding.TOTAL_DIFFERS, "invoice", "i1"),
        (Finding.TOTAL_DIFFERS, "payment", "p1"),
    ]


def test_an_amount_due_that_differs_alone_is_reported():
    found = _compare(_snapshot(_invoice(amount_due=D(50))), _ledger_invoice())

    assert found == [(Finding.AMOUNT_DUE_DIFFERS, "invoice", "i1")]


def test_a_second_invoice_with_the_same_number_is_a_duplicate():
    snapshot = _snapshot(_invoice(), _invoice("i2", reference="other", total=D(5)))

    assert _compare(snapshot, _ledger_invoice()) == [(Finding.DUPLICATE, "invoice", "i2")]


def test_a_copy_with_the_same_contact_total_and_reference_is_a_duplicate():
    snapshot = _snapshot(_invoice(), _invoice("i2", number="INV-0007"))
    other = _invoice("i3", number="INV-0008", contact_id="c2")

    assert _compare(snapshot, _ledger_invoice()) == [(Finding.DUPLICATE, "invoice", "i2")]
    assert _compare(_snapshot(_invoice(), other), _ledger_invoice()) == []


def test_a_second_payment_for_one_opensolar_payment_is_a_duplicate_and_explains_the_due():
    second = _payment("p2")
    snapshot = _snapshot(_invoice(amount_due=D("90.00")), _payment(), second)

    found = _compare(snapshot, _ledger_invoice(), (_ledger_payment(),))

    assert found == [(Finding.DUPLICATE, "payment", "p2")]


def test_a_record_syncledger_created_but_no_longer_expects_is_unexpected():
    snapshot = _snapshot(_invoice("i9", number="INV-9", reference="x"))
    owner = Owner("agg-9", "invoice:9", "INV-9")

    assert _compare(snapshot, owners={"i9": owner}) == [(Finding.UNEXPECTED, "invoice", "i9")]
    assert _compare(snapshot) == [], "records nobody claims and syncledger did not make: ignored"


def test_the_summary_counts_every_category():
    comparison = Comparison(_snapshot(_invoice(status="VOIDED")))
    found = comparison.group(_ledger_invoice(), [])

    summary = summarise(found)
    assert summary[Finding.VOIDED] == 1 and sum(summary.values()) == 1
    assert set(summary) == {
        Finding.MISSING,
        Finding.VOIDED,
        Finding.DELETED,
        Finding.REMOVED,
        Finding.DUPLICATE,
        Finding.UNEXPECTED,
        Finding.TOTAL_DIFFERS,
        Finding.AMOUNT_DUE_DIFFERS,
        Finding.UNEXPLAINED,
    }


def test_a_payment_on_a_ledger_invoice_that_no_document_explains_is_unexplained():
    by_hand = _payment("p9", reference="bank transfer", amount=D("50.00"))
    snapshot = _snapshot(_invoice(amount_due=D("60.00")), by_hand)

    found = _compare(snapshot, _ledger_invoice())

    assert (Finding.UNEXPLAINED, "payment", "p9") in found
    assert _compare(snapshot, _ledger_invoice(), owners={"p9": Owner("a", "payment:9", "9")}) != (
        found
    ), "a payment syncledger made is not unexplained"


def test_a_credit_note_for_a_ledger_invoices_contact_that_no_document_explains_is_unexplained():
    credit = XeroCreditNote(
        "cn9", "CN-HAND", "AUTHORISED", D("110.00"), D("110.00"), None, contact_id="c1"
    )
    elsewhere = XeroCreditNote(
        "cn8", "CN-OTHER", "AUTHORISED", D("5.00"), D("5.00"), None, contact_id="c7"
    )
    snapshot = _snapshot(_invoice(amount_due=D("110.00")), credit, elsewhere)

    found = _compare(snapshot, _ledger_invoice())

    assert found == [(Finding.UNEXPLAINED, "credit_note", "cn9")], (
        "another customer's credit is not ours"
    )


# reading Xero -----------------------------------------------------------------------------------


def _invoice_json(index: int) -> dict[str, Any]:
    return {
        "InvoiceID": f"00000000-0000-0000-0000-{index:012d}",
        "InvoiceNumber": f"INV-{index}",
        "Status": "AUTHORISED",
        "Total": 110,
        "AmountDue": 110,
        "Contact": {"ContactID": "C"},
        "DateString": "2026-11-20T00:00:00",
    }


class FakeXero:
    """A few Xero endpoints with paging, one 429 and a 404."""

    def __init__(self, invoices: int, limited: dict[str, str] | None = None) -> None:
        self.invoices = [_invoice_json(i) for i in range(invoices)]
        self.limited = limited
        self.seen: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api.xro/2.0")
        self.seen.append(f"{path}?{request.url.query.decode()}")
        assert request.headers["xero-tenant-id"] == "tenant"
        if self.limited is not None and path == "/CreditNotes":
            headers, self.limited = self.limited, None
            return httpx.Response(429, headers=headers, text="")
        if path == "/TaxRates":
            return httpx.Response(
                200, json={"TaxRates": [{"TaxType": "OUTPUT", "EffectiveRate": 10}]}
            )
        if path == "/Accounts":
            return httpx.Response(200, json={"Accounts": [{"Code": "200", "TaxType": "OUTPUT"}]})
        if path.startswith("/Invoices/"):
            return httpx.Response(404, text="The resource you have specified cannot be found")
        if path == "/Invoices":
            page = int(request.url.params["page"])
            size = int(request.url.params["pageSize"])
            items = self.invoices[(page - 1) * size : page * size]
            count = -(-len(self.invoices) // size)
            return httpx.Response(
                200, json={"Invoices": items, "pagination": {"page": page, "pageCount": count}}
            )
        return httpx.Response(200, json={path.strip("/"): []})


def _reader(fake: FakeXero, sleeps: list[float], **kw: Any) -> XeroReader:
    http = httpx.Client(transport=httpx.MockTransport(fake))
    client = XeroClient(http, "http://xero.test", "tenant")
    return XeroReader(client, sleep=sleeps.append, **kw)


def test_the_reader_pages_through_every_collection_and_waits_out_a_429():
    fake = FakeXero(5, limited={"Retry-After": "3", "X-Rate-Limit-Problem": "minute"})
    sleeps: list[float] = []
    pages: list[tuple[str, int, int | None]] = []

    snapshot = _reader(fake, sleeps, page_size=2, on_page=lambda *a: pages.append(a)).snapshot(
        since=date(2026, 11, 1)
    )

    assert len(snapshot.invoices) == 5 and snapshot.tax_rates == {"OUTPUT": D(10)}
    assert [p for p in pages if p[0] == "Invoices"] == [
        ("Invoices", 1, 3),
        ("Invoices", 2, 3),
        ("Invoices", 3, 3),
    ]
    assert sleeps == [3.0]
    invoice_query = next(s for s in fake.seen if s.startswith("/Invoices?"))
    assert "ACCREC" in invoice_query and "DateTime%282026%2C11%2C01%29" in invoice_query


def test_the_daily_limit_stops_the_reader_with_a_clear_message():
    fake = FakeXero(1, limited={"Retry-After": "40000", "X-Rate-Limit-Problem": "day"})

    with pytest.raises(ReconcileError, match="day limit"):
        _reader(fake, []).snapshot()


def test_fetching_a_record_xero_does_not_have_gives_none():
    assert _reader(FakeXero(0), []).fetch("invoice", "abc") is None
