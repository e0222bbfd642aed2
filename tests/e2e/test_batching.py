"""Batching: documents of one organisation and operation that are due together go to Xero in one
call, each element's outcome lands on its own document, a crash between the call and the
recorded outcomes duplicates nothing, and a lone document is never held back."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from syncledger.samples import invoice_change, ndjson, payment_change
from tests.e2e.conftest import BIN, Cli

pytestmark = pytest.mark.e2e

SALES = {
    "category": "sales",
    "description": "6.6 kW system",
    "quantity": 1,
    "unit_amount": "9900.00",
    "tax_rate": "GST",
}
LEGACY = {
    "category": "legacy",
    "description": "Old product",
    "quantity": 1,
    "unit_amount": "100.00",
}


def customer(n: int) -> dict[str, object]:
    return {"id": n, "name": f"Customer {n}", "email": f"customer{n}@example.com"}


def puts(sandbox, path: str) -> list[dict]:
    return [r for r in sandbox.requests() if r["method"] == "PUT" and r["path"].endswith(path)]


def gets(sandbox, path: str) -> list[dict]:
    return [r for r in sandbox.requests() if r["method"] == "GET" and r["path"].endswith(path)]


def test_fifty_invoices_for_new_customers_take_three_calls(connected: Cli, sandbox):
    connected.ingest(
        ndjson(*[invoice_change(i, customer=customer(i), lines=[SALES]) for i in range(50)])
    )

    connected("relay", "--until-idle")

    assert len(sandbox.state()["invoices"]) == 50 and len(sandbox.state()["contacts"]) == 50
    assert len(gets(sandbox, "/Contacts")) == 1, "one lookup ORed over every email"
    assert len(puts(sandbox, "/Contacts")) == 1
    assert len(puts(sandbox, "/Invoices")) == 1
    assert {s["status"] for s in connected.status()} == {"Synced"}


def test_one_invalid_invoice_among_fifty_fails_alone_with_xeros_message(connected: Cli, sandbox):
    connected("config", "map-account", "42", "legacy", "250", "--no-check")  # archived in Xero
    changes = [invoice_change(i, customer=customer(i % 5), lines=[SALES]) for i in range(49)]
    changes.append(invoice_change(49, customer=customer(1), lines=[SALES, LEGACY]))
    connected.ingest(ndjson(*changes))

    connected("relay", "--until-idle")

    statuses = {s["document"]: s for s in connected.status()}
    assert sum(s["status"] == "Synced" for s in statuses.values()) == 49
    failed = statuses["invoice:49"]
    assert failed["status"] == "Failed"
    assert "Account code '250' has been archived" in failed["error"]
    assert len(puts(sandbox, "/Invoices")) == 1
    assert len(sandbox.state()["invoices"]) == 49


def test_payments_due_together_go_in_one_call(connected: Cli, sandbox):
    connected.ingest(
        ndjson(*[invoice_change(i, customer=customer(i), lines=[SALES]) for i in range(10)])
    )
    connected("relay", "--until-idle")
    connected.ingest(
        ndjson(*[payment_change(100 + i, invoice_id=i, amount="100.00") for i in range(10)])
    )

    connected("relay", "--until-idle")

    assert len(sandbox.state()["payments"]) == 10
    assert len(puts(sandbox, "/Payments")) == 1
    assert {s["status"] for s in connected.status("--kind", "payment")} == {"Synced"}


def test_a_crash_between_the_batch_call_and_its_recorded_outcomes_duplicates_nothing(
    connected: Cli, sandbox
):
    connected.ingest(
        ndjson(*[invoice_change(i, customer=customer(i % 7), lines=[SALES]) for i in range(40)])
    )
    # on PostgreSQL the next relay waits for the dead one's organisation lease to lapse
    lease = {"SYNCLEDGER_RELAY_ORG_LEASE_SECONDS": "2"}
    relay = subprocess.Popen(
        [str(BIN), "relay"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**connected.env(), **lease, "SYNCLEDGER_TEST_PAUSE_AFTER_ANSWER_MS": "5000"},
        cwd=connected.workdir,
    )
    deadline = time.monotonic() + 30
    while len(sandbox.state()["invoices"]) < 40 and time.monotonic() < deadline:
        time.sleep(0.1)
    relay.send_signal(signal.SIGKILL)  # Xero has answered; the outcomes are not recorded yet
    relay.wait()
    assert len(sandbox.state()["invoices"]) == 40
    assert {s["status"] for s in connected.status()} == {"Pending"}

    connected("relay", "--until-idle", env=lease)

    invoices = sandbox.state()["invoices"]
    assert len(invoices) == 40 and len({i["invoice_number"] for i in invoices}) == 40
    statuses = connected.status()
    assert {s["status"] for s in statuses} == {"Synced"}
    assert all("adopted" in (s["reason"] or "") for s in statuses)


def test_a_lone_document_is_not_held_back_waiting_for_a_batch(connected: Cli, sandbox):
    relay = subprocess.Popen(
        [str(BIN), "relay"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=connected.env(),
        cwd=connected.workdir,
    )
    try:
        time.sleep(1.5)  # the relay is idle
        connected.ingest(ndjson(invoice_change(1, lines=[SALES])))
        recorded = time.time()
        deadline = time.monotonic() + 10
        while not sandbox.state()["invoices"] and time.monotonic() < deadline:
            time.sleep(0.05)
        [put] = puts(sandbox, "/Invoices")
        assert put["at"] - recorded < 2.0, "sent at once, not held for a batch"
    finally:
        relay.send_signal(signal.SIGTERM)
        relay.wait(timeout=20)
