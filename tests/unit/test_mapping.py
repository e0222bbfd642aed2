"""Xero payloads from documents and the organisation's settings, mapped at send time."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from domain.errors import MappingError, MissingLedgerAccountError, MissingTaxRateMappingError
from domain.mapping import credit_note_payload, invoice_payload, payment_payload
from domain.opensolar import parse_change
from domain.organisation import Organisation
from syncledger.samples import invoice_change, payment_change


def org(**accounts: str) -> Organisation:
    organisation = Organisation.register("42")
    organisation.connect("http://x", "t", datetime(2026, 11, 1, tzinfo=UTC), "manual")
    for category, code in accounts.items():
        organisation.map_account(category, code)
    organisation.map_tax("GST", "OUTPUT")
    return organisation


def fields(**kwargs):
    return parse_change(json.dumps(invoice_change(**kwargs))).fields


def test_invoice_payload_is_an_authorised_accrec_with_mapped_accounts():
    body = invoice_payload(
        fields(), org(sales="200", discounts="200"), "contact-1", date(2026, 11, 20)
    )

    assert body["Type"] == "ACCREC" and body["Status"] == "AUTHORISED"
    assert body["InvoiceNumber"] == "INV-1042"
    assert body["Contact"] == {"ContactID": "contact-1"}
    assert body["LineAmountTypes"] == "Inclusive"
    assert [line["AccountCode"] for line in body["LineItems"]] == ["200", "200"]
    assert [line["TaxType"] for line in body["LineItems"]] == ["OUTPUT", "OUTPUT"]
    assert body["LineItems"][0]["UnitAmount"] == Decimal("9900.00")


def test_the_organisations_invoice_status_policy_is_used():
    organisation = org(sales="200", discounts="200")
    organisation.set_invoice_status("draft")

    assert invoice_payload(fields(), organisation, "c", date(2026, 11, 20))["Status"] == "DRAFT"


def test_amounts_excluding_tax_are_sent_as_exclusive():
    body = invoice_payload(
        fields(include_tax=False), org(sales="200", discounts="200"), "c", date(2026, 1, 1)
    )

    assert body["LineAmountTypes"] == "Exclusive"


def test_categories_match_case_insensitively():
    body = invoice_payload(fields(), org(SALES="200", Discounts="201"), "c", date(2026, 1, 1))

    assert [line["AccountCode"] for line in body["LineItems"]] == ["200", "201"]


def test_an_unmapped_category_is_a_missing_ledger_account_with_the_exact_message():
    lines = [{"category": "incentives", "quantity": 1, "unit_amount": "-2400.00"}]

    with pytest.raises(MissingLedgerAccountError) as caught:
        invoice_payload(fields(lines=lines), org(sales="200"), "c", date(2026, 1, 1))

    assert str(caught.value) == (
        "Missing Ledger Account: no Xero account is mapped for line category 'incentives'"
    )


def test_an_unmapped_tax_rate_is_a_missing_tax_rate_mapping():
    lines = [{"category": "sales", "quantity": 1, "unit_amount": "10", "tax_rate": "VAT"}]

    with pytest.raises(MissingTaxRateMappingError, match=r"Missing Tax Rate Mapping: .*'VAT'"):
        invoice_payload(fields(lines=lines), org(sales="200"), "c", date(2026, 1, 1))


def test_every_missing_mapping_is_named_in_one_message():
    lines = [
        {"category": "incentives", "quantity": 1, "unit_amount": "-1"},
        {"category": "batteries", "quantity": 1, "unit_amount": "1", "tax_rate": "VAT"},
    ]

    with pytest.raises(MappingError) as caught:
        invoice_payload(fields(lines=lines), org(sales="200"), "c", date(2026, 1, 1))

    assert "'incentives', 'batteries'" in str(caught.value) and "'VAT'" in str(caught.value)


def test_a_line_without_a_tax_rate_leaves_the_tax_type_to_the_account():
    lines = [{"category": "sales", "quantity": 1, "unit_amount": "10"}]

    body = invoice_payload(fields(lines=lines), org(sales="200"), "c", date(2026, 1, 1))

    assert "TaxType" not in body["LineItems"][0]


def test_credit_note_mirrors_the_invoice_as_xero_holds_it():
    held = {
        "InvoiceID": "i-1",
        "CurrencyCode": "NZD",
        "LineAmountTypes": "Exclusive",
        "LineItems": [
            {
                "Description": "PV",
                "Quantity": 1,
                "UnitAmount": Decimal("9900.00"),
                "AccountCode": "200",
                "TaxType": "OUTPUT",
                "LineItemID": "x",
                "LineAmount": 1,
            },
            {
                "Description": "Rounding",
                "Quantity": 1,
                "UnitAmount": Decimal("-0.01"),
                "AccountCode": "860",
            },
        ],
    }

    body = credit_note_payload(held, "INV-1042-2", "c", date(2026, 11, 30))

    assert body["Type"] == "ACCRECCREDIT" and body["Status"] == "AUTHORISED"
    assert body["CreditNoteNumber"] == "CN-INV-1042-2"
    assert (body["CurrencyCode"], body["LineAmountTypes"]) == ("NZD", "Exclusive")
    assert body["LineItems"] == [
        {
            "Description": "PV",
            "Quantity": 1,
            "UnitAmount": Decimal("9900.00"),
            "AccountCode": "200",
            "TaxType": "OUTPUT",
        },
        {
            "Description": "Rounding",
            "Quantity": 1,
            "UnitAmount": Decimal("-0.01"),
            "AccountCode": "860",
        },
    ]


def test_long_names_numbers_and_references_are_shortened_to_xeros_limits():
    from domain.mapping import contact_name, credit_note_number, payment_reference
    from domain.opensolar import Customer

    customer = Customer("9", "N" * 239, "someone@example.com")

    named = contact_name(customer, customer.email)

    assert len(named) == 255 and named.endswith(" (someone@example.com)")
    assert named.startswith("N" * 200) and "…" in named
    assert len(credit_note_number("9" * 255)) == 255
    payment = parse_change(json.dumps(payment_change(reference="R" * 255))).fields
    reference = payment_reference(payment, "3001")
    assert len(reference) <= 255 and reference.endswith("(OpenSolar payment 3001)")


def test_an_invoice_carries_a_link_naming_its_ledger_document():
    from domain.mapping import document_url, marked_document

    url = document_url("6f4b1c9e-3f5a-5d7e-9a51-0c1b2d3e4f50", "1042")
    body = invoice_payload(
        fields(), org(sales="200", discounts="200"), "c", date(2026, 1, 1), url=url
    )

    assert "xero" not in body["Url"].lower()
    assert marked_document(body["Url"]) == "6f4b1c9e-3f5a-5d7e-9a51-0c1b2d3e4f50"
    assert marked_document("https://example.com/invoice/1") is None


def test_payment_needs_a_payment_account():
    payment = parse_change(json.dumps(payment_change())).fields
    organisation = org()

    with pytest.raises(MappingError, match="payment-account 42"):
        payment_payload(payment, "3001", organisation, "inv-1", date(2026, 11, 22))
    organisation.set_payment_account("090")
    body = payment_payload(payment, "3001", organisation, "inv-1", date(2026, 11, 22))

    assert body["Account"] == {"Code": "090"}
    assert body["Reference"] == "Card 4242 (OpenSolar payment 3001)"
    assert body["Amount"] == Decimal("2000.00")
