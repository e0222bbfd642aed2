"""The audit queries (events, calls, failures, as-of, timings) on one ledger built by a scripted
history through the real CLI against a real sandbox: a failure, a fix, a retry, a cancellation,
payments, and two invoices failing with the same configuration mistake."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from domain.redaction import redact_text
from syncledger.cli.audit import audit_group
from syncledger.samples import invoice_change, ndjson, payment_change
from tests.audit.conftest import Audit, audit_for, connect, new_cli
from tests.e2e.conftest import Cli, SandboxProcess, start_sandbox, stop_process

pytestmark = pytest.mark.e2e

INCENTIVES = {
    "category": "incentives",
    "description": "STC rebate",
    "quantity": 1,
    "unit_amount": "-2400.00",
}
REBATES = {"category": "rebates", "description": "Rebate", "quantity": 1, "unit_amount": "-100"}
SALES = invoice_change()["fields"]["line_items"][0]
INCENTIVES_MESSAGE = (
    "Missing Ledger Account: no Xero account is mapped for line category 'incentives'"
)
REBATES_MESSAGE = "Missing Ledger Account: no Xero account is mapped for line category 'rebates'"
TOKENS = ("TOKEN-ACCESS-4f1e", "TOKEN-REFRESH-9c2d", "SECRET-CLIENT-77aa", "PASSWORD-URL-31bb")
SECRET_KEY = "audit-secret-key-0123456789abcdef"


@dataclass
class History:
    """A scripted history and the moments between its steps."""

    cli: Cli
    audit: Audit
    sandbox: SandboxProcess
    moments: dict[str, datetime] = field(default_factory=dict)

    def mark(self, name: str) -> None:
        time.sleep(0.01)
        self.moments[name] = datetime.now(UTC)
        time.sleep(0.01)


def _plant_leaky_call_record(db: Path) -> None:
    """A delivery whose recorded call carries tokens (as a careless client might record them):
    the audit output must never show them."""
    from syncledger import service
    from syncledger.bootstrap import System
    from syncledger.config import Settings

    with System.open(Settings(db=str(db))) as system:
        service.ingest(
            system,
            io.BytesIO(ndjson(invoice_change(11, number="INV-11")).encode()),
        )
        document = system.ledger.find_document("42", "invoice", "11")
        assert document is not None
        request = document.open_request
        assert request is not None
        system.ledger.record_failure(
            document.id,
            "invoice",
            request.version,
            f"401 Unauthorized: refresh_token={TOKENS[1]} rejected; Bearer {TOKENS[0]}",
            "auth",
            final=True,
            retry_at=None,
            calls=[
                {
                    "operation": "create_invoice",
                    "method": "PUT",
                    "path": f"/Invoices?access_token={TOKENS[0]}",
                    "idempotency_key": "syncledger-invoice-abc",
                    "request": {
                        "Authorization": f"Bearer {TOKENS[0]}",
                        "client_secret": TOKENS[2],
                        "refresh_token": TOKENS[1],
                        "number": "INV-11",
                    },
                    "status": 401,
                    "outcome": f"401 Unauthorized (Bearer {TOKENS[0]})",
                    "response": {"access_token": TOKENS[0], "messages": ["TokenExpired"]},
                    "duration_ms": 3.5,
                    "at": datetime.now(UTC).isoformat(),
                }
            ],
        )


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    sandbox = start_sandbox()
    try:
        cli = new_cli(tmp_path_factory.mktemp("history"))
        story = History(cli, audit_for(cli), sandbox)
        story.mark("start")
        connect(cli, sandbox)
        cli(
            "connect",
            "99",
            "--xero-url",
            f"https://auditor:{TOKENS[3]}@xero.example.invalid",
            "--tenant-id",
            "tenant-99",
            "--at",
            "2026-11-01T00:00:00Z",
            "--no-check",  # a URL that never answers: the secret in it must never show
        )
        story.mark("connected")
        cli.ingest(
            ndjson(
                invoice_change(7, number="INV-7", lines=[SALES, INCENTIVES]),
                invoice_change(
                    8,
                    number="INV-8",
                    customer={"id": 2, "name": "Bob Builder", "email": "Bob@Example.com"},
                ),
                payment_change(81, invoice_id=8, amount="500.00"),
                invoice_change(9, number="INV-9", lines=[SALES, REBATES]),
                invoice_change(10, number="INV-10", lines=[SALES, REBATES]),
            )
        )
        cli("relay", "--until-idle")
        story.mark("failed")
        cli("config", "map-account", "42", "incentives", "260")
        story.mark("fixed")
        cli("retry", "INV-7")
        story.mark("retried")
        cli("relay", "--until-idle")
        story.mark("synced")
        cli.ingest(
            ndjson(
                invoice_change(
                    7,
                    number="INV-7",
                    status="cancelled",
                    lines=[SALES, INCENTIVES],
                    timestamp="2026-11-25T00:00:00Z",
                )
            )
        )
        story.mark("cancelled")
        cli("relay", "--until-idle")
        story.mark("credited")
        _plant_leaky_call_record(cli.db)
        story.mark("end")
        yield story
    finally:
        stop_process(sandbox.process)


def _at(history: History, name: str) -> str:
    return history.moments[name].isoformat()


def _as_of(history: History, name: str, *args: str) -> dict[str, dict[str, Any]]:
    data = history.audit.json("as-of", _at(history, name), *args)
    return {d["document"]: d for d in data["documents"]}


# as-of ------------------------------------------------------------------------------------------


def test_as_of_before_anything_was_issued_lists_no_documents(history):
    assert _as_of(history, "start") == {}
    assert _as_of(history, "connected") == {}


def test_as_of_just_after_the_failure_shows_failed_with_the_missing_account_message(history):
    invoice = _as_of(history, "failed")["invoice:7"]

    assert (invoice["status"], invoice["error"]) == ("Failed", INCENTIVES_MESSAGE)
    assert invoice["xero_id"] is None


def test_as_of_after_the_mapping_fix_but_before_retry_is_still_failed(history):
    assert _as_of(history, "fixed")["invoice:7"]["status"] == "Failed"


def test_as_of_after_the_retry_request_is_pending(history):
    invoice = _as_of(history, "retried")["invoice:7"]

    assert (invoice["status"], invoice["error"]) == ("Pending", None)


def test_as_of_after_the_relay_is_synced_without_a_credit_note(history):
    invoice = _as_of(history, "synced")["invoice:7"]

    assert invoice["status"] == "Synced"
    assert invoice["xero_id"] and invoice["credit_note_id"] is None


def test_as_of_after_the_cancellation_is_pending_its_credit_note(history):
    invoice = _as_of(history, "cancelled")["invoice:7"]

    assert invoice["status"] == "Pending"
    assert invoice["reason"] == "cancellation queued: Xero's state of the invoice decides how"


def test_as_of_after_the_credit_note_is_synced_with_its_id(history):
    invoice = _as_of(history, "credited")["invoice:7"]

    assert invoice["status"] == "Synced" and invoice["credit_note_id"]


def test_as_of_now_agrees_with_the_current_status_table(history):
    now = history.audit.json("as-of", datetime.now(UTC).isoformat())["documents"]
    current = history.cli.status()

    assert {(d["document"], d["status"], d["error"], d["xero_id"]) for d in now} == {
        (s["document"], s["status"], s["error"] and redact_text(s["error"]), s["xero_id"])
        for s in current
    }


def test_as_of_filters_by_status_and_kind(history):
    failed = _as_of(history, "end", "--status", "failed")
    payments = _as_of(history, "end", "--kind", "payment")

    assert set(failed) == {"invoice:9", "invoice:10", "invoice:11"}
    assert set(payments) == {"payment:81"}


def test_as_of_does_not_read_the_status_table(history):
    """Emptying the status table changes nothing: as-of folds the log."""
    before = history.audit.json("as-of", _at(history, "synced"))
    with closing(sqlite3.connect(history.cli.db)) as conn, conn:
        saved = conn.execute("SELECT * FROM status_documents").fetchall()
        conn.execute("DELETE FROM status_documents")
    try:
        after = history.audit.json("as-of", _at(history, "synced"))
    finally:
        with closing(sqlite3.connect(history.cli.db)) as conn, conn:
            marks = ", ".join("?" for _ in saved[0])
            conn.executemany(f"INSERT INTO status_documents VALUES ({marks})", saved)
    assert after == before


# events -----------------------------------------------------------------------------------------


def test_events_of_a_document_come_in_log_order_with_types_and_summaries(history):
    data = history.audit.json("events", "--doc", "INV-7", "--limit", "0")
    events = data["events"]
    types = [e["event_type"] for e in events]

    assert [e["position"] for e in events] == sorted(e["position"] for e in events)
    assert types[:4] == [
        "Invoice.Received",
        "Invoice.Issued",
        "Invoice.SyncRequested",
        "Invoice.SyncFailed",
    ]
    assert "Invoice.RetryRequested" in types and "Invoice.Cancelled" in types
    assert types.count("Invoice.SyncSucceeded") == 2
    assert {e["document"] for e in events} == {"invoice:7"}
    assert data["next_after"] is None


def test_events_filter_by_customer_email_includes_their_payments(history):
    events = history.audit.json("events", "--email", "BOB@example.com", "--limit", "0")["events"]

    # the customer's own events (its Xero contact) are keyed by the email too
    assert {e["document"] for e in events} == {
        "invoice:8",
        "payment:81",
        "customer:email:bob@example.com",
    }
    assert {e["email"] for e in events} == {"bob@example.com"}


def test_events_filter_by_type_kind_org_and_time(history):
    audit = history.audit
    failed = audit.json("events", "--type", "SyncFailed", "--limit", "0")["events"]
    organisation = audit.json("events", "--kind", "organisation", "--org", "42")["events"]
    window = audit.json(
        "events", "--since", _at(history, "fixed"), "--until", _at(history, "retried")
    )["events"]

    assert {e["document"] for e in failed} == {"invoice:7", "invoice:9", "invoice:10", "invoice:11"}
    assert {e["event_type"] for e in failed} == {"Invoice.SyncFailed"}
    assert organisation[0]["event_type"] == "Organisation.Registered"
    assert {e["org"] for e in organisation} == {"42"}
    assert [e["event_type"] for e in window] == ["Invoice.RetryRequested"]


def test_events_page_through_the_log_without_gaps_or_repeats(history):
    audit = history.audit
    everything = [e["position"] for e in audit.json("events", "--limit", "0")["events"]]
    seen: list[int] = []
    after = 0
    while True:
        page = audit.json("events", "--limit", "7", "--after", str(after))
        seen.extend(e["position"] for e in page["events"])
        if page["next_after"] is None:
            break
        after = page["next_after"]

    assert seen == everything and len(everything) > 14


def test_events_table_says_how_to_get_the_next_page(history):
    result = history.audit.run("events", "--limit", "3")

    assert len(result.stdout.strip().splitlines()) == 4
    assert "--after" in result.stderr


def test_events_with_data_carry_the_change_content(history):
    events = history.audit.json("events", "--doc", "INV-8", "--type", "Issued", "--data")["events"]

    [issued] = events
    assert issued["data"]["change"]["fields"]["invoice_number"] == "INV-8"


def test_an_unknown_event_type_is_refused(history):
    result = history.audit.run("events", "--type", "Exploded", code=1)

    assert "unknown event type" in result.stderr


# calls ------------------------------------------------------------------------------------------


def test_calls_of_an_invoice_show_every_attempt_and_what_xero_answered(history):
    data = history.audit.json("calls", "INV-7")
    calls = data["calls"]
    created = [c for c in calls if c["call"] == "create_invoices"]
    credited = [c for c in calls if c["call"] == "create_credit_note"]

    assert data["document"] == "invoice:7"
    assert len(created) == 1 and created[0]["status"] == 200 and created[0]["result"] == "synced"
    invoice_id = created[0]["response"]["Invoices"][0]["InvoiceID"]
    assert invoice_id == history.cli.status_of("invoice:7")["xero_id"]
    [sent] = created[0]["request"]["items"]  # this invoice's element of the batch call
    assert [line["account"] for line in sent["lines"]] == ["200", "260"]
    assert created[0]["idempotency_key"].startswith("syncledger-invoice-")
    assert len(credited) == 1
    assert any(c["call"] == "allocate_credit_note" for c in calls)


def test_calls_of_a_payment_by_reference(history):
    [call] = history.audit.json("calls", "payment:81")["calls"]

    assert call["call"] == "create_payments"
    assert [item["amount"] for item in call["request"]["items"]] == ["500.00"]


def test_calls_of_an_unknown_document_exit_1(history):
    result = history.audit.run("calls", "INV-404", code=1)

    assert "no document" in result.stderr


# failures ---------------------------------------------------------------------------------------


def test_failures_group_one_configuration_mistake_into_one_line(history):
    groups = {g["message"]: g for g in history.audit.json("failures")["failures"]}

    rebates = groups[REBATES_MESSAGE]
    assert (rebates["failures"], rebates["documents_count"]) == (2, 2)
    assert [d["document"] for d in rebates["documents"]] == ["invoice:10", "invoice:9"]
    assert rebates["first_seen"] <= rebates["last_seen"]
    assert groups[INCENTIVES_MESSAGE]["documents_count"] == 1
    first = history.audit.json("failures")["failures"][0]
    assert first["message"] == REBATES_MESSAGE


def test_failures_in_a_window_leave_out_what_happened_outside_it(history):
    since = _at(history, "fixed")
    groups = history.audit.json("failures", "--since", since)["failures"]

    assert INCENTIVES_MESSAGE not in {g["message"] for g in groups}


# timings ----------------------------------------------------------------------------------------


def test_timings_give_median_p95_and_max_per_kind_and_the_slowest(history):
    data = history.audit.json("timings", "--slowest", "3")
    kinds = {k["kind"]: k for k in data["kinds"]}

    assert kinds["invoice"]["count"] == 2
    assert kinds["credit_note"]["count"] == 1
    assert kinds["payment"]["count"] == 1
    for kind in kinds.values():
        assert kind["median_s"] <= kind["p95_s"] <= kind["max_s"]
    assert len(data["slowest"]) == 3
    assert data["slowest"][0]["document"] == "invoice:7"
    seconds = [s["seconds"] for s in data["slowest"]]
    assert seconds == sorted(seconds, reverse=True)
    assert kinds["invoice"]["max_s"] == data["slowest"][0]["seconds"]


def test_timings_from_the_request_are_shorter_than_from_issue(history):
    issue = history.audit.json("timings")["kinds"][0]
    request = history.audit.json("timings", "--from", "request")["kinds"][0]

    assert request["max_s"] < issue["max_s"]


# formats ----------------------------------------------------------------------------------------

COMMANDS: tuple[tuple[str, ...], ...] = (
    ("events", "--limit", "0"),
    ("events", "--limit", "0", "--data"),
    ("calls", "INV-7"),
    ("calls", "INV-11"),
    ("failures",),
    ("as-of", "2030-01-01"),
    ("timings",),
)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_csv_has_a_header_row_and_json_is_one_document(history, command):
    text = history.audit.run(*command, "--csv").stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    document = json.loads(history.audit.run(*command, "--json").stdout)

    header = text.splitlines()[0].split(",")
    assert rows and set(rows[0]) == set(header)
    assert isinstance(document, dict)


def test_table_output_lines_up_under_a_header(history):
    lines = history.audit.run("as-of", "2030-01-01").stdout.splitlines()

    assert lines[0].split()[:3] == ["ORG", "DOCUMENT", "NUMBER"]
    assert len(lines) == 1 + len(history.cli.status())


def test_json_and_csv_together_are_a_usage_error(history):
    assert history.audit.run("failures", "--json", "--csv", code=2).exit_code == 2


# secrets ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["", "--json", "--csv"])
def test_no_token_or_secret_appears_in_any_audit_output(history, fmt):
    audit = Audit(history.audit.db, {**history.audit.env, "SYNCLEDGER_SECRET_KEY": SECRET_KEY})
    outputs = []
    for command in (
        *COMMANDS,
        ("events", "--doc", "INV-11", "--data"),
        ("events", "--org", "99", "--data"),
        ("failures", "--documents", "0"),
    ):
        result = audit.run(*command, *([fmt] if fmt else []))
        outputs.append(result.stdout + result.stderr)
    text = "\n".join(outputs)

    assert "INV-11" in text and "[redacted]" in text
    for secret in (*TOKENS, SECRET_KEY):
        assert secret not in text


def test_the_group_attaches_to_the_main_command(history):
    from click.testing import CliRunner

    from syncledger.cli import main

    previous = main.commands.get("audit")
    main.add_command(audit_group, "audit")
    try:
        result = CliRunner().invoke(
            main, ["--db", str(history.cli.db), "audit", "failures", "--json"]
        )
    finally:
        if previous is not None:
            main.add_command(previous, "audit")
        else:
            main.commands.pop("audit", None)

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["failures"]
