"""Contract: the organisation's currencies (notes/xero-api.md §1.7, §1.4, §1.2).

A document is in the base currency or one the organisation has enabled (`GET /Currencies`,
`PUT /Currencies`); payments are in their invoice's currency.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from syncledger.sandbox import Sandbox
from tests.sandbox.conftest import OPEN_MODE_TOKEN, Api, data, line

NOT_SUBSCRIBED = "Organisation is not subscribed to currency USD"


@pytest.fixture
def contact(api: Api) -> dict[str, Any]:
    return api.contact("Jane Citizen")


def _put_invoice(api: Api, contact: dict[str, Any], **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact["ContactID"]},
        "Date": "2026-11-24",
        "Status": "AUTHORISED",
        "LineItems": [line(100.0)],
        **fields,
    }
    response = api.put("/Invoices", params={"summarizeErrors": "false"}, json={"Invoices": [body]})
    assert response.status_code == 200, response.text
    element: dict[str, Any] = data(response)["Invoices"][0]
    return element


def _messages(element: dict[str, Any]) -> list[str]:
    return [error["Message"] for error in element.get("ValidationErrors", [])]


def test_currencies_list_the_base_currency(api: Api) -> None:
    """§1.7: `GET /Currencies` lists the enabled currencies; the base is always one of them."""
    currencies = data(api.get("/Currencies"))["Currencies"]
    organisation = data(api.get("/Organisation"))["Organisations"][0]

    assert currencies == [{"Code": "AUD", "Description": "Australian Dollar"}]
    assert organisation["BaseCurrency"] == "AUD"


def test_an_invoice_in_a_currency_not_enabled_is_refused(api: Api, contact: dict[str, Any]) -> None:
    """§1.2/§1.7: "org must be subscribed"; an invoice in a currency not enabled is refused."""
    element = _put_invoice(api, contact, CurrencyCode="USD")

    assert element["HasErrors"] is True
    assert _messages(element) == [NOT_SUBSCRIBED]
    assert api.state()["invoices"] == []


def test_put_currencies_enables_a_currency_for_invoices(api: Api, contact: dict[str, Any]) -> None:
    """§1.7: once `PUT /Currencies` enables USD, an invoice in USD is accepted and keeps it."""
    enabled = api.put("/Currencies", json={"Code": "USD", "Description": "United States Dollar"})

    invoice = _put_invoice(api, contact, CurrencyCode="USD")

    assert enabled.status_code == 200
    assert data(enabled)["Currencies"] == [{"Code": "USD", "Description": "United States Dollar"}]
    assert invoice["HasErrors"] is False
    assert invoice["CurrencyCode"] == "USD"
    assert api.state()["invoices"][0]["currency_code"] == "USD"
    codes = [c["Code"] for c in data(api.get("/Currencies"))["Currencies"]]
    assert codes == ["AUD", "USD"]
    assert data(api.get("/Organisation"))["Organisations"][0]["BaseCurrency"] == "AUD"


def test_currencies_filter_with_where_and_order(api: Api) -> None:
    """§1.7: `GET /Currencies` takes `where` and `order` like the other lists (spec)."""
    for code in ("USD", "NZD"):
        assert api.put("/Currencies", json={"Code": code}).status_code == 200

    filtered = data(api.get("/Currencies", params={"where": 'Code=="NZD"'}))["Currencies"]
    ordered = data(api.get("/Currencies", params={"order": "Code DESC"}))["Currencies"]

    assert filtered == [{"Code": "NZD", "Description": "New Zealand Dollar"}]
    assert [c["Code"] for c in ordered] == ["USD", "NZD", "AUD"]


def test_an_unknown_currency_code_is_a_validation_error(
    sandbox: Sandbox, api: Api, raw_client: httpx.Client
) -> None:
    """§1.7: only ISO codes Xero knows can be enabled. The spec's CurrencyCode enum forbids the
    request, so it is sent unchecked (raw_client)."""
    response = raw_client.put(
        f"{sandbox.url}/api.xro/2.0/Currencies",
        headers={
            "Authorization": f"Bearer {OPEN_MODE_TOKEN}",
            "xero-tenant-id": sandbox.tenant_ids[0],
            "Accept": "application/json",
        },
        json={"Code": "XYZ"},
    )

    body = data(response)
    assert response.status_code == 400
    assert body["Type"] == "ValidationException"
    assert body["Elements"][0]["ValidationErrors"] == [
        {"Message": "The currency code 'XYZ' is not valid."}
    ]
    assert [c["Code"] for c in data(api.get("/Currencies"))["Currencies"]] == ["AUD"]


def test_a_payment_on_a_foreign_currency_invoice_is_in_the_invoices_currency(
    api: Api, contact: dict[str, Any]
) -> None:
    """§1.7: "a payment is always in its invoice's currency"; it names no currency itself."""
    api.put("/Currencies", json={"Code": "USD"})
    invoice = _put_invoice(api, contact, CurrencyCode="USD")

    response = api.payment(invoice["InvoiceID"], 110.0)

    payment = data(response)["Payments"][0]
    assert payment["HasErrors"] is False
    assert payment["Invoice"]["CurrencyCode"] == "USD"
    fetched = data(api.get(f"/Invoices/{invoice['InvoiceID']}"))["Invoices"][0]
    assert (fetched["Status"], fetched["AmountDue"]) == ("PAID", 0)


def test_a_credit_note_needs_an_enabled_currency_and_the_invoices_to_allocate(
    api: Api, contact: dict[str, Any]
) -> None:
    """§1.4: "The currencies must match" for an allocation; §1.7: credit notes, like invoices,
    need an enabled currency."""
    body = {
        "Type": "ACCRECCREDIT",
        "Contact": {"ContactID": contact["ContactID"]},
        "Date": "2026-11-30",
        "Status": "AUTHORISED",
        "CurrencyCode": "USD",
        "LineItems": [line(100.0)],
    }
    before = api.put(
        "/CreditNotes", params={"summarizeErrors": "false"}, json={"CreditNotes": [body]}
    )
    api.put("/Currencies", json={"Code": "USD"})
    note = api.credit_note(contact["ContactID"], CurrencyCode="USD", LineItems=[line(100.0)])
    invoice = api.invoice(contact["ContactID"])

    allocation = api.put(
        f"/CreditNotes/{note['CreditNoteID']}/Allocations",
        params={"summarizeErrors": "false"},
        json={
            "Allocations": [
                {"Invoice": {"InvoiceID": invoice["InvoiceID"]}, "Amount": 10, "Date": "2026-11-30"}
            ]
        },
    )

    assert _messages(data(before)["CreditNotes"][0]) == [NOT_SUBSCRIBED]
    assert note["CurrencyCode"] == "USD"
    assert _messages(data(allocation)["Allocations"][0]) == [
        "The credit note and the invoice must be in the same currency."
    ]


def test_the_base_and_enabled_currencies_are_configurable_for_every_tenant(
    start_sandbox: Callable[..., Sandbox], make_api: Callable[..., Api]
) -> None:
    """§1.7: `GET /Organisation` gives BaseCurrency; documents default to it, and the configured
    currencies are enabled in every organisation (the CLI's --base-currency and --currency)."""
    sandbox = start_sandbox(tenants=2, base_currency="NZD", currencies=("USD",))
    second = make_api(sandbox, sandbox.tenant_ids[1])
    customer = second.contact("Kiwi Solar")

    organisation = data(second.get("/Organisation"))["Organisations"][0]
    currencies = [c["Code"] for c in data(second.get("/Currencies"))["Currencies"]]
    default = second.invoice(customer["ContactID"])
    dollars = second.invoice(customer["ContactID"], CurrencyCode="USD")
    refused = _put_invoice(second, customer, CurrencyCode="AUD")

    assert organisation["BaseCurrency"] == "NZD"
    assert currencies == ["NZD", "USD"]
    assert (default["CurrencyCode"], dollars["CurrencyCode"]) == ("NZD", "USD")
    assert _messages(refused) == ["Organisation is not subscribed to currency AUD"]
    assert sandbox.settings(sandbox.tenant_ids[0])["currencies"] == ["NZD", "USD"]
