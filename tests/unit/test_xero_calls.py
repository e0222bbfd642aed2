"""The named Xero calls keep their exact shape on the wire and in their records: method, path,
query, body and the summary each ``CallRecord`` keeps, over an in-process transport."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest

from outbox.errors import OutboxError
from outbox.xero import (
    CallRecord,
    XeroClient,
    XeroDuplicateNumberError,
    XeroError,
    XeroRejectedError,
)
from outbox.xero.answers import GONE, elements, every, first

Handler = Callable[[httpx.Request], httpx.Response]


def client(answer: Any) -> tuple[XeroClient, list[httpx.Request], list[CallRecord]]:
    sent: list[httpx.Request] = []
    records: list[CallRecord] = []

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=answer)

    http = httpx.Client(transport=httpx.MockTransport(handle))
    return XeroClient(http, "http://xero", "tenant", on_call=records.append), sent, records


INVOICE_BODY = {
    "InvoiceNumber": "INV-1",
    "Contact": {"ContactID": "c1"},
    "Status": "AUTHORISED",
    "LineAmountTypes": "Exclusive",
    "LineItems": [
        {"AccountCode": "200", "TaxType": "OUTPUT", "Quantity": 2, "UnitAmount": Decimal("5")}
    ],
}
INVOICE_SUMMARY = {
    "number": "INV-1",
    "contact_id": "c1",
    "status": "AUTHORISED",
    "line_amount_types": "Exclusive",
    "lines": [{"account": "200", "tax_type": "OUTPUT", "quantity": "2", "unit_amount": "5"}],
}


def test_a_lookup_over_several_emails_is_one_get_whose_record_splits_per_document():
    xero, sent, records = client({"Contacts": [{"ContactID": "c1", "EmailAddress": "a@x"}]})

    found = xero.find_contacts_by_emails(["a@x", 'b"@x'], [["d1"], ["d2"]])

    assert found == [{"ContactID": "c1", "EmailAddress": "a@x"}]
    [request] = sent
    assert request.method == "GET" and request.url.path == "/api.xro/2.0/Contacts"
    assert request.url.params["where"] == 'EmailAddress=="a@x" OR EmailAddress=="b\\"@x"'
    [record] = records
    assert (record.operation, record.request) == ("find_contacts", {"emails": ["a@x", 'b"@x']})
    view = record.view("d1")
    assert view is not None and view["request"]["emails"] == ["a@x"]
    assert view["path"] == '/Contacts?where=EmailAddress=="a@x"'
    assert view["response"]["Contacts"] == [{"ContactID": "c1", "EmailAddress": "a@x"}]
    assert record.view("d2") == {
        **view,
        "request": {"emails": ['b"@x'], "batch_size": 2},
        "path": '/Contacts?where=EmailAddress=="b\\"@x"',
        "response": {"Contacts": []},
    }


@pytest.mark.parametrize(
    ("call", "path", "query", "operation", "summary"),
    [
        (
            lambda x: x.find_invoices(["A", "B"]),
            "/Invoices",
            {"InvoiceNumbers": "A,B", "page": "1"},
            "find_invoices",
            {"numbers": ["A", "B"]},
        ),
        (
            lambda x: x.get_invoices(["i1", "i2"]),
            "/Invoices",
            {"IDs": "i1,i2", "page": "1"},
            "get_invoices",
            {"ids": ["i1", "i2"]},
        ),
        (
            lambda x: x.find_payments_by_references(["r"]),
            "/Payments",
            {"where": 'Reference=="r"'},
            "find_payments",
            {"references": ["r"]},
        ),
        (
            lambda x: x.find_contacts_by_names(["N"]),
            "/Contacts",
            {"where": 'Name=="N"'},
            "find_contacts",
            {"names": ["N"]},
        ),
        (
            lambda x: x.find_contacts(email="a@x"),
            "/Contacts",
            {"where": 'EmailAddress=="a@x"'},
            "find_contact",
            {"email": "a@x", "name": None},
        ),
        (
            lambda x: x.find_invoice("A"),
            "/Invoices",
            {"InvoiceNumbers": "A"},
            "find_invoice",
            {"number": "A"},
        ),
        (
            lambda x: x.find_credit_note("CN-A"),
            "/CreditNotes",
            {"where": 'CreditNoteNumber=="CN-A"'},
            "find_credit_note",
            {"number": "CN-A"},
        ),
        (
            lambda x: x.find_payments("r"),
            "/Payments",
            {"where": 'Reference=="r"'},
            "find_payment",
            {"reference": "r"},
        ),
    ],
)
def test_each_lookup_sends_its_query_and_records_its_terms(call, path, query, operation, summary):
    xero, sent, records = client({})

    call(xero)

    [request] = sent
    assert request.method == "GET" and request.url.path == "/api.xro/2.0" + path
    assert list(request.url.params.items()) == list(query.items())
    [record] = records
    assert (record.operation, record.request) == (operation, summary)
    assert record.path == path + "?" + "&".join(f"{k}={v}" for k, v in query.items())


def test_a_lookup_for_no_terms_makes_no_call():
    xero, sent, _ = client({})

    assert xero.find_invoices([]) == [] and xero.find_contacts_by_emails([]) == []
    assert xero.find_contacts() == [] and sent == []


def test_finding_an_invoice_prefers_a_live_one_and_skips_bills():
    answer = {
        "Invoices": [
            {"InvoiceID": "bill", "Type": "ACCPAY", "Status": "AUTHORISED"},
            {"InvoiceID": "old", "Status": "VOIDED"},
            {"InvoiceID": "live", "Status": "AUTHORISED"},
        ]
    }
    xero, _, _ = client(answer)

    found = xero.find_invoice("A")

    assert found is not None and found["InvoiceID"] == "live"


def test_a_batch_of_invoices_is_one_put_with_four_decimals_and_one_summary_per_invoice():
    xero, sent, records = client({"Invoices": [{"InvoiceID": "i1"}, {"InvoiceID": "i2"}]})

    answers = xero.create_invoices([INVOICE_BODY, INVOICE_BODY], "key", [["d1"], ["d2"]])

    assert [a.data["InvoiceID"] for a in answers] == ["i1", "i2"]
    [request] = sent
    assert (request.method, request.url.path) == ("PUT", "/api.xro/2.0/Invoices")
    assert dict(request.url.params) == {"summarizeErrors": "false", "unitdp": "4"}
    assert request.headers["Idempotency-Key"] == "key"
    assert json.loads(request.content)["Invoices"][0]["LineItems"][0]["UnitAmount"] == 5
    [record] = records
    assert record.request == {"count": 2, "items": [INVOICE_SUMMARY, INVOICE_SUMMARY]}
    assert record.path == "/Invoices?summarizeErrors=false&unitdp=4"


def test_single_writes_keep_their_method_path_query_and_summary():
    payment = {
        "Invoice": {"InvoiceID": "i1"},
        "Account": {"Code": "090"},
        "Amount": Decimal("10.00"),
        "Date": "2026-11-20",
        "Reference": "r",
    }
    allocation = {"Invoice": {"InvoiceID": "i1"}, "Amount": Decimal("3.50")}
    answer = {
        "Invoices": [{"InvoiceID": "i1"}],
        "Payments": [{"PaymentID": "p1"}],
        "Allocations": [{"Amount": 3.5}],
    }
    xero, sent, records = client(answer)

    xero.update_invoice("i1", INVOICE_BODY, "k1")
    xero.create_payment(payment, "k2")
    xero.allocate_credit_note("cn1", allocation, "k3")
    xero.delete_payment("p1", "k4")

    assert [(r.method, r.url.path, dict(r.url.params)) for r in sent] == [
        ("POST", "/api.xro/2.0/Invoices/i1", {"unitdp": "4"}),
        ("PUT", "/api.xro/2.0/Payments", {"summarizeErrors": "false"}),
        ("PUT", "/api.xro/2.0/CreditNotes/cn1/Allocations", {"summarizeErrors": "false"}),
        ("POST", "/api.xro/2.0/Payments/p1", {}),
    ]
    assert json.loads(sent[3].content) == {"Status": "DELETED"}
    assert [r.request for r in records] == [
        {"invoice_id": "i1", **INVOICE_SUMMARY},
        {
            "invoice_id": "i1",
            "account": "090",
            "amount": "10.00",
            "date": "2026-11-20",
            "reference": "r",
        },
        {"credit_note_id": "cn1", "invoice_id": "i1", "amount": "3.50"},
        {"payment_id": "p1", "status": "DELETED"},
    ]


def test_the_one_element_answered_raises_its_refusal():
    duplicate = {"Invoices": [{"ValidationErrors": [{"Message": "Invoice # must be unique."}]}]}
    flagged = {"Invoices": [{"HasErrors": True}]}

    with pytest.raises(XeroDuplicateNumberError):
        first(duplicate, "Invoices")
    with pytest.raises(XeroRejectedError) as refused:
        first(flagged, "Invoices")
    assert refused.value.messages == ("Xero reported an error on this element",)
    assert first({"Invoices": [{"InvoiceID": "i1"}]}, "Invoices") == {"InvoiceID": "i1"}


def test_each_element_of_a_batch_answer_carries_its_own_messages():
    answer = {
        "Invoices": [
            {"InvoiceID": "i1"},
            {"ValidationErrors": [{"Message": "Invoice # must be unique."}]},
            {"StatusAttributeString": "ERROR"},
        ]
    }

    ok, duplicate, failed = elements(answer, "Invoices", 3)

    assert ok.ok and not ok.duplicate_number
    assert duplicate.duplicate_number and not duplicate.ok
    assert failed.messages == ("Xero reported an error on this element",)
    assert not failed.duplicate_number
    with pytest.raises(XeroError):
        elements(answer, "Invoices", 2)


def test_every_keeps_only_objects_and_gone_names_voided_and_deleted():
    assert every({"Payments": [{"PaymentID": "p"}, "junk"]}, "Payments") == [{"PaymentID": "p"}]
    assert every([], "Payments") == []
    assert {"VOIDED", "DELETED"} == GONE


def test_xero_errors_are_outbox_errors():
    assert issubclass(XeroError, OutboxError)
