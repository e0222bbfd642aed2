"""``audit reconcile`` against a real sandbox: a clean organisation first (read under a tight
rate limit), then discrepancies planted by hand through the sandbox's Xero API, then the sandbox
reset so everything the ledger holds Synced is missing. The three reports are taken in order in
one fixture; each test reads one fact from them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest

from syncledger.samples import invoice_change, ndjson, payment_change
from tests.audit.conftest import Audit, audit_for, connect, new_cli
from tests.e2e.conftest import Cli, SandboxProcess, start_sandbox, stop_process

pytestmark = pytest.mark.e2e


@dataclass
class Reports:
    """The three reconciliations and what was planted between them."""

    cli: Cli
    audit: Audit
    clean: dict[str, Any]
    clean_code: int
    clean_stderr: str
    planted: dict[str, Any]
    planted_code: int
    planted_csv: list[dict[str, str]]
    windowed: dict[str, Any]
    missing: dict[str, Any]
    missing_code: int
    ids: dict[str, str]


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def _plant(sandbox: SandboxProcess, ids: dict[str, str]) -> None:
    """Change Xero by hand, as a person working in Xero would."""
    state = sandbox.state()
    invoices = {i["invoice_number"]: i["invoice_id"] for i in state["invoices"]}
    payments = {p["reference"]: p["payment_id"] for p in state["payments"]}
    ids.update(invoices)
    void = invoices["INV-VOID"]
    _ok(sandbox.xero("POST", f"/Invoices/{void}", json={"Invoices": [{"Status": "VOIDED"}]}))
    paid = payments["Card 4242 (OpenSolar payment 21)"]
    ids["payment:21"] = paid
    _ok(sandbox.xero("POST", f"/Payments/{paid}", json={"Payments": [{"Status": "DELETED"}]}))
    original = _ok(sandbox.xero("GET", f"/Invoices/{invoices['INV-COPY']}"))["Invoices"][0]
    copy = {
        "Type": "ACCREC",
        "Contact": {"ContactID": original["Contact"]["ContactID"]},
        "InvoiceNumber": "INV-COPY-BY-HAND",
        "Reference": original["Reference"],
        "LineAmountTypes": original["LineAmountTypes"],
        "Status": "AUTHORISED",
        "LineItems": [
            {
                k: line[k]
                for k in ("Description", "Quantity", "UnitAmount", "AccountCode", "TaxType")
            }
            for line in original["LineItems"]
        ],
    }
    created = _ok(sandbox.xero("PUT", "/Invoices", json={"Invoices": [copy]}))["Invoices"][0]
    ids["INV-COPY-BY-HAND"] = created["InvoiceID"]
    second = {
        "Invoice": {"InvoiceID": invoices["INV-TWICE"]},
        "Account": {"Code": "090"},
        "Date": "2026-11-23",
        "Amount": "300.00",
        "Reference": "Card 4242 (OpenSolar payment 41)",
    }
    created = _ok(sandbox.xero("PUT", "/Payments", json={"Payments": [second]}))["Payments"][0]
    ids["second payment"] = created["PaymentID"]
    draft = invoices["INV-DRAFT"]
    edited = [
        {"Description": "6.6 kW system", "Quantity": 1, "UnitAmount": 9000, "AccountCode": "200"},
        {"Description": "Referral", "Quantity": 1, "UnitAmount": -250, "AccountCode": "200"},
    ]
    _ok(sandbox.xero("POST", f"/Invoices/{draft}", json={"Invoices": [{"LineItems": edited}]}))
    gone = invoices["INV-DRAFT-GONE"]
    _ok(sandbox.xero("POST", f"/Invoices/{gone}", json={"Invoices": [{"Status": "DELETED"}]}))


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reports]:
    sandbox = start_sandbox()
    try:
        cli = new_cli(tmp_path_factory.mktemp("reconcile"))
        audit = audit_for(cli)
        connect(cli, sandbox)
        cli.ingest(
            ndjson(
                invoice_change(1, project_id=701, number="INV-VOID"),
                invoice_change(2, project_id=702, number="INV-PAID"),
                payment_change(21, invoice_id=2, amount="1000.00"),
                invoice_change(3, project_id=703, number="INV-COPY"),
                invoice_change(4, project_id=704, number="INV-TWICE"),
                payment_change(41, invoice_id=4, amount="300.00"),
                invoice_change(5, project_id=705, number="INV-EXCLUSIVE", include_tax=False),
                invoice_change(6, project_id=706, number="INV-CANCELLED"),
                payment_change(61, invoice_id=6, amount="100.00"),
                invoice_change(9, project_id=709, number="INV-WITHDRAWN"),
                payment_change(91, invoice_id=9, amount="50.00"),
            )
        )
        cli("relay", "--until-idle")
        cli.ingest(
            ndjson(
                invoice_change(
                    6,
                    project_id=706,
                    number="INV-CANCELLED",
                    status="cancelled",
                    timestamp="2026-11-26T00:00:00Z",
                )
            )
        )
        cli("config", "invoice-status", "42", "DRAFT")
        cli.ingest(
            ndjson(
                invoice_change(
                    7, project_id=707, number="INV-DRAFT", timestamp="2026-11-27T00:00:00Z"
                ),
                invoice_change(
                    8, project_id=708, number="INV-DRAFT-GONE", timestamp="2026-11-27T00:00:00Z"
                ),
            )
        )
        cli("relay", "--until-idle")
        cli("config", "invoice-status", "42", "AUTHORISED")
        assert {s["status"] for s in cli.status()} == {"Synced"}

        limits = {"minute_limit": 3, "minute_window_s": 1.0}
        _ok(httpx.post(f"{sandbox.url}/sandbox/limits", json=limits))
        clean_run = audit.run("reconcile", "--org", "42", "--json", code=None)
        _ok(httpx.post(f"{sandbox.url}/sandbox/limits", json={"minute_limit": 60}))
        ids: dict[str, str] = {}
        _plant(sandbox, ids)
        withdrawn = payment_change(
            91, invoice_id=9, status="failed", timestamp="2026-11-28T00:00:00Z"
        )
        cli.ingest(ndjson(withdrawn))
        planted_run = audit.run("reconcile", "--org", "42", "--json", code=None)
        planted_csv = audit.csv("reconcile", "--org", "42", code=1)
        window = ("--since", "2026-11-27", "--until", "2026-11-27")
        windowed = audit.json("reconcile", "--org", "42", *window, code=1)
        _ok(httpx.post(f"{sandbox.url}/sandbox/reset"))
        missing_run = audit.run("reconcile", "--org", "42", "--json", code=None)
        yield Reports(
            cli=cli,
            audit=audit,
            clean=_json(clean_run.stdout),
            clean_code=clean_run.exit_code,
            clean_stderr=clean_run.stderr,
            planted=_json(planted_run.stdout),
            planted_code=planted_run.exit_code,
            planted_csv=planted_csv,
            windowed=windowed,
            missing=_json(missing_run.stdout),
            missing_code=missing_run.exit_code,
            ids=ids,
        )
    finally:
        stop_process(sandbox.process)


def _json(text: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(text)
    return data


def _differences(report: dict[str, Any], category: str) -> list[dict[str, Any]]:
    return [d for d in report["differences"] if d["category"] == category]


# a clean organisation ---------------------------------------------------------------------------


def test_a_clean_organisation_reports_nothing_and_exits_0(reports):
    assert reports.clean_code == 0
    assert reports.clean["differences"] == []
    assert reports.clean["checked"] == {"invoices": 9, "credit_notes": 1, "payments": 4}


def test_reading_xero_waits_out_the_rate_limit_and_shows_progress_on_stderr(reports):
    assert reports.clean["waited_seconds"] > 0
    assert "reading Xero Invoices" in reports.clean_stderr


def test_each_reconciliation_is_recorded_in_the_ledger(reports):
    events = reports.audit.json("events", "--type", "Reconciled", "--data")["events"]

    assert [e["data"]["differences"] for e in events] == [
        0,
        len(reports.planted["differences"]),
        len(reports.planted["differences"]),
        len(reports.windowed["differences"]),
        len(reports.missing["differences"]),
    ]
    assert events[1]["data"]["summary"] == reports.planted["summary"]


# discrepancies planted by hand ------------------------------------------------------------------


def test_planted_discrepancies_exit_1(reports):
    assert reports.planted_code == 1


def test_an_invoice_voided_by_hand_is_found(reports):
    [voided] = _differences(reports.planted, "voided")

    assert (voided["record"], voided["document"], voided["number"]) == (
        "invoice",
        "invoice:1",
        "INV-VOID",
    )
    assert voided["xero"] == "VOIDED"


def test_a_payment_deleted_by_hand_is_found_with_its_effect_on_the_amount_due(reports):
    [removed] = _differences(reports.planted, "removed")

    assert (removed["record"], removed["document"]) == ("payment", "payment:21")
    assert removed["xero_id"] == reports.ids["payment:21"]
    assert "INV-PAID amount due in Xero" in removed["detail"]


def test_an_invoice_duplicated_by_hand_is_found(reports):
    duplicates = _differences(reports.planted, "duplicate")
    [invoice] = [d for d in duplicates if d["record"] == "invoice"]

    assert invoice["document"] == "invoice:3"
    assert invoice["xero_id"] == reports.ids["INV-COPY-BY-HAND"]
    assert "same contact" in invoice["detail"]


def test_a_second_payment_for_one_opensolar_payment_is_a_duplicate(reports):
    [payment] = [d for d in _differences(reports.planted, "duplicate") if d["record"] == "payment"]

    assert payment["document"] == "payment:41"
    assert payment["xero_id"] == reports.ids["second payment"]
    assert _differences(reports.planted, "amount_due_differs") == []


def test_an_amount_edited_on_a_draft_invoice_is_found(reports):
    [edited] = _differences(reports.planted, "total_differs")

    assert (edited["document"], edited["number"]) == ("invoice:7", "INV-DRAFT")
    assert Decimal(edited["ledger"]) == Decimal("9650.00")
    assert Decimal(edited["xero"]) == Decimal("8750.00")


def test_a_draft_deleted_by_hand_is_found(reports):
    [deleted] = _differences(reports.planted, "deleted")

    assert (deleted["document"], deleted["xero"]) == ("invoice:8", "DELETED")


def test_nothing_else_is_reported(reports):
    summary = reports.planted["summary"]

    assert summary == {
        "missing": 0,
        "voided": 1,
        "deleted": 1,
        "removed": 1,
        "duplicate": 2,
        "unexpected": 1,
        "total_differs": 1,
        "amount_due_differs": 0,
        "unexplained": 0,
    }


def test_a_payment_withdrawn_in_opensolar_but_still_in_xero_is_unexpected(reports):
    [unexpected] = _differences(reports.planted, "unexpected")

    assert (unexpected["record"], unexpected["document"]) == ("payment", "payment:91")
    assert "delete it there by hand" in unexpected["detail"]


def test_the_csv_report_has_a_header_row_and_one_line_per_difference(reports):
    assert len(reports.planted_csv) == len(reports.planted["differences"])
    assert {r["category"] for r in reports.planted_csv} == {
        "voided",
        "deleted",
        "removed",
        "duplicate",
        "unexpected",
        "total_differs",
    }


def test_a_date_window_compares_only_documents_dated_in_it(reports):
    found = {(d["category"], d["number"]) for d in reports.windowed["differences"]}

    assert found == {("total_differs", "INV-DRAFT"), ("deleted", "INV-DRAFT-GONE")}
    assert reports.windowed["checked"]["invoices"] == 2


# everything gone ------------------------------------------------------------------------------


def test_invoices_the_ledger_thinks_synced_are_missing_after_a_reset(reports):
    missing = _differences(reports.missing, "missing")

    assert reports.missing_code == 1
    assert {d["number"] for d in missing if d["record"] == "invoice"} == {
        "INV-VOID",
        "INV-PAID",
        "INV-COPY",
        "INV-TWICE",
        "INV-EXCLUSIVE",
        "INV-CANCELLED",
        "INV-DRAFT",
        "INV-DRAFT-GONE",
        "INV-WITHDRAWN",
    }
    assert {d["document"] for d in missing if d["record"] == "payment"} == {
        "payment:21",
        "payment:41",
        "payment:61",
    }, "payment:91 was withdrawn in OpenSolar: its absence from Xero is expected"
    assert [d["number"] for d in missing if d["record"] == "credit_note"] == ["CN-INV-CANCELLED"]
    assert len(reports.missing["differences"]) == len(missing)


# usage ------------------------------------------------------------------------------------------


def test_reconcile_needs_an_organisation(reports):
    result = reports.audit.run("reconcile", code=2)

    assert "--org" in result.stderr


def test_an_unknown_organisation_exits_1(reports):
    result = reports.audit.run("reconcile", "--org", "404", code=1)

    assert "not known" in result.stderr
