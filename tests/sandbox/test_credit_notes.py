"""Contract: credit notes and their allocation to invoices (notes/xero-api.md §1.4)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.sandbox.conftest import Api, data, line


@pytest.fixture
def contact(api: Api) -> dict[str, Any]:
    return api.contact("Jane Citizen")


def _allocate(api: Api, note_id: str, invoice_id: str, amount: float) -> httpx.Response:
    return api.put(
        f"/CreditNotes/{note_id}/Allocations",
        params={"summarizeErrors": "false"},
        json={
            "Allocations": [
                {"Invoice": {"InvoiceID": invoice_id}, "Amount": amount, "Date": "2026-11-30"}
            ]
        },
    )


def test_a_credit_note_mirrors_invoice_arithmetic_and_has_remaining_credit(
    api: Api, contact: dict[str, Any]
) -> None:
    """§1.4: ACCRECCREDIT with the same validation and tax as invoices, plus RemainingCredit."""
    note = api.credit_note(
        contact["ContactID"], LineItems=[line(9000.0), line(-2500.0, description="STC")]
    )

    assert note["Type"] == "ACCRECCREDIT"
    assert note["CreditNoteNumber"] == "CN-0001"
    assert note["Total"] == Decimal("7150.00")
    assert note["RemainingCredit"] == Decimal("7150.00")


def test_a_credit_note_number_must_be_unique(api: Api, contact: dict[str, Any]) -> None:
    """§1.4: CreditNoteNumber is unique for ACCRECCREDIT."""
    api.credit_note(contact["ContactID"], CreditNoteNumber="OS-CN-1042")

    response = api.put(
        "/CreditNotes",
        params={"summarizeErrors": "false"},
        json={
            "CreditNotes": [
                {
                    "Type": "ACCRECCREDIT",
                    "Contact": {"ContactID": contact["ContactID"]},
                    "CreditNoteNumber": "OS-CN-1042",
                    "LineItems": [line(10.0)],
                }
            ]
        },
    )

    element = data(response)["CreditNotes"][0]
    assert [e["Message"] for e in element["ValidationErrors"]] == ["Credit Note # must be unique."]


def test_a_credit_note_line_is_validated_like_an_invoice_line(
    api: Api, contact: dict[str, Any]
) -> None:
    """§1.2 via §1.4 (Xero-NetStandard#364): an unusable account on ACCRECCREDIT."""
    response = api.put(
        "/CreditNotes",
        params={"summarizeErrors": "false"},
        json={
            "CreditNotes": [
                {
                    "Type": "ACCRECCREDIT",
                    "Contact": {"ContactID": contact["ContactID"]},
                    "Status": "AUTHORISED",
                    "LineItems": [line(10.0, account="090")],
                }
            ]
        },
    )

    element = data(response)["CreditNotes"][0]
    assert element["ValidationErrors"] == [
        {"Message": "Account code '090' is not a valid code for this document."}
    ]


def test_allocating_zeroes_the_invoice_and_marks_it_paid(api: Api, contact: dict[str, Any]) -> None:
    """§1.4: allocation reduces AmountDue, raises AmountCredited; at zero the invoice is PAID."""
    invoice = api.invoice(contact["ContactID"], LineItems=[line(1000.0)])
    note = api.credit_note(contact["ContactID"], LineItems=[line(1000.0)])

    response = _allocate(api, note["CreditNoteID"], invoice["InvoiceID"], 1100.0)

    allocation = data(response)["Allocations"][0]
    assert allocation["Amount"] == Decimal("1100.00")
    fetched = data(api.get(f"/Invoices/{invoice['InvoiceID']}"))["Invoices"][0]
    assert fetched["AmountDue"] == 0
    assert fetched["AmountCredited"] == Decimal("1100.00")
    assert fetched["Status"] == "PAID"
    credit = data(api.get(f"/CreditNotes/{note['CreditNoteID']}"))["CreditNotes"][0]
    assert credit["RemainingCredit"] == 0
    assert credit["Status"] == "PAID"


def test_only_an_authorised_credit_note_can_be_allocated(api: Api, contact: dict[str, Any]) -> None:
    """§1.4: the credit note must be AUTHORISED before allocating."""
    invoice = api.invoice(contact["ContactID"])
    draft = api.credit_note(contact["ContactID"], Status="DRAFT")

    response = _allocate(api, draft["CreditNoteID"], invoice["InvoiceID"], 10.0)

    element = data(response)["Allocations"][0]
    assert element["HasErrors"] is True
    assert "AUTHORISED" in element["ValidationErrors"][0]["Message"]
    assert api.state()["allocations"] == []


def test_an_allocation_cannot_exceed_remaining_credit_or_amount_due(
    api: Api, contact: dict[str, Any]
) -> None:
    """§1.4: Amount must not exceed the credit note's RemainingCredit or the invoice's
    AmountDue."""
    small_invoice = api.invoice(contact["ContactID"], LineItems=[line(100.0)])
    big_invoice = api.invoice(contact["ContactID"], LineItems=[line(5000.0)])
    note = api.credit_note(contact["ContactID"], LineItems=[line(1000.0)])

    over_due = data(_allocate(api, note["CreditNoteID"], small_invoice["InvoiceID"], 200.0))
    over_credit = data(_allocate(api, note["CreditNoteID"], big_invoice["InvoiceID"], 2000.0))

    assert "exceeds the amount due" in over_due["Allocations"][0]["ValidationErrors"][0]["Message"]
    assert (
        "exceeds the remaining credit"
        in over_credit["Allocations"][0]["ValidationErrors"][0]["Message"]
    )
    assert api.state()["allocations"] == []


def test_credit_notes_are_looked_up_by_number(api: Api, contact: dict[str, Any]) -> None:
    """§1.4/§2: look-before-create finds a credit note by CreditNoteNumber or Reference."""
    note = api.credit_note(
        contact["ContactID"], CreditNoteNumber="OS-CN-7", Reference="Cancel OS-INV-7"
    )

    by_where = data(api.get("/CreditNotes", params={"where": 'CreditNoteNumber=="OS-CN-7"'}))
    by_reference = data(api.get("/CreditNotes", params={"where": 'Reference=="Cancel OS-INV-7"'}))
    by_number = data(api.get("/CreditNotes/OS-CN-7"))

    assert [c["CreditNoteID"] for c in by_where["CreditNotes"]] == [note["CreditNoteID"]]
    assert [c["CreditNoteID"] for c in by_reference["CreditNotes"]] == [note["CreditNoteID"]]
    assert by_number["CreditNotes"][0]["CreditNoteID"] == note["CreditNoteID"]
