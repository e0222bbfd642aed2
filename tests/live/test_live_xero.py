"""The step before going live: the whole path against a real Xero demo organisation over a
custom connection, then everything it made voided. Skipped unless
``SYNCLEDGER_LIVE_XERO_CLIENT_ID`` and ``SYNCLEDGER_LIVE_XERO_CLIENT_SECRET`` name a custom
connection to a Xero demo company (see docs/testing.md). Its rehearsal against the sandbox in
custom connection mode runs always, so the check itself is known to work."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import SandboxProcess, start_sandbox, stop_process
from tests.live.scenario import Check, Target

pytestmark = pytest.mark.e2e

CLIENT_ID = "pre-production-app"
CLIENT_SECRET = "pre-production-secret-0123456789"


def run_check(check: Check) -> tuple[list[dict[str, object]], dict[str, object]]:
    """The scenario, then the cleanup (always); the statuses and the reconciliation."""
    try:
        statuses = check.run_scenario()
        report = check.reconcile()
    finally:
        problems = check.void_everything() if check.db.exists() else []
        assert problems == [], problems
    return statuses, report


def assert_all_synced(check: Check, statuses: list[dict[str, object]], report: dict[str, object]):
    by_document = {s["document"]: s for s in statuses}
    assert {d: s["status"] for d, s in by_document.items()} == {
        "invoice:1": "Synced",
        "invoice:2": "Synced",
        "payment:31": "Synced",
    }, statuses
    assert by_document["invoice:2"]["credit_note_id"]
    ours = {f"SL-CHECK-{check.run}-1", f"SL-CHECK-{check.run}-2"}
    differences = report.get("differences") or []
    assert [d for d in differences if ours & set(map(str, d.values()))] == [], differences


@pytest.fixture
def custom_sandbox() -> Iterator[SandboxProcess]:
    running = start_sandbox("--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET)
    try:
        yield running
    finally:
        stop_process(running.process)


def test_the_pre_production_check_rehearsed_on_the_sandbox(
    custom_sandbox: SandboxProcess, tmp_path: Path
):
    check = Check(Target(CLIENT_ID, CLIENT_SECRET, custom_sandbox.url), tmp_path)

    statuses, report = run_check(check)

    assert_all_synced(check, statuses, report)
    state = custom_sandbox.state()
    assert len(state["invoices"]) == 2 and {i["status"] for i in state["invoices"]} == {"VOIDED"}
    assert {c["status"] for c in state["credit_notes"]} == {"VOIDED"}
    assert {p["status"] for p in state["payments"]} == {"DELETED"}
    assert {c["status"] for c in state["contacts"]} == {"ARCHIVED"}
    assert all(a["deleted"] for a in state["allocations"])


def test_the_pre_production_check_against_xero(tmp_path: Path):
    target = Target.from_environment()
    if target is None:
        pytest.skip(
            "set SYNCLEDGER_LIVE_XERO_CLIENT_ID and SYNCLEDGER_LIVE_XERO_CLIENT_SECRET (a custom "
            "connection to a Xero demo company) to run the check against the real Xero"
        )
    check = Check(target, tmp_path)

    statuses, report = run_check(check)

    assert_all_synced(check, statuses, report)
