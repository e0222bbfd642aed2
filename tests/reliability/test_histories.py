"""Out-of-order and inconsistent histories through the real CLI and a real sandbox: a payment
for an invoice not received yet waits and says why, a cancellation of an unknown invoice sends
nothing (nor does the invoice's older "sent" arriving after it), a change older than the one
applied is recorded but not applied, and amounts changed on an invoice already in Xero (with no
payment applied) update the invoice in Xero."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from syncledger.samples import invoice_change, ndjson, payment_change
from tests.e2e.conftest import Cli, SandboxProcess, start_sandbox, stop_process
from tests.reliability.support import setup_organisations

pytestmark = [pytest.mark.reliability, pytest.mark.e2e]

LINES = [
    {"category": "sales", "description": "PV", "quantity": 1, "unit_amount": "5000.00"},
]
AMENDED = [
    {"category": "sales", "description": "PV", "quantity": 1, "unit_amount": "5500.00"},
]


@pytest.fixture
def sandbox() -> Iterator[SandboxProcess]:
    running = start_sandbox()
    try:
        yield running
    finally:
        stop_process(running.process)


@pytest.fixture
def cli(db_location: str, tmp_path, sandbox: SandboxProcess) -> Cli:
    setup_organisations(db_location, sandbox, ["42"])
    return Cli(db_location, tmp_path)


def events(cli: Cli, document: str) -> list[dict]:
    return json.loads(cli("history", document, "--json").stdout)["events"]


def statuses(cli: Cli) -> dict[str, dict]:
    return {s["document"]: s for s in cli.status("--all")}


def invoices(sandbox: SandboxProcess, number: str) -> list[dict]:
    return [i for i in sandbox.state()["invoices"] if i["invoice_number"] == number]


def test_out_of_order_and_inconsistent_histories_wait_ignore_or_fail_with_the_reason(
    cli: Cli, sandbox: SandboxProcess
):
    cli.ingest(
        ndjson(
            # a payment for an invoice OpenSolar has not sent us yet
            payment_change(3001, invoice_id=1042, timestamp="2026-11-22T10:00:00Z"),
            # a cancellation of an invoice never seen, then its older "sent"
            invoice_change(2001, status="cancelled", timestamp="2026-11-21T00:00:00Z"),
            invoice_change(2001, status="sent", timestamp="2026-11-20T00:00:00Z"),
            # an invoice that will receive a late, older change with other amounts
            invoice_change(4001, lines=LINES, timestamp="2026-11-20T00:00:00Z"),
            # an invoice whose amounts OpenSolar will change after it was sent
            invoice_change(5001, lines=LINES, timestamp="2026-11-20T00:00:00Z"),
        )
    )
    cli("relay", "--until-idle")
    now = statuses(cli)

    waiting = now["payment:3001"]
    assert waiting["status"] == "Pending"
    assert waiting["reason"] == "waiting for its invoice: not received from OpenSolar yet"
    cancelled = now["invoice:2001"]
    assert cancelled["status"] == "Not Attempted" and cancelled["xero_id"] is None
    assert "nothing to send" in cancelled["reason"]
    ignored = [e for e in events(cli, "invoice:2001") if e["type"].endswith("ChangeIgnored")]
    assert len(ignored) == 1 and "older" in json.dumps(ignored[0])
    assert invoices(sandbox, "INV-2001") == []
    assert now["invoice:4001"]["status"] == now["invoice:5001"]["status"] == "Synced"

    cli.ingest(
        ndjson(
            invoice_change(4001, status="viewed", lines=LINES, timestamp="2026-11-23T00:00:00Z"),
            invoice_change(4001, lines=AMENDED, timestamp="2026-11-21T00:00:00Z"),
            invoice_change(5001, status="viewed", lines=AMENDED, timestamp="2026-11-22T00:00:00Z"),
            invoice_change(1042, timestamp="2026-11-21T00:00:00Z"),
        )
    )
    cli("relay", "--until-idle")
    now = statuses(cli)

    late = now["invoice:4001"]
    assert late["status"] == "Synced" and late["amount"] == "5000.00"
    late_events = [e for e in events(cli, "invoice:4001") if e["type"].endswith("ChangeIgnored")]
    assert len(late_events) == 1 and "older" in json.dumps(late_events[0])
    [held] = invoices(sandbox, "INV-4001")
    assert held["total"] == "5000.00"

    amended = now["invoice:5001"]
    assert amended["status"] == "Synced" and amended["amount"] == "5500.00"
    [held] = invoices(sandbox, "INV-5001")
    assert held["total"] == "5500.00", "Xero's invoice was updated in place"
    assert [e["type"] for e in events(cli, "invoice:5001")][-3:] == [
        "Invoice.Amended",
        "Invoice.SyncRequested",
        "Invoice.SyncSucceeded",
    ]

    assert now["invoice:1042"]["status"] == now["payment:3001"]["status"] == "Synced"
    [payment] = sandbox.state()["payments"]
    [invoice] = invoices(sandbox, "INV-1042")
    assert payment["invoice_id"] == invoice["invoice_id"]
    puts = [r["path"] for r in sandbox.requests() if r["method"] == "PUT" and r["status"] == 200]
    assert puts.index("/api.xro/2.0/Payments") > max(
        i for i, p in enumerate(puts) if p == "/api.xro/2.0/Invoices"
    ), "the payment went after its invoice"
    assert len(sandbox.state()["invoices"]) == 3
