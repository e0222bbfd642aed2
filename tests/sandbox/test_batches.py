"""Contract: batch PUTs, summarizeErrors and size limits (notes/xero-api.md §1.6)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sandbox.conftest import Api, data, line


@pytest.fixture
def contact(api: Api) -> dict[str, Any]:
    return api.contact("Jane Citizen")


def _invoice(contact: dict[str, Any], number: str, account: str = "200") -> dict[str, Any]:
    return {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact["ContactID"]},
        "InvoiceNumber": number,
        "Status": "AUTHORISED",
        "LineItems": [line(100.0, account=account)],
    }


def test_an_unsummarised_batch_reports_every_element(api: Api, contact: dict[str, Any]) -> None:
    """§1.6: with summarizeErrors=false the status is 200 and each element carries
    StatusAttributeString, HasErrors and its own ValidationErrors."""
    batch = [_invoice(contact, "A-1"), _invoice(contact, "A-2", account="999")]

    response = api.put("/Invoices", params={"summarizeErrors": "false"}, json={"Invoices": batch})

    assert response.status_code == 200
    good, bad = data(response)["Invoices"]
    assert (good["StatusAttributeString"], good["HasErrors"]) == ("OK", False)
    assert (bad["StatusAttributeString"], bad["HasErrors"]) == ("ERROR", True)
    assert bad["ValidationErrors"] == [
        {"Message": "Account code '999' is not a valid code for this document."}
    ]


def test_a_summarised_batch_fails_whole_but_still_creates_the_valid_elements(
    api: Api, contact: dict[str, Any]
) -> None:
    """§1.6: without summarizeErrors=false one invalid element gives HTTP 400 for the whole
    request, but the valid ones are still created and their IDs are not returned."""
    batch = [_invoice(contact, "B-1"), _invoice(contact, "B-2", account="999")]

    response = api.put("/Invoices", json={"Invoices": batch})

    assert response.status_code == 400
    body = data(response)
    assert (body["ErrorNumber"], body["Type"]) == (10, "ValidationException")
    assert body["Message"] == "A validation exception occurred"
    assert [e["InvoiceNumber"] for e in body["Elements"]] == ["B-2"]
    assert [i["invoice_number"] for i in api.state()["invoices"]] == ["B-1"]


def test_a_single_object_body_is_one_element(api: Api, contact: dict[str, Any]) -> None:
    """§1.6 (and §1.5, where the spec's single-object schema wraps in Payments[]): a body may be
    the collection or one bare element."""
    response = api.put("/Invoices", json=_invoice(contact, "C-1"))

    assert response.status_code == 200
    assert data(response)["Invoices"][0]["InvoiceNumber"] == "C-1"


def test_more_than_50_elements_are_refused(api: Api) -> None:
    """§1.6: "a ceiling of about 50 nodes per request"; the sandbox enforces 50."""
    contacts = [{"Name": f"Customer {i}"} for i in range(51)]

    response = api.put("/Contacts", json={"Contacts": contacts})

    assert response.status_code == 400
    assert "at most 50" in data(response)["Message"]
    assert api.state()["contacts"] == []


def test_a_body_over_3_5_mb_is_refused_with_413(api: Api) -> None:
    """§1.6: a single request is limited to 3.5 MB."""
    padding = "x" * 4000
    contacts = [{"Name": f"Customer {i}", "BankAccountDetails": padding * 22} for i in range(49)]

    response = api.put("/Contacts", json={"Contacts": contacts})

    assert response.status_code == 413
    assert api.state()["contacts"] == []
