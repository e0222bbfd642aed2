"""Contract: accounts, tax rates and the organisation (notes §1.2 recommendation, §1.6, §3)."""

from __future__ import annotations

from decimal import Decimal

from tests.sandbox.conftest import Api, data


def test_default_chart_is_an_australian_organisations(api: Api) -> None:
    """§1.2: account codes are validated against the chart; BANK and system accounts exist and
    must be refused on documents, so the chart has them (and one archived revenue account)."""
    accounts = {a["Code"]: a for a in data(api.get("/Accounts"))["Accounts"]}

    expected = {
        "090": "BANK",
        "091": "BANK",
        "200": "REVENUE",
        "260": "REVENUE",
        "270": "REVENUE",
        "310": "DIRECTCOSTS",
        "400": "EXPENSE",
        "610": "CURRENT",
        "800": "CURRLIAB",
        "820": "CURRLIAB",
        "880": "EQUITY",
    }
    assert {code: accounts[code]["Type"] for code in expected} == expected
    assert accounts["200"]["TaxType"] == "OUTPUT"
    assert accounts["610"]["SystemAccount"] == "DEBTORS"
    assert accounts["250"]["Status"] == "ARCHIVED"


def test_accounts_filter_by_status_and_code(api: Api) -> None:
    """§1.2: validate configured codes with `GET /Accounts?where=Status=="ACTIVE"`."""
    active = data(api.get("/Accounts", params={"where": 'Status=="ACTIVE"'}))["Accounts"]
    sales = data(api.get("/Accounts", params={"where": 'Code=="200"'}))["Accounts"]

    assert "250" not in {a["Code"] for a in active}
    assert [a["Name"] for a in sales] == ["Sales"]
    one = data(api.get(f"/Accounts/{sales[0]['AccountID']}"))["Accounts"][0]
    assert one["Code"] == "200"


def test_an_account_is_added_then_archived_one_element_per_request(api: Api) -> None:
    """§1.6: Accounts take one element per request (PUT /Accounts, POST /Accounts/{id})."""
    added = api.put(
        "/Accounts", json={"Code": "205", "Name": "Solar Incentives", "Type": "REVENUE"}
    )
    account = data(added)["Accounts"][0]

    archived = api.post(
        f"/Accounts/{account['AccountID']}", json={"Accounts": [{"Status": "ARCHIVED"}]}
    )
    duplicate = api.put("/Accounts", json={"Code": "205", "Name": "Other", "Type": "REVENUE"})

    assert account["Status"] == "ACTIVE"
    assert data(archived)["Accounts"][0]["Status"] == "ARCHIVED"
    assert duplicate.status_code == 400
    assert "unique Code" in duplicate.text


def test_tax_rates_are_the_australian_gst_rates(api: Api) -> None:
    """§1.2: TaxType is a code from TaxRates; an AU org has GST at 10 % and 0 % rates."""
    rates = {r["TaxType"]: r for r in data(api.get("/TaxRates"))["TaxRates"]}

    assert rates["OUTPUT"]["Name"] == "GST on Income"
    assert rates["OUTPUT"]["EffectiveRate"] == Decimal("10.0000")
    assert rates["INPUT"]["Name"] == "GST on Expenses"
    assert rates["EXEMPTOUTPUT"]["EffectiveRate"] == 0
    assert rates["BASEXCLUDED"]["Name"] == "BAS Excluded"


def test_organisation_describes_the_demo_company(api: Api) -> None:
    """§3: GET /Organisation is the cheap keep-alive call; it names the org and its currency."""
    organisation = data(api.get("/Organisation"))["Organisations"][0]

    assert organisation["Name"] == "Demo Company (AU)"
    assert organisation["BaseCurrency"] == "AUD"
    assert organisation["OrganisationID"] == api.tenant_id
