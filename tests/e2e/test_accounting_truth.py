"""Accounting truth, rule by rule, through the real CLI against a real sandbox (both backends):
every document lands on its own Xero record with the right money, or stops loudly with the
reason and the action."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from syncledger.samples import invoice_change, ndjson, payment_change
from tests.e2e.conftest import (
    CONNECTED_AT,
    Cli,
    SandboxProcess,
    connect_in_process,
    start_sandbox,
    stop_process,
)

pytestmark = pytest.mark.e2e

EXCLUSIVE_1000 = [
    {
        "category": "sales",
        "description": "PV",
        "quantity": 1,
        "unit_amount": "1000.00",
        "tax_rate": "GST",
    },
]


def invoices(sandbox: SandboxProcess, number: str | None = None, tenant: str | None = None):
    found = sandbox.state(tenant)["invoices"]
    return [i for i in found if number is None or i["invoice_number"] == number]


def settings(sandbox: SandboxProcess, **values: Any) -> None:
    answer = httpx.post(
        f"{sandbox.url}/sandbox/settings", json={"tenant": sandbox.tenant_id, **values}
    )
    answer.raise_for_status()


def writes(sandbox: SandboxProcess) -> list[dict[str, Any]]:
    return [r for r in sandbox.requests() if r["method"] in ("PUT", "POST")]


def failed_rows(cli: Cli) -> list[dict[str, Any]]:
    return [s for s in cli.status("--all") if s["status"] == "Failed"]


def assert_failed_rows_say_why_and_what_to_do(cli: Cli) -> None:
    for row in failed_rows(cli):
        assert row["error"] and row["action"], row


# 1. ownership --------------------------------------------------------------------------------


def test_rule_1_a_xero_invoice_belongs_to_one_document_and_a_reissue_is_refused_or_suffixed(
    connected, sandbox
):
    connected.ingest(ndjson(invoice_change(1042, number="INV-19")))
    connected("relay", "--until-idle")
    connected.ingest(
        ndjson(
            invoice_change(
                1042, number="INV-19", status="cancelled", timestamp="2026-11-21T00:00:00Z"
            ),
            invoice_change(1043, number="INV-19", timestamp="2026-11-22T00:00:00Z"),
            payment_change(
                3001, invoice_id=1043, amount="500.00", timestamp="2026-11-23T10:00:00Z"
            ),
        )
    )
    connected("relay", "--until-idle")

    reissue = connected.status_of("invoice:1043")
    assert reissue["status"] == "Failed"
    assert "INV-19" in reissue["error"] and "invoice:1042" in reissue["error"]
    assert "config number-suffix 42 on" in reissue["action"]
    [held] = invoices(sandbox, "INV-19")
    first = connected.status_of("invoice:1042")
    assert first["xero_id"] == held["invoice_id"] and first["credit_note_id"]
    assert Decimal(held["amount_due"]) == 0, "the cancellation landed on the first invoice"
    assert sandbox.state()["payments"] == [], "the reissue's payment did not land on INV-19"
    assert connected.status_of("payment:3001")["status"] == "Failed"

    connected("config", "number-suffix", "42", "on")
    connected("retry", "invoice:1043")
    connected("relay", "--until-idle")

    reissue = connected.status_of("invoice:1043")
    assert reissue["status"] == "Synced" and reissue["xero_number"] == "INV-19-2"
    [second] = invoices(sandbox, "INV-19-2")
    assert reissue["xero_id"] == second["invoice_id"] != held["invoice_id"]
    [payment] = sandbox.state()["payments"]
    assert payment["invoice_id"] == second["invoice_id"]
    assert "INV-19 (Xero INV-19-2)" in connected("status").stdout

    # an invoice made by hand in Xero with the number OpenSolar uses next is not adopted
    made = sandbox.xero(
        "PUT",
        "/Invoices",
        json={
            "Invoices": [
                {
                    "Type": "ACCREC",
                    "InvoiceNumber": "INV-20",
                    "Contact": {"Name": "Someone Else"},
                    "Status": "AUTHORISED",
                    "LineItems": [
                        {"Description": "x", "Quantity": 1, "UnitAmount": 10, "AccountCode": "200"}
                    ],
                }
            ]
        },
    )
    assert made.status_code == 200, made.text
    connected.ingest(ndjson(invoice_change(1044, number="INV-20")))
    connected("relay", "--until-idle")

    other = connected.status_of("invoice:1044")
    assert other["status"] == "Failed" and other["xero_id"] is None
    assert "Xero invoice INV-20" in other["error"] and "contact is Someone Else" in other["error"]
    assert "renumber" in other["action"]
    assert len(invoices(sandbox, "INV-20")) == 1
    assert_failed_rows_say_why_and_what_to_do(connected)


# 2. cancellation follows Xero's state --------------------------------------------------------


def test_rule_2_a_cancellation_follows_the_invoices_state_in_xero(connected, sandbox):
    connected.ingest(
        ndjson(
            invoice_change(1),
            payment_change(11, invoice_id=1, amount="1000.00"),
            invoice_change(2),
        )
    )
    connected("relay", "--until-idle")
    voided = connected.status_of("invoice:2")["xero_id"]
    answer = sandbox.xero(
        "POST",
        f"/Invoices/{voided}",
        json={"Invoices": [{"InvoiceID": voided, "Status": "VOIDED"}]},
    )
    assert answer.status_code == 200, answer.text
    connected("config", "invoice-status", "42", "DRAFT")
    connected.ingest(ndjson(invoice_change(3)))
    connected("relay", "--until-idle")
    connected("config", "invoice-status", "42", "AUTHORISED")
    before = len(sandbox.requests())

    connected.ingest(
        ndjson(
            *[
                invoice_change(n, status="cancelled", timestamp="2026-11-25T00:00:00Z")
                for n in (1, 2, 3)
            ]
        )
    )
    connected("relay", "--until-idle")

    state = sandbox.state()
    [credit] = state["credit_notes"]
    paid_one = invoices(sandbox, "INV-1")[0]
    assert credit["credit_note_number"] == "CN-INV-1"
    assert Decimal(credit["total"]) == Decimal(paid_one["total"])
    assert Decimal(paid_one["amount_due"]) == 0
    assert Decimal(credit["remaining_credit"]) == Decimal("1000.00"), "the deposit is refund due"
    one = connected.status_of("invoice:1")
    assert one["status"] == "Synced" and one["credit_note_id"] == credit["credit_note_id"]
    assert one["refund_due"] == "1000.00" and one["amount_due"] == "0.00"
    assert "refund due" in one["reason"]

    assert invoices(sandbox, "INV-2")[0]["status"] == "VOIDED"
    two = connected.status_of("invoice:2")
    assert two["status"] == "Synced" and "already VOIDED in Xero" in two["reason"]
    assert invoices(sandbox, "INV-3")[0]["status"] == "DELETED"
    three = connected.status_of("invoice:3")
    assert three["status"] == "Synced" and "no credit note needed" in three["reason"]

    reads = [
        r
        for r in sandbox.requests()[before:]
        if r["method"] == "GET" and "IDs=" in (r.get("query") or "")
    ]
    assert len(reads) == 1, "the three invoices were read in one call"


# 3. one Xero organisation per ledger organisation --------------------------------------------


@pytest.fixture
def two_tenants() -> Iterator[SandboxProcess]:
    running = start_sandbox("--tenants", "2")
    try:
        yield running
    finally:
        stop_process(running.process)


def test_rule_3_switching_xero_organisation_is_refused_unless_asked_and_never_mixes_them(
    cli, two_tenants
):
    sandbox = two_tenants
    first, second = sandbox.tenant_ids
    connect_in_process(cli, "42", sandbox.url, first)
    cli.ingest(ndjson(invoice_change(1)))
    cli("relay", "--until-idle")

    to_second = ("connect", "42", "--xero-url", sandbox.url, "--tenant-id", second)
    refused = cli(*to_second, "--at", CONNECTED_AT, ok=False)

    assert refused.returncode == 1 and "--switch-tenant" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert json.loads(cli("config", "show", "42", "--json").stdout)["tenant_id"] == first

    cli(*to_second, "--at", CONNECTED_AT, "--switch-tenant")
    cli.ingest(
        ndjson(
            invoice_change(1, status="cancelled", timestamp="2026-11-25T00:00:00Z"),
            payment_change(11, invoice_id=1, amount="100.00"),
            invoice_change(2, timestamp="2026-11-26T00:00:00Z"),
        )
    )
    cli("relay", "--until-idle")

    cancelled = cli.status_of("invoice:1")
    assert cancelled["status"] == "Failed" and first in cancelled["error"]
    assert first in cancelled["action"]
    assert cli.status_of("payment:11")["status"] == "Failed"
    old, new = sandbox.state(first), sandbox.state(second)
    assert old["credit_notes"] == [] and old["payments"] == []
    assert [i["invoice_number"] for i in new["invoices"]] == ["INV-2"]
    assert new["credit_notes"] == [] and new["payments"] == []
    assert cli.status_of("invoice:2")["status"] == "Synced"


# 4. currency ---------------------------------------------------------------------------------


def test_rule_4_a_currency_xero_would_not_take_fails_before_any_call_naming_both(
    connected, sandbox
):
    connected.ingest(
        ndjson(
            invoice_change(1, currency="USD"),
            invoice_change(2),
            payment_change(21, invoice_id=2, currency="NZD"),
        )
    )
    connected("relay", "--until-idle")

    usd = connected.status_of("invoice:1")
    assert usd["status"] == "Failed"
    assert "USD" in usd["error"] and "base currency AUD" in usd["error"]
    assert "enable USD in Xero" in usd["action"]
    nzd = connected.status_of("payment:21")
    assert nzd["status"] == "Failed" and "NZD" in nzd["error"] and "AUD" in nzd["error"]
    assert invoices(sandbox, "INV-1") == []
    assert not [r for r in writes(sandbox) if r["path"].endswith("/Payments")]

    settings(sandbox, currencies=["USD"])
    connected("retry", "invoice:1")
    connected("relay", "--until-idle")

    assert connected.status_of("invoice:1")["status"] == "Synced"
    assert invoices(sandbox, "INV-1")[0]["currency_code"] == "USD"


# 5. Pending means the product will act -------------------------------------------------------


def test_rule_5_nothing_waits_for_ever_and_disconnected_activity_goes_after_reconnecting(
    connected, sandbox
):
    unmapped = [{"category": "incentives", "quantity": 1, "unit_amount": "-100.00"}]
    connected.ingest(
        ndjson(
            invoice_change(2),
            invoice_change(2, status="cancelled", timestamp="2026-11-21T00:00:00Z"),
            payment_change(21, invoice_id=2, timestamp="2026-11-22T00:00:00Z"),
            invoice_change(4, lines=unmapped),
        )
    )
    connected("relay", "--until-idle")
    assert connected.status_of("invoice:4")["status"] == "Failed"
    connected.ingest(
        ndjson(
            invoice_change(4, lines=unmapped, status="cancelled", timestamp="2026-11-23T00:00:00Z")
        )
    )

    money = connected.status_of("payment:21")
    assert money["status"] == "Failed"
    assert "cancelled in OpenSolar before it reached Xero" in money["error"]
    assert money["action"].startswith("refund the customer")
    refused = connected("retry", "invoice:4", ok=False)
    assert refused.returncode == 1 and "nothing to send" in refused.stdout + refused.stderr
    assert connected.status_of("invoice:4")["status"] == "Not Attempted"
    assert connected.status_of("invoice:2")["status"] == "Not Attempted"

    connected("disconnect", "42")
    connected.ingest(ndjson(invoice_change(3, timestamp="2026-11-26T00:00:00Z")))
    connected("relay", "--until-idle")
    waiting = connected.status_of("invoice:3")
    assert waiting["status"] == "Pending" and "syncledger connect 42" in waiting["reason"]
    assert invoices(sandbox, "INV-3") == []

    connected("connect", "42", "--xero-url", sandbox.url, "--tenant-id", sandbox.tenant_id)
    connected("relay", "--until-idle")

    assert connected.status_of("invoice:3")["status"] == "Synced"
    assert len(invoices(sandbox, "INV-3")) == 1
    assert [s for s in connected.status("--all") if s["status"] == "Pending"] == []
    assert_failed_rows_say_why_and_what_to_do(connected)


# 6. changes after sync -----------------------------------------------------------------------


def test_rule_6_invoice_changes_after_sync_reach_xero_where_xero_allows_it(connected, sandbox):
    connected.ingest(
        ndjson(
            invoice_change(1),
            invoice_change(2),
            payment_change(21, invoice_id=2, amount="100.00"),
        )
    )
    connected("relay", "--until-idle")
    later = {"timestamp": "2026-11-23T00:00:00Z", "issued_date": "2026-11-20"}
    edited = invoice_change(1, due_date="2027-02-28", **later)
    edited["fields"]["line_items"][0]["unit_amount"] = "10900.00"
    typo_fixed = invoice_change(
        1,
        customer={"id": 555, "name": "Jane Citizen", "email": "jane.c@example.com"},
        timestamp="2026-11-24T00:00:00Z",
        issued_date="2026-11-20",
        due_date="2027-02-28",
    )
    typo_fixed["fields"]["line_items"][0]["unit_amount"] = "10900.00"
    paid_edit = invoice_change(2, **later)
    paid_edit["fields"]["line_items"][0]["unit_amount"] = "8000.00"

    connected.ingest(ndjson(edited, paid_edit))
    connected("relay", "--until-idle")
    connected.ingest(ndjson(typo_fixed))
    connected("relay", "--until-idle")

    [one] = invoices(sandbox, "INV-1")
    assert (one["total"], one["due_date"]) == ("10650.00", "2027-02-28")
    assert connected.status_of("invoice:1")["status"] == "Synced"
    assert connected.status_of("invoice:1")["amount"] == "10650.00"
    two = connected.status_of("invoice:2")
    assert two["status"] == "Failed" and "lines changed" in two["error"]
    assert "payment" in two["error"] and two["action"]
    assert invoices(sandbox, "INV-2")[0]["total"] == "9650.00"

    calls = len(sandbox.requests())
    connected.ingest(
        ndjson(invoice_change(2, timestamp="2026-11-25T00:00:00Z", issued_date="2026-11-20"))
    )
    connected("relay", "--until-idle")

    assert connected.status_of("invoice:2")["status"] == "Synced"
    assert len(sandbox.requests()) == calls, "back to what Xero holds: no call"

    settings(sandbox, period_lock_date="2026-11-30")
    locked = invoice_change(
        1, due_date="2027-03-31", timestamp="2026-11-26T00:00:00Z", issued_date="2026-11-20"
    )
    locked["fields"]["line_items"][0]["unit_amount"] = "10900.00"
    connected.ingest(ndjson(locked))
    connected("relay", "--until-idle")

    refused = connected.status_of("invoice:1")
    assert refused["status"] == "Failed"
    assert "due date" in refused["error"] and "period lock date" in refused["error"]
    assert invoices(sandbox, "INV-1")[0]["due_date"] == "2027-02-28"


def test_rule_6_payments_edited_bounced_set_back_or_moved_are_deleted_and_reapplied(
    connected, sandbox
):
    connected.ingest(
        ndjson(
            invoice_change(1),
            invoice_change(2),
            payment_change(21, invoice_id=1, amount="100.00"),
            payment_change(22, invoice_id=1, amount="200.00"),
            payment_change(23, invoice_id=1, amount="300.00"),
            payment_change(24, invoice_id=1, amount="400.00"),
        )
    )
    connected("relay", "--until-idle")
    later = {"timestamp": "2026-11-25T00:00:00Z", "paid_date": "2026-11-22"}

    connected.ingest(
        ndjson(
            payment_change(21, invoice_id=1, amount="100.00", status="failed", **later),
            payment_change(22, invoice_id=1, amount="200.00", status="pending", **later),
            payment_change(23, invoice_id=2, amount="300.00", **later),
            payment_change(24, invoice_id=1, amount="450.00", **later),
        )
    )
    connected("relay", "--until-idle")

    state = sandbox.state()
    live = {p["reference"]: p for p in state["payments"] if p["status"] == "AUTHORISED"}
    one, two = invoices(sandbox, "INV-1")[0], invoices(sandbox, "INV-2")[0]
    assert sorted((p["amount"], p["invoice_id"]) for p in live.values()) == [
        ("300.00", two["invoice_id"]),
        ("450.00", one["invoice_id"]),
    ]
    assert len([p for p in state["payments"] if p["status"] == "DELETED"]) == 4
    assert Decimal(one["amount_due"]) == Decimal(one["total"]) - Decimal("450.00")
    for document in ("payment:21", "payment:22", "payment:23", "payment:24"):
        assert connected.status_of(document)["status"] == "Synced", document
    assert (
        connected.status_of("payment:23")["xero_id"]
        == live["Card 4242 (OpenSolar payment 23)"]["payment_id"]
    )
    assert connected.status_of("payment:21")["xero_id"] is None
    assert connected.status_of("invoice:1")["amount_due"] == one["amount_due"]


# 7. money to the cent ------------------------------------------------------------------------


def test_rule_7_status_shows_what_xero_holds_and_a_rounding_line_closes_a_rounding_gap(
    connected, sandbox
):
    cents = [
        {
            "category": "sales",
            "description": f"part {n}",
            "quantity": 1,
            "unit_amount": "1.05",
            "tax_rate": "GST",
        }
        for n in range(3)
    ]
    connected.ingest(
        ndjson(
            invoice_change(1, lines=EXCLUSIVE_1000, include_tax=False),
            payment_change(11, invoice_id=1, amount="500.00"),
            # OpenSolar computes GST on the total (3.15 + 0.32); Xero per line (3 x 0.11)
            invoice_change(2, lines=cents, include_tax=False, total="3.47"),
        )
    )
    connected("relay", "--until-idle")

    one = connected.status_of("invoice:1")
    assert (one["amount"], one["amount_due"]) == ("1100.00", "600.00")
    assert invoices(sandbox, "INV-1")[0]["total"] == "1100.00"
    [two] = invoices(sandbox, "INV-2")
    assert two["total"] == "3.47"
    [rounding] = [line for line in two["line_items"] if line["account_code"] == "860"]
    assert rounding["line_amount"] == "-0.01"
    assert connected.status_of("invoice:2")["amount"] == "3.47"


# 8. contacts ---------------------------------------------------------------------------------


def test_rule_8_one_contact_per_email_and_none_for_another_email(connected, sandbox):
    taken = sandbox.xero(
        "PUT",
        "/Contacts",
        json={
            "Contacts": [
                {"Name": "Bob Builder", "EmailAddress": "bob@elsewhere.example"},
                {"Name": "Zed Shared", "EmailAddress": "shared@example.com"},
                {"Name": "Ann Shared", "EmailAddress": "shared@example.com"},
            ]
        },
    )
    assert taken.status_code == 200, taken.text
    connected.ingest(
        ndjson(
            invoice_change(1, customer={"id": 1, "name": "Kim One", "email": "kim@example.com"}),
            invoice_change(2, customer={"id": 2, "name": "Kim Two", "email": "KIM@example.com"}),
            invoice_change(3, customer={"id": 77, "name": "Bob Builder"}),
            invoice_change(
                4, customer={"id": 5, "name": "Ann Shared", "email": "shared@example.com"}
            ),
        )
    )
    connected("relay", "--until-idle")
    connected.ingest(
        ndjson(invoice_change(5, customer={"id": 77, "name": "Bob Builder"}, number="INV-5b"))
    )
    connected("relay", "--until-idle")

    state = sandbox.state()
    by_id = {c["contact_id"]: c for c in state["contacts"]}
    held = {i["invoice_number"]: by_id[i["contact_id"]] for i in state["invoices"]}
    assert [c["email"] for c in state["contacts"]].count("kim@example.com") == 1
    assert held["INV-1"] is held["INV-2"]
    bob = held["INV-3"]
    assert bob["email"] is None and bob["name"] == "Bob Builder (OpenSolar customer 77)"
    assert held["INV-5b"] is bob, "the same customer without email, in a later batch"
    assert held["INV-4"]["name"] == "Ann Shared"
    chosen = connected.status_of("invoice:4")["contact"]
    assert chosen.startswith("Ann Shared") and "2 contacts share it" in chosen


# 9. failure isolation and Xero's limits ------------------------------------------------------


def test_rule_9_a_contact_that_cannot_be_made_fails_only_its_invoice_and_names_fit(
    connected, sandbox
):
    long_name = "N" * 239
    taken = ["Taken Name", "Taken Name (OpenSolar customer 5)"] + [
        f"Taken Name (OpenSolar {n})" for n in range(2, 6)
    ]
    answer = sandbox.xero(
        "PUT",
        "/Contacts",
        json={
            "Contacts": [
                {"Name": long_name, "EmailAddress": "other@example.com"},
                *({"Name": n, "EmailAddress": f"t{i}@example.com"} for i, n in enumerate(taken)),
            ]
        },
    )
    assert answer.status_code == 200, answer.text
    batch = ndjson(
        invoice_change(1, customer={"id": 4, "name": long_name, "email": "long@example.com"}),
        invoice_change(2, customer={"id": 5, "name": "Taken Name"}),
        invoice_change(3),
    )
    accented = invoice_change(4, customer={"id": 6, "name": "Zoë", "email": "zoë@example.com"})

    rejected = connected.ingest(batch + ndjson(accented), ok=False)
    connected("relay", "--until-idle")

    assert rejected.returncode == 1 and "fields.customer.email" in rejected.stderr
    assert "(invoice:4)" in rejected.stderr
    assert connected.status_of("invoice:1")["status"] == "Synced"
    assert connected.status_of("invoice:3")["status"] == "Synced"
    blocked = connected.status_of("invoice:2")
    assert blocked["status"] == "Failed" and "could not be created" in blocked["error"]
    names = [c["name"] for c in sandbox.state()["contacts"]]
    made = [n for n in names if n.endswith("(long@example.com)")]
    assert len(made) == 1 and len(made[0]) == 255


# 10. truthful call history -------------------------------------------------------------------


def test_rule_10_each_call_is_recorded_on_exactly_the_documents_it_carried(connected, sandbox):
    people = [("Ada", "ada@example.com"), ("Ben", "ben@example.com"), ("Cy", "cy@example.com")]
    connected.ingest(
        ndjson(
            *[
                invoice_change(n + 1, customer={"id": n + 1, "name": name, "email": email})
                for n, (name, email) in enumerate(people)
            ]
        )
    )
    connected("relay", "--until-idle")

    history = connected("history", "invoice:1", "--json").stdout
    calls = [c for e in json.loads(history)["events"] for c in e["data"].get("calls", [])]
    assert {c["operation"] for c in calls} >= {
        "find_contacts",
        "create_contacts",
        "create_invoices",
    }
    assert "ada@example.com" in history
    assert "ben@example.com" not in history and "cy@example.com" not in history
    batch = next(c for c in calls if c["operation"] == "create_invoices")
    assert batch["request"]["batch_size"] == 3 and len(batch["request"]["items"]) == 1
    assert [i["InvoiceNumber"] for i in batch["response"]["Invoices"]] == ["INV-1"]
    audit = connected("audit", "calls", "INV-1", "--json").stdout
    assert "ben@example.com" not in audit and "cy@example.com" not in audit

    one = connected.status_of("invoice:1")
    contact = next(i for i in sandbox.state()["invoices"] if i["invoice_number"] == "INV-1")
    by_hand = sandbox.xero(
        "PUT",
        "/Payments",
        json={
            "Payments": [
                {
                    "Invoice": {"InvoiceID": one["xero_id"]},
                    "Account": {"Code": "090"},
                    "Amount": 50,
                    "Reference": "cash at the door",
                }
            ]
        },
    )
    assert by_hand.status_code == 200, by_hand.text
    credit = sandbox.xero(
        "PUT",
        "/CreditNotes",
        json={
            "CreditNotes": [
                {
                    "Type": "ACCRECCREDIT",
                    "Contact": {"ContactID": contact["contact_id"]},
                    "Status": "AUTHORISED",
                    "LineItems": [
                        {
                            "Description": "goodwill",
                            "Quantity": 1,
                            "UnitAmount": 20,
                            "AccountCode": "200",
                        }
                    ],
                }
            ]
        },
    )
    assert credit.status_code == 200, credit.text

    report = connected("audit", "reconcile", "--org", "42", "--json", ok=False)

    assert report.returncode == 1
    found = json.loads(report.stdout)["differences"]
    unexplained = {(d["record"], d["document"]) for d in found if d["category"] == "unexplained"}
    assert unexplained == {("payment", "invoice:1"), ("credit_note", "invoice:1")}
