"""The change envelope parser: typed values for good changes, field-level errors for bad ones."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from domain.errors import ChangeError
from domain.opensolar import InvoiceFields, PaymentFields, parse_change
from syncledger.samples import invoice_change, payment_change

ISSUE_EXAMPLE = (
    '{"event_id": "evt-9001", "timestamp": "2026-11-20T09:30:00Z", "org_id": 42, '
    '"model": "Invoice", "model_id": 1042, "event": "UPDATE", '
    '"fields": {"invoice_number": "INV-00019", "status": "sent", "project_id": 777, '
    '"issued_date": "2026-11-20", "due_date": "2026-12-04", "currency": "AUD", '
    '"amounts_include_tax": true, '
    '"customer": {"id": 555, "name": "Jane Citizen", "email": "jane@example.com"}, '
    '"line_items": [{"category": "sales", "description": "6.6 kW system", "quantity": 1, '
    '"unit_amount": "9900.00", "tax_rate": "GST"}, {"category": "incentives", '
    '"description": "STC rebate", "quantity": 1, "unit_amount": "-2400.00"}, '
    '{"category": "discounts", "description": "Referral", "quantity": 1, '
    '"unit_amount": "-250.00"}]}}'
)


def errors_of(change: dict | str) -> dict[str, str]:
    text = change if isinstance(change, str) else json.dumps(change)
    with pytest.raises(ChangeError) as caught:
        parse_change(text)
    return {e.field: e.message for e in caught.value.errors}


def test_the_issue_example_parses_into_typed_values():
    change = parse_change(ISSUE_EXAMPLE)

    assert change.event_id == "evt-9001"
    assert change.org_id == "42" and change.model_id == "1042"
    assert change.timestamp == datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    assert isinstance(change.fields, InvoiceFields)
    assert change.fields.issued_date == date(2026, 11, 20)
    assert change.fields.line_items[1].unit_amount == Decimal("-2400.00")
    assert change.fields.line_items[2].tax_rate is None
    assert change.fields.total == Decimal("7250.00")
    assert change.reference == "invoice:1042"


def test_json_numbers_become_decimals_never_floats():
    change = parse_change(json.dumps(payment_change(amount="0")).replace('"0"', "0.1"))

    assert isinstance(change.fields, PaymentFields)
    assert change.fields.amount == Decimal("0.10")
    assert isinstance(change.fields.amount, Decimal)


def test_unix_seconds_as_a_string_are_accepted_as_opensolar_sends_them():
    change = parse_change(json.dumps(payment_change(timestamp="1795341600")))

    assert change.timestamp == datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("mutate", "field", "words"),
    [
        (lambda c: c.pop("event_id"), "event_id", "required"),
        (lambda c: c.update(model="Quote"), "model", "unknown model"),
        (
            lambda c: c["fields"]["line_items"][0].update(unit_amount="abc"),
            "fields.line_items[0].unit_amount",
            "not a decimal amount",
        ),
        (
            lambda c: c["fields"]["line_items"][0].update(quantity=0),
            "fields.line_items[0].quantity",
            "greater than zero",
        ),
        (
            lambda c: c["fields"]["line_items"][0].update(quantity=-2),
            "fields.line_items[0].quantity",
            "greater than zero",
        ),
        (lambda c: c["fields"].update(currency="XYZ"), "fields.currency", "unknown currency"),
        (
            lambda c: c["fields"].update(issued_date="2026-02-30"),
            "fields.issued_date",
            "not a valid date",
        ),
        (lambda c: c.update(timestamp="yesterday"), "timestamp", "not an ISO 8601"),
        (lambda c: c["fields"].update(status="lost"), "fields.status", "unknown value"),
        (lambda c: c["fields"]["customer"].pop("name"), "fields.customer.name", "required"),
        (
            lambda c: c["fields"].update(amounts_include_tax="yes"),
            "fields.amounts_include_tax",
            "true or false",
        ),
        (lambda c: c["fields"].update(line_items=[]), "fields.line_items", "at least one line"),
        (lambda c: c.update(org_id=[1]), "org_id", "string or an integer"),
        (
            lambda c: c["fields"]["line_items"][0].update(unit_amount="1e400"),
            "fields.line_items[0].unit_amount",
            "out of range",
        ),
    ],
)
def test_each_bad_field_is_named_with_the_reason(mutate, field, words):
    change = invoice_change()
    mutate(change)

    errors = errors_of(change)

    assert field in errors, errors
    assert words in errors[field]


def test_every_bad_field_of_a_change_is_reported_not_just_the_first():
    change = invoice_change()
    change["fields"]["currency"] = "XYZ"
    change["fields"]["line_items"][1]["unit_amount"] = "abc"

    errors = errors_of(change)

    assert {"fields.currency", "fields.line_items[1].unit_amount"} <= set(errors)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{not json", "not valid JSON"),
        ('{"amount": 1,}', "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ("[" * 100000 + "]" * 100000, "nested too deeply"),
    ],
)
def test_unreadable_lines_are_reported_as_line_errors(text, words):
    assert words in errors_of(text)["(line)"]


def test_payment_amount_in_words_is_rejected_with_the_payment_named():
    change = payment_change(amount="two thousand")

    with pytest.raises(ChangeError) as caught:
        parse_change(json.dumps(change))

    assert caught.value.document == "payment:3001"
    assert "fields.amount" in str(caught.value)


def test_extra_fields_are_ignored():
    change = invoice_change(colour="green")
    change["extra"] = {"nested": [1, 2, 3]}

    parsed = parse_change(json.dumps(change))

    assert isinstance(parsed.fields, InvoiceFields)


def test_a_draft_invoice_needs_no_lines():
    change = invoice_change(status="not_sent", lines=[])

    parsed = parse_change(json.dumps(change))

    assert isinstance(parsed.fields, InvoiceFields) and parsed.fields.line_items == ()


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "9" * 5000, '"1E+1000000"'])
def test_a_non_finite_huge_or_overlong_amount_is_refused_naming_its_field(literal):
    text = json.dumps(invoice_change()).replace('"9900.00"', literal, 1)

    errors = errors_of(text)

    assert list(errors) == ["fields.line_items[0].unit_amount"]
    assert "set_int_max_str_digits" not in errors["fields.line_items[0].unit_amount"]


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("timestamp", "0001-01-01T00:00:00+01:00"),
        ("timestamp", "9999-12-31T23:59:59-01:00"),
    ],
)
def test_timestamps_beyond_the_calendar_are_refused_not_crashed_on(path, value):
    change = invoice_change()
    change[path] = value

    assert path in errors_of(change)


def test_a_lone_surrogate_in_text_is_refused_naming_its_field():
    change = invoice_change()
    change["fields"]["customer"]["name"] = "Jane \ud800"

    assert "broken text" in errors_of(change)["fields.customer.name"]
