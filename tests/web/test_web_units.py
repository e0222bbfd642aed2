"""The web package's pure parts: credentials, change-body rules, Xero links and escaping."""

from __future__ import annotations

import json

import pytest

from projections.status import StatusRow, StatusView
from syncledger.samples import payment_change
from syncledger.web.auth import (
    hash_password,
    normal_email,
    same,
    signature,
    signature_matches,
    verify_password,
)
from syncledger.web.backend import xero_links
from syncledger.web.changes import BodyError, check, decode_body, org_of
from syncledger.web.pages import Filters, row_html
from syncledger.web.store import Session, User
from tests.web.conftest import invoice


def test_passwords_are_salted_scrypt_hashes_that_verify_only_the_right_password() -> None:
    first, second = hash_password("a long password"), hash_password("a long password")

    assert first != second
    assert first.startswith("scrypt$16384$8$1$")
    assert verify_password("a long password", first)
    assert not verify_password("a long passwork", first)
    assert not verify_password("a long password", None)
    assert not verify_password("a long password", "md5$whatever")


def test_emails_are_normalised_and_checked() -> None:
    assert normal_email("  Jane@Example.COM ") == "jane@example.com"
    assert normal_email("jane") is None
    assert normal_email("jane@example") is None


def test_signatures_are_hmac_sha256_of_the_raw_body() -> None:
    header = signature("s3cret", b'{"a": 1}')

    assert header.startswith("sha256=") and len(header) == len("sha256=") + 64
    assert signature_matches("s3cret", b'{"a": 1}', header)
    assert signature_matches("s3cret", b'{"a": 1}', header.upper())
    assert not signature_matches("s3cret", b'{"a": 2}', header)
    assert not signature_matches("other", b'{"a": 1}', header)
    assert not same(None, "x")


def test_a_body_is_one_change_or_an_array_of_changes() -> None:
    assert decode_body(b'{"event_id": "e"}') == [{"event_id": "e"}]
    assert decode_body(b"[1, 2]") == [1, 2]
    assert decode_body(b'{"amount": 1.10}')[0]["amount"].as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty body"),
        (b"42", "must be a change object or a JSON array"),
        (b"\xff{}", "not valid UTF-8"),
        (b'{"a": }', "not valid JSON"),
    ],
)
def test_a_body_that_is_not_changes_is_refused(body: bytes, message: str) -> None:
    with pytest.raises(BodyError) as caught:
        decode_body(body)

    assert message in caught.value.problem.message
    assert caught.value.problem.index is None


def test_a_non_finite_amount_is_refused_naming_its_field_not_the_body() -> None:
    payment = payment_change(3001, amount="2000.00")
    body = json.dumps(payment).replace('"2000.00"', "NaN").encode()

    checked = check(decode_body(body), "42")

    assert checked.valid == []
    [problem] = checked.problems
    assert (problem.index, problem.field) == (0, "fields.amount")
    assert "not a finite amount" in problem.message


def test_the_organisation_of_a_request_is_the_one_its_changes_name() -> None:
    assert org_of([{"org_id": 42}, {"org_id": "42"}]) == "42"
    assert org_of([{"org_id": 42}, {"org_id": 43}]) is None
    assert org_of([{"model": "Invoice"}, 7]) is None
    assert org_of([{"org_id": True}]) is None


def test_check_keeps_valid_changes_and_names_the_fields_of_bad_ones() -> None:
    good = invoice("e1", 42, 1, "INV-1")
    other = invoice("e2", 43, 1, "INV-1")

    checked = check([good, {"event_id": "e3"}, other], "42")

    assert checked.valid == [good]
    fields = {(p.index, p.field) for p in checked.problems}
    assert (1, "model") in fields and (1, "timestamp") in fields
    assert (2, "org_id") in fields


def test_xero_links_open_xeros_own_pages_for_a_real_connection() -> None:
    links = xero_links("https://api.xero.com", "t", "inv-1", "cn-1")

    assert [link.url for link in links] == [
        "https://go.xero.com/AccountsReceivable/View.aspx?InvoiceID=inv-1",
        "https://go.xero.com/AccountsReceivable/ViewCreditNote.aspx?creditNoteID=cn-1",
    ]


def test_xero_links_for_a_sandbox_or_other_base_urls() -> None:
    sandbox = xero_links("http://127.0.0.1:4000", "tenant 1", "inv-1", None)
    other = xero_links("https://xero-proxy.example/", "t", "inv-1", None)

    assert [link.url for link in sandbox] == [
        "http://127.0.0.1:4000/sandbox/state?tenant=tenant%201"
    ]
    assert [link.url for link in other] == ["https://xero-proxy.example/api.xro/2.0/Invoices/inv-1"]
    assert xero_links("javascript:alert(1)", "t", "inv-1", None) == []
    assert xero_links("https://api.xero.com", "t", None, None) == []


def test_rows_escape_what_opensolar_sent() -> None:
    row = StatusRow(
        doc_id="d1",
        org="42",
        kind="invoice",
        opensolar_id="1",
        number='INV-"1"',
        customer="<script>alert(1)</script>",
        status="Failed",
        error="<b>bad</b>",
    )
    session = Session(User(1, "j@example.com", "42", False, ""), "csrf-token", 0)

    html = row_html(StatusView(row, None), session, Filters())

    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>" not in html and "&lt;b&gt;bad&lt;/b&gt;" in html
    assert 'data-number="INV-&quot;1&quot;"' in html
    assert 'name="csrf" value="csrf-token"' in html
