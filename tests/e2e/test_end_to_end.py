"""The whole path through the real CLI in subprocesses against a real sandbox server."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from syncledger.samples import invoice_change, ndjson, payment_change

pytestmark = pytest.mark.e2e

INCENTIVE = {
    "category": "incentives",
    "description": "STC rebate",
    "quantity": 1,
    "unit_amount": "-2400.00",
}


def invoices(sandbox, number=None):
    found = sandbox.state()["invoices"]
    return [i for i in found if number is None or i["invoice_number"] == number]


def test_invoice_issued_after_connect_is_synced_with_mapped_accounts_and_a_created_contact(
    connected_by_cli, sandbox
):
    connected = connected_by_cli
    connected.ingest(
        ndjson(
            invoice_change(
                1042,
                number="INV-00019",
                customer={"id": 9, "name": "New Person", "email": "new@example.com"},
            )
        )
    )

    connected("relay", "--until-idle")

    status = connected.status_of("invoice:1042")
    assert (status["status"], status["error"]) == ("Synced", None)
    [invoice] = invoices(sandbox, "INV-00019")
    assert (invoice["type"], invoice["status"]) == ("ACCREC", "AUTHORISED")
    assert [line["account_code"] for line in invoice["line_items"]] == ["200", "200"]
    assert status["xero_id"] == invoice["invoice_id"]
    [contact] = sandbox.state()["contacts"]
    assert contact["email"] == "new@example.com" and invoice["contact_id"] == contact["contact_id"]


def test_an_existing_contact_is_matched_by_email_and_reused(connected, sandbox):
    existing = sandbox.xero(
        "PUT",
        "/Contacts",
        json={"Contacts": [{"Name": "Jane C.", "EmailAddress": "JANE@example.com"}]},
    )
    existing_id = existing.json()["Contacts"][0]["ContactID"]
    connected.ingest(ndjson(invoice_change(1), invoice_change(2, timestamp="2026-11-21T00:00:00Z")))

    connected("relay", "--until-idle")

    state = sandbox.state()
    assert len(state["contacts"]) == 1
    assert {i["contact_id"] for i in state["invoices"]} == {existing_id}
    contact_lookups = [
        r for r in sandbox.requests() if r["method"] == "GET" and r["path"].endswith("/Contacts")
    ]
    assert len(contact_lookups) == 1, "the second invoice for the same customer needs no lookup"


def test_unmapped_category_fails_then_mapping_and_retry_sync_exactly_one_invoice(
    connected, sandbox
):
    lines = [invoice_change()["fields"]["line_items"][0], INCENTIVE]
    connected.ingest(ndjson(invoice_change(1042, lines=lines)))
    connected("relay", "--until-idle")

    failed = connected.status_of("invoice:1042")
    assert failed["status"] == "Failed"
    assert (
        failed["error"]
        == "Missing Ledger Account: no Xero account is mapped for line category 'incentives'"
    )
    assert invoices(sandbox) == []

    connected("config", "map-account", "42", "incentives", "260")
    connected("retry", "INV-1042")
    connected("relay", "--until-idle")

    assert connected.status_of("invoice:1042")["status"] == "Synced"
    [invoice] = invoices(sandbox)
    assert [line["account_code"] for line in invoice["line_items"]] == ["200", "260"]


def test_cancel_after_sync_allocates_a_credit_note_and_zeroes_the_invoice(connected, sandbox):
    connected.ingest(ndjson(invoice_change(1042)))
    connected("relay", "--until-idle")
    connected.ingest(
        ndjson(invoice_change(1042, status="cancelled", timestamp="2026-11-25T00:00:00Z"))
    )

    connected("relay", "--until-idle")

    state = sandbox.state()
    [invoice] = state["invoices"]
    [credit] = state["credit_notes"]
    assert Decimal(invoice["amount_due"]) == 0
    assert Decimal(credit["total"]) == Decimal(invoice["total"])
    assert [a["invoice_id"] for a in state["allocations"]] == [invoice["invoice_id"]]
    status = connected.status_of("invoice:1042")
    assert status["status"] == "Synced" and status["credit_note_id"] == credit["credit_note_id"]


def test_cancel_before_sync_sends_nothing(connected, sandbox):
    connected.ingest(
        ndjson(
            invoice_change(1042),
            invoice_change(1042, status="cancelled", timestamp="2026-11-21T00:00:00Z"),
        )
    )

    connected("relay", "--until-idle")

    assert sandbox.state()["invoices"] == [] and sandbox.state()["credit_notes"] == []
    assert connected.status_of("invoice:1042")["status"] == "Not Attempted"


def test_payment_is_applied_and_reduces_the_amount_due(connected, sandbox):
    connected.ingest(
        ndjson(invoice_change(1042), payment_change(3001, invoice_id=1042, amount="2000.00"))
    )

    connected("relay", "--until-idle")

    [invoice] = invoices(sandbox)
    [payment] = sandbox.state()["payments"]
    assert Decimal(payment["amount"]) == Decimal("2000.00")
    assert Decimal(invoice["amount_due"]) == Decimal(invoice["total"]) - Decimal("2000.00")
    assert connected.status_of("payment:3001")["status"] == "Synced"


def test_payment_waiting_for_a_failed_invoice_is_failed_with_it_then_syncs_after_it(
    connected, sandbox
):
    lines = [invoice_change()["fields"]["line_items"][0], INCENTIVE]
    connected.ingest(
        ndjson(
            payment_change(3001, invoice_id=1042),
            invoice_change(1042, number="INV-00019", lines=lines),
        )
    )
    connected("relay", "--until-idle")

    blocked = connected.status_of("payment:3001")
    assert blocked["status"] == "Failed", "nothing moves until someone fixes the invoice"
    assert blocked["error"].startswith("waiting for invoice INV-00019, which is Failed: Missing")
    assert "sent automatically once the invoice is synced" in blocked["action"]
    assert sandbox.state()["payments"] == []

    connected("config", "map-account", "42", "incentives", "260")
    connected("retry", "INV-00019")
    connected("relay", "--until-idle")

    assert connected.status_of("payment:3001")["status"] == "Synced"
    assert len(sandbox.state()["payments"]) == 1


def test_invoice_issued_before_connect_is_not_attempted_until_synced(connected, sandbox):
    connected.ingest(ndjson(invoice_change(1042, timestamp="2026-10-20T00:00:00Z")))
    connected("relay", "--until-idle")
    assert connected.status_of("invoice:1042")["status"] == "Not Attempted"
    assert invoices(sandbox) == []

    connected("sync", "invoice:1042")
    connected("relay", "--until-idle")

    assert connected.status_of("invoice:1042")["status"] == "Synced"
    assert len(invoices(sandbox)) == 1


def test_ingesting_the_same_file_twice_changes_nothing(connected, sandbox):
    text = ndjson(
        invoice_change(1042),
        payment_change(3001),
        invoice_change(1043, timestamp="2026-10-01T00:00:00Z"),
    )
    first = connected.ingest(text)
    connected("relay", "--until-idle")
    before = (
        connected.status(),
        sandbox.state(),
        connected("history", "invoice:1042", "--json").stdout,
    )

    second = connected.ingest(text)
    connected("relay", "--until-idle")
    after = (
        connected.status(),
        sandbox.state(),
        connected("history", "invoice:1042", "--json").stdout,
    )

    assert first.stdout.strip() == "ingested 3, duplicates 0, rejected 0"
    assert second.stdout.strip() == "ingested 0, duplicates 3, rejected 0"
    assert before == after


def test_replay_reproduces_status_json_byte_for_byte(connected, sandbox):
    lines = [invoice_change()["fields"]["line_items"][0], INCENTIVE]
    connected.ingest(
        ndjson(
            invoice_change(1),
            invoice_change(2, lines=lines),
            payment_change(31, invoice_id=1),
            payment_change(32, invoice_id=2),
            invoice_change(3, timestamp="2026-10-01T00:00:00Z"),
            invoice_change(1, status="cancelled", timestamp="2026-11-26T00:00:00Z"),
        )
    )
    connected("relay", "--until-idle")
    before = connected("status", "--json", "--all").stdout

    replayed = connected("replay")
    after = connected("status", "--json", "--all").stdout

    assert "status: replayed" in replayed.stdout
    assert after == before
    assert connected("relay", "--until-idle").stdout.startswith("delivered 0, failed 0")


def test_malformed_lines_are_reported_and_the_rest_is_ingested(connected, sandbox):
    bad_amount = invoice_change(7)
    bad_amount["fields"]["line_items"][0]["unit_amount"] = "abc"
    no_event_id = invoice_change(8)
    del no_event_id["event_id"]
    unknown_model = invoice_change(9)
    unknown_model["model"] = "Quote"
    text = (
        json.dumps(invoice_change(1))
        + "\n"
        + "{this is not json\n"
        + json.dumps(no_event_id)
        + "\n"
        + json.dumps(bad_amount)
        + "\n"
        + json.dumps(unknown_model)
        + "\n"
        + json.dumps(invoice_change(2))
        + "\n"
    )

    result = connected.ingest(text, ok=False)

    assert result.returncode == 1
    assert result.stdout.strip() == "ingested 2, duplicates 0, rejected 4"
    errors = result.stderr.strip().splitlines()
    assert errors[0].startswith("line 2: (line): not valid JSON")
    assert errors[1].startswith("line 3: event_id: required")
    assert errors[2].startswith(
        "line 4: fields.line_items[0].unit_amount: not a decimal amount: 'abc'"
    )
    assert errors[3].startswith("line 5: model: unknown model 'Quote'")
    assert "Traceback" not in result.stderr
    assert [s["document"] for s in connected.status("--all")] == ["invoice:1", "invoice:2"]
