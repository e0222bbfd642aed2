"""Contract: payments applied to invoices (notes/xero-api.md §1.5, §1.3)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.sandbox.conftest import Api, data, line


@pytest.fixture
def invoice(api: Api) -> dict[str, Any]:
    contact = api.contact("Jane Citizen")
    return api.invoice(contact["ContactID"], InvoiceNumber="OS-INV-1042", LineItems=[line(1000.0)])


def _messages(response: Any) -> list[str]:
    return [e["Message"] for e in data(response)["Payments"][0].get("ValidationErrors", [])]


def test_a_payment_by_invoice_number_and_account_code_pays_the_invoice(
    api: Api, invoice: dict[str, Any]
) -> None:
    """§1.5: Invoice by InvoiceID or InvoiceNumber, Account by Code; the invoice becomes PAID
    when nothing is left."""
    first = api.put(
        "/Payments",
        json={
            "Payments": [
                {
                    "Invoice": {"InvoiceNumber": "OS-INV-1042"},
                    "Account": {"Code": "090"},
                    "Date": "2026-11-25",
                    "Amount": 100.0,
                    "Reference": "deposit",
                }
            ]
        },
    )
    second = api.payment(invoice["InvoiceID"], 1000.0)

    assert first.status_code == 200 and second.status_code == 200
    paid = data(api.get(f"/Invoices/{invoice['InvoiceID']}"))["Invoices"][0]
    assert paid["AmountPaid"] == Decimal("1100.00")
    assert paid["AmountDue"] == 0
    assert paid["Status"] == "PAID"


def test_a_payment_cannot_exceed_the_amount_outstanding(api: Api, invoice: dict[str, Any]) -> None:
    """§1.5: "Payment amount exceeds the amount outstanding on this document"."""
    response = api.payment(invoice["InvoiceID"], 1100.01)

    assert _messages(response) == ["Payment amount exceeds the amount outstanding on this document"]
    assert api.state()["payments"] == []


def test_a_payment_needs_an_authorised_invoice(api: Api) -> None:
    """§1.5: the invoice must be AUTHORISED."""
    contact = api.contact("Jane Citizen")
    draft = api.invoice(contact["ContactID"], Status="DRAFT")

    response = api.payment(draft["InvoiceID"], 10.0)

    assert data(response)["Payments"][0]["HasErrors"] is True
    assert "AUTHORISED" in _messages(response)[0]


def test_the_payment_account_must_be_a_bank_account_or_accept_payments(
    api: Api, invoice: dict[str, Any]
) -> None:
    """§1.5: the account must be of type BANK or have EnablePaymentsToAccount=true."""
    refused = api.payment(invoice["InvoiceID"], 10.0, Account={"Code": "200"})
    sales = data(api.get("/Accounts", params={"where": 'Code=="200"'}))["Accounts"][0]
    api.post(
        f"/Accounts/{sales['AccountID']}", json={"Accounts": [{"EnablePaymentsToAccount": True}]}
    )
    accepted = api.payment(invoice["InvoiceID"], 10.0, Account={"AccountID": sales["AccountID"]})

    assert "BANK" in _messages(refused)[0]
    assert data(accepted)["Payments"][0]["HasErrors"] is False


def test_payments_are_found_by_reference(api: Api, invoice: dict[str, Any]) -> None:
    """§1.5: payments have no natural key; de-duplicate with `where=Reference=="..."`."""
    api.payment(invoice["InvoiceID"], 10.0, Reference="OpenSolar payment 555")
    api.payment(invoice["InvoiceID"], 20.0, Reference="OpenSolar payment 556")

    found = data(api.get("/Payments", params={"where": 'Reference=="OpenSolar payment 555"'}))
    by_invoice = data(
        api.get("/Payments", params={"where": f'Invoice.InvoiceID==GUID("{invoice["InvoiceID"]}")'})
    )

    assert [p["Amount"] for p in found["Payments"]] == [Decimal("10.00")]
    assert found["Payments"][0]["Invoice"]["InvoiceNumber"] == "OS-INV-1042"
    assert len(by_invoice["Payments"]) == 2


def test_deleting_a_payment_restores_the_amount_due(api: Api, invoice: dict[str, Any]) -> None:
    """§1.3: delete each payment with POST /Payments/{PaymentID} and Status DELETED."""
    payment = data(api.payment(invoice["InvoiceID"], 1100.0))["Payments"][0]

    response = api.post(f"/Payments/{payment['PaymentID']}", json={"Status": "DELETED"})

    assert data(response)["Payments"][0]["Status"] == "DELETED"
    restored = data(api.get(f"/Invoices/{invoice['InvoiceID']}"))["Invoices"][0]
    assert restored["AmountDue"] == Decimal("1100.00")
    assert restored["Status"] == "AUTHORISED"
    assert restored["Payments"] == []
