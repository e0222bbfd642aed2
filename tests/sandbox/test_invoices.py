"""Contract: the sandbox's Invoices endpoints behave as notes/xero-api.md §1.2, §1.3, §1.7 say."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.sandbox.conftest import Api, data, line


@pytest.fixture
def contact(api: Api) -> dict[str, Any]:
    return api.contact("Jane Citizen", EmailAddress="jane@example.com")


def _put(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    response = api.put("/Invoices", params={"summarizeErrors": "false"}, json={"Invoices": [body]})
    assert response.status_code == 200
    element: dict[str, Any] = data(response)["Invoices"][0]
    return element


def _body(contact: dict[str, Any], **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact["ContactID"]},
        "Status": "AUTHORISED",
        "LineItems": [line(100.0)],
    }
    body.update(fields)
    return body


def _messages(element: dict[str, Any]) -> list[str]:
    return [error["Message"] for error in element.get("ValidationErrors", [])]


def test_tax_is_computed_and_rounded_per_line(api: Api, contact: dict[str, Any]) -> None:
    """§1.7: Xero rounds tax per line to 2 dp, then sums; per-total rounding would differ."""
    lines = [line(0.15, description=f"Part {i}") for i in range(3)]

    invoice = api.invoice(contact["ContactID"], LineItems=lines)

    assert [item["TaxAmount"] for item in invoice["LineItems"]] == [Decimal("0.02")] * 3
    assert invoice["SubTotal"] == Decimal("0.45")
    assert invoice["TotalTax"] == Decimal("0.06")  # 0.045 rounded on the total would be 0.05
    assert invoice["Total"] == Decimal("0.51")
    assert invoice["AmountDue"] == Decimal("0.51")


def test_line_amount_is_quantity_times_unit_amount_rounded(
    api: Api, contact: dict[str, Any]
) -> None:
    """§1.2/§1.7: LineAmount = Quantity × UnitAmount at 2 dp; unit amounts at 4 dp with unitdp."""
    body = _body(contact, LineItems=[line(33.3333, quantity=3)])
    response = api.put(
        "/Invoices", params={"summarizeErrors": "false", "unitdp": "4"}, json={"Invoices": [body]}
    )

    invoice = data(response)["Invoices"][0]
    assert invoice["LineItems"][0]["UnitAmount"] == Decimal("33.3333")
    assert invoice["LineItems"][0]["LineAmount"] == Decimal("100.00")
    assert invoice["TotalTax"] == Decimal("10.00")


def test_inclusive_line_amounts_contain_their_tax(api: Api, contact: dict[str, Any]) -> None:
    """§1.7: with Inclusive, tax = amount × rate / (1 + rate), rounded per line."""
    invoice = api.invoice(
        contact["ContactID"], LineAmountTypes="Inclusive", LineItems=[line(99.99)]
    )

    assert invoice["LineItems"][0]["TaxAmount"] == Decimal("9.09")
    assert invoice["SubTotal"] == Decimal("90.90")
    assert invoice["Total"] == Decimal("99.99")


def test_no_tax_documents_carry_no_tax(api: Api, contact: dict[str, Any]) -> None:
    """§1.2: LineAmountTypes NoTax."""
    invoice = api.invoice(contact["ContactID"], LineAmountTypes="NoTax", LineItems=[line(250.0)])

    assert invoice["TotalTax"] == 0
    assert invoice["Total"] == Decimal("250.00")


def test_a_sales_invoice_number_must_be_unique(api: Api, contact: dict[str, Any]) -> None:
    """§1.2: a PUT reusing an ACCREC number gives "Invoice # must be unique."."""
    api.invoice(contact["ContactID"], InvoiceNumber="OS-INV-1042")

    again = _put(api, _body(contact, InvoiceNumber="os-inv-1042"))

    assert again["HasErrors"] is True
    assert _messages(again) == ["Invoice # must be unique."]
    assert len(api.state()["invoices"]) == 1


def test_bill_numbers_need_not_be_unique(api: Api, contact: dict[str, Any]) -> None:
    """§1.2: ACCPAY numbers are not unique."""
    bill = _body(
        contact, Type="ACCPAY", InvoiceNumber="SUP-1", LineItems=[line(50.0, "400", "INPUT")]
    )

    first, second = _put(api, bill), _put(api, bill)

    assert first["HasErrors"] is False and second["HasErrors"] is False
    assert first["InvoiceID"] != second["InvoiceID"]


def test_a_missing_sales_number_is_generated(api: Api, contact: dict[str, Any]) -> None:
    """§1.2: InvoiceNumber "when missing will auto-generate from your Organisation Invoice
    Settings"."""
    first = api.invoice(contact["ContactID"])
    second = api.invoice(contact["ContactID"])

    assert (first["InvoiceNumber"], second["InvoiceNumber"]) == ("INV-0001", "INV-0002")


@pytest.mark.parametrize("code", ["999", "090", "610"])
def test_unknown_bank_and_system_accounts_are_not_valid_for_the_document(
    api: Api, contact: dict[str, Any], code: str
) -> None:
    """§1.2: "Account code 'X' is not a valid code for this document." for a code that does not
    exist or whose type cannot be used on ACCREC (BANK, system accounts)."""
    element = _put(api, _body(contact, LineItems=[line(10.0, account=code)]))

    assert _messages(element) == [f"Account code '{code}' is not a valid code for this document."]


def test_an_archived_account_is_refused(api: Api, contact: dict[str, Any]) -> None:
    """§1.2: "Account code 'X' has been archived, or has been deleted. ..."."""
    element = _put(api, _body(contact, LineItems=[line(10.0, account="250")]))

    assert _messages(element) == [
        "Account code '250' has been archived, or has been deleted. "
        "Each line item must reference a valid account."
    ]


def test_an_account_code_is_required_unless_draft(api: Api, contact: dict[str, Any]) -> None:
    """§1.2: lines without an AccountCode are only accepted on DRAFT: "Account code must be
    specified"."""
    authorised = _put(api, _body(contact, LineItems=[line(10.0, account=None, tax=None)]))
    draft = _put(
        api, _body(contact, Status="DRAFT", LineItems=[line(10.0, account=None, tax=None)])
    )

    assert _messages(authorised) == ["Account code must be specified"]
    assert draft["HasErrors"] is False and draft["Status"] == "DRAFT"


@pytest.mark.parametrize("tax", ["GSTWHATEVER", "INPUT"])
def test_an_unusable_tax_type_is_refused(api: Api, contact: dict[str, Any], tax: str) -> None:
    """§1.2: "The TaxType code 'X' does not exist or cannot be used for this type of
    transaction." (INPUT is a purchases rate, unusable on a sales invoice)."""
    element = _put(api, _body(contact, LineItems=[line(10.0, tax=tax)]))

    assert _messages(element) == [
        f"The TaxType code '{tax}' does not exist or cannot be used for this type of transaction."
    ]


def test_a_line_without_tax_type_takes_the_accounts_default(
    api: Api, contact: dict[str, Any]
) -> None:
    """§1.2: Xero applies the account's default tax rate when TaxType is omitted."""
    invoice = api.invoice(
        contact["ContactID"],
        LineItems=[line(100.0, account="200", tax=None), line(100.0, account="270", tax=None)],
    )

    assert [item["TaxType"] for item in invoice["LineItems"]] == ["OUTPUT", "BASEXCLUDED"]
    assert invoice["TotalTax"] == Decimal("10.00")


def test_a_contact_named_by_name_is_found_or_created(api: Api, contact: dict[str, Any]) -> None:
    """§1.2 ("send only ContactID", because Xero matches or creates contacts from the other
    fields): a Contact given by Name reuses the active contact of that name, else creates one."""
    existing = api.invoice("", Contact={"Name": "jane citizen"})
    created = api.invoice("", Contact={"Name": "New Customer"})

    assert existing["Contact"]["ContactID"] == contact["ContactID"]
    assert created["Contact"]["Name"] == "New Customer"
    assert len(api.state()["contacts"]) == 2


def test_an_unknown_contact_id_is_refused(api: Api) -> None:
    """§1.2: the contact is given by ContactID, which must exist."""
    element = _put(
        api,
        {
            "Type": "ACCREC",
            "Contact": {"ContactID": "00000000-0000-0000-0000-000000000042"},
            "LineItems": [line(10.0)],
        },
    )

    assert element["HasErrors"] is True
    assert api.state()["invoices"] == []


def test_invoices_are_looked_up_by_number_id_status_and_contact(
    api: Api, contact: dict[str, Any]
) -> None:
    """§1.2: look-up for de-duplication: `InvoiceNumbers=`, and `IDs=`, `Statuses=`,
    `ContactIDs=`; `GET /Invoices/{id}` also takes the number."""
    first = api.invoice(contact["ContactID"], InvoiceNumber="OS-INV-1")
    second = api.invoice(contact["ContactID"], InvoiceNumber="OS-INV-2", Status="DRAFT")

    def numbers(params: dict[str, str]) -> list[str]:
        return [i["InvoiceNumber"] for i in data(api.get("/Invoices", params=params))["Invoices"]]

    assert numbers({"InvoiceNumbers": "OS-INV-2"}) == ["OS-INV-2"]
    assert numbers({"IDs": f"{first['InvoiceID']},{second['InvoiceID']}"}) == [
        "OS-INV-1",
        "OS-INV-2",
    ]
    assert numbers({"Statuses": "DRAFT"}) == ["OS-INV-2"]
    assert numbers({"ContactIDs": contact["ContactID"]}) == ["OS-INV-1", "OS-INV-2"]
    by_number = data(api.get("/Invoices/OS-INV-1"))["Invoices"][0]
    assert by_number["InvoiceID"] == first["InvoiceID"]


def test_invoices_are_filtered_with_where(api: Api, contact: dict[str, Any]) -> None:
    """§1.2: `where=Type=="ACCREC" AND Reference=="OpenSolar project 987"`."""
    api.invoice(contact["ContactID"], Reference="OpenSolar project 987")
    api.invoice(contact["ContactID"], Reference="OpenSolar project 988")

    where = 'Type=="ACCREC" AND Reference=="OpenSolar project 987"'
    found = data(api.get("/Invoices", params={"where": where}))["Invoices"]
    owing = data(api.get("/Invoices", params={"where": "AmountDue > 1000"}))["Invoices"]
    by_contact = data(
        api.get("/Invoices", params={"where": f'Contact.ContactID==GUID("{contact["ContactID"]}")'})
    )["Invoices"]

    assert [i["Reference"] for i in found] == ["OpenSolar project 987"]
    assert len(owing) == 2
    assert len(by_contact) == 2


def test_lists_show_line_items_only_when_paged(api: Api, contact: dict[str, Any]) -> None:
    """§1.2 (spec getInvoices `page`: "Up to 100 invoices ... with line items shown")."""
    api.invoice(contact["ContactID"])

    unpaged = data(api.get("/Invoices"))["Invoices"][0]
    paged = data(api.get("/Invoices", params={"page": 1}))["Invoices"][0]

    assert "LineItems" not in unpaged
    assert len(paged["LineItems"]) == 1


def test_an_authorised_invoice_without_payments_is_voided(
    api: Api, contact: dict[str, Any]
) -> None:
    """§1.3: void with POST /Invoices/{InvoiceID} and Status VOIDED ("voided by hand")."""
    invoice = api.invoice(contact["ContactID"])

    response = api.post(
        f"/Invoices/{invoice['InvoiceID']}",
        json={"Invoices": [{"InvoiceID": invoice["InvoiceID"], "Status": "VOIDED"}]},
    )

    voided = data(response)["Invoices"][0]
    assert voided["Status"] == "VOIDED"
    assert voided["AmountDue"] == 0
    assert api.state()["invoices"][0]["status"] == "VOIDED"


def test_an_invoice_with_a_payment_cannot_be_voided(api: Api, contact: dict[str, Any]) -> None:
    """§1.3: voiding works only for AUTHORISED invoices with no payments and no allocations."""
    invoice = api.invoice(contact["ContactID"])
    assert api.payment(invoice["InvoiceID"], 100.0).status_code == 200

    response = api.post(f"/Invoices/{invoice['InvoiceID']}", json={"Status": "VOIDED"})

    assert response.status_code == 400
    element = data(response)["Elements"][0]
    assert "cannot be voided" in element["ValidationErrors"][0]["Message"]
    assert api.state()["invoices"][0]["status"] == "AUTHORISED"


def test_only_draft_or_submitted_invoices_are_deleted(api: Api, contact: dict[str, Any]) -> None:
    """§1.3: DELETED applies only to DRAFT or SUBMITTED invoices."""
    draft = api.invoice(contact["ContactID"], Status="DRAFT")
    authorised = api.invoice(contact["ContactID"])

    deleted = api.post(f"/Invoices/{draft['InvoiceID']}", json={"Status": "DELETED"})
    refused = api.post(f"/Invoices/{authorised['InvoiceID']}", json={"Status": "DELETED"})

    assert data(deleted)["Invoices"][0]["Status"] == "DELETED"
    assert refused.status_code == 400


def test_editing_a_drafts_lines_recomputes_its_totals(api: Api, contact: dict[str, Any]) -> None:
    """§1.2: on update the submitted LineItems replace the lines; totals are recomputed."""
    draft = api.invoice(contact["ContactID"], Status="DRAFT", LineItems=[line(100.0)])

    response = api.post(
        f"/Invoices/{draft['InvoiceID']}",
        json={"Invoices": [{"LineItems": [line(200.0), line(50.0, tax="EXEMPTOUTPUT")]}]},
    )

    edited = data(response)["Invoices"][0]
    assert edited["SubTotal"] == Decimal("250.00")
    assert edited["TotalTax"] == Decimal("20.00")
    assert edited["Total"] == Decimal("270.00")


def test_an_invoice_shows_its_payments_and_credit_notes(api: Api, contact: dict[str, Any]) -> None:
    """§1.2: read-only `Payments`, `CreditNotes`, `AmountPaid`, `AmountCredited`."""
    invoice = api.invoice(contact["ContactID"], LineItems=[line(1000.0)])
    api.payment(invoice["InvoiceID"], 100.0)
    note = api.credit_note(contact["ContactID"], LineItems=[line(200.0)])
    api.put(
        f"/CreditNotes/{note['CreditNoteID']}/Allocations",
        json={
            "Allocations": [
                {
                    "Invoice": {"InvoiceID": invoice["InvoiceID"]},
                    "Amount": 220.0,
                    "Date": "2026-11-30",
                }
            ]
        },
    )

    fetched = data(api.get(f"/Invoices/{invoice['InvoiceID']}"))["Invoices"][0]

    assert [p["Amount"] for p in fetched["Payments"]] == [Decimal("100.00")]
    assert [c["AppliedAmount"] for c in fetched["CreditNotes"]] == [Decimal("220.00")]
    assert fetched["AmountPaid"] == Decimal("100.00")
    assert fetched["AmountCredited"] == Decimal("220.00")
    assert fetched["AmountDue"] == Decimal("780.00")
