"""Fault test: the same documents pushed once through a well-behaved sandbox and once through a
sandbox that, with a fixed seed, answers several percent of writes with 500, 502 and 503, holds
some until the client times out, commits others and drops the answer, and refuses some with
429, while its idempotency window is shorter than the relay's retry delays (so a repeated key
never saves a retry: only looking before creating does). Both runs must end in the same state,
in Xero and on ``status``, with nothing twice, and the ledger must have recorded every call.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Cli, SandboxProcess, start_sandbox, stop_process
from tests.reliability.support import (
    Plan,
    account_for_calls,
    all_requests,
    check_end_state,
    ndjson_lines,
    read_ledger,
    set_faults,
    setup_organisations,
)
from tests.support.databases import database

pytestmark = [pytest.mark.reliability, pytest.mark.e2e]

SEED = 7
ORGS = ("A", "B", "C")
FAULTS = {
    "500": 0.04,
    "502": 0.03,
    "503": 0.04,
    "429": 0.04,
    "timeout": 0.03,
    "drop_after_commit": 0.05,
}
IDEMPOTENCY_WINDOW = "0.3"
RETRY = {
    # every retry comes after the sandbox has forgotten the key of the attempt before
    "SYNCLEDGER_RETRY_BASE_SECONDS": "0.6",
    "SYNCLEDGER_RETRY_MAX_SECONDS": "1.5",
    "SYNCLEDGER_RETRY_MAX_ATTEMPTS": "10",
    # a held request outlasts the client's patience: a real client-side timeout
    "SYNCLEDGER_XERO_TIMEOUT": "1",
}


class FaultCli(Cli):
    def env(self) -> dict[str, str]:
        return {**super().env(), **RETRY}


def run(plan: Plan, db: str, workdir: Path, sandbox: SandboxProcess) -> list[dict[str, Any]]:
    """Push the plan: wave 0, then cancellations of some of its invoices with wave 1, then the
    unmapped category mapped and the Failed invoices retried, then the pending payments paid."""
    rng = random.Random(SEED)
    cli = FaultCli(db, workdir)
    setup_organisations(db, sandbox, plan.orgs)
    cli.ingest(ndjson_lines(plan.wave(0)))
    cli("relay", "--until-idle", timeout=240)
    first = [i for i in plan.cancellable() if i.wave == 0]
    chosen = rng.sample(first, 3 * len(plan.orgs))
    cli.ingest(ndjson_lines([*plan.cancel(chosen, rng), *plan.wave(1)]))
    cli("relay", "--until-idle", timeout=240)
    plan.fix_unmapped(cli)
    cli.ingest(ndjson_lines(plan.wave(2)))
    cli("relay", "--until-idle", timeout=240)
    return cli.status("--all")


def normalised(sandbox: SandboxProcess, orgs: tuple[str, ...]) -> list[dict[str, Any]]:
    """What each tenant holds, without Xero's ids and times."""
    result = []
    for tenant in sandbox.tenant_ids[: len(orgs)]:
        state = sandbox.state(tenant)
        contacts = {c["contact_id"]: c["email"] for c in state["contacts"]}
        invoices = {i["invoice_id"]: i["invoice_number"] for i in state["invoices"]}
        credits = {c["credit_note_id"]: c["credit_note_number"] for c in state["credit_notes"]}
        result.append(
            {
                "contacts": sorted((c["name"], c["email"]) for c in state["contacts"]),
                "invoices": sorted(
                    (
                        i["invoice_number"],
                        contacts[i["contact_id"]],
                        i["status"],
                        i["line_amount_types"],
                        i["total"],
                        i["amount_due"],
                        i["amount_paid"],
                        i["amount_credited"],
                        tuple(
                            (x["description"], x["quantity"], x["unit_amount"], x["account_code"])
                            for x in i["line_items"]
                        ),
                    )
                    for i in state["invoices"]
                ),
                "credit_notes": sorted(
                    (c["credit_note_number"], c["status"], c["total"], c["remaining_credit"])
                    for c in state["credit_notes"]
                ),
                "allocations": sorted(
                    (credits[a["credit_note_id"]], invoices[a["invoice_id"]], a["amount"])
                    for a in state["allocations"]
                ),
                "payments": sorted(
                    (invoices[p["invoice_id"]], p["reference"], p["amount"], p["account_code"])
                    for p in state["payments"]
                ),
            }
        )
    return result


def statuses_without_ids(statuses: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted(
        (s["org"], s["document"], s["kind"], s["number"], s["status"], s["error"], s["amount"])
        for s in statuses
    )


def test_faults_injected_at_several_percent_end_in_the_same_state_with_nothing_twice(
    backend, tmp_path
):
    plan = Plan.build(SEED, ORGS, invoices_per_org=30, waves=2)
    calm = start_sandbox("--tenants", str(len(ORGS)))
    stormy = start_sandbox("--tenants", str(len(ORGS)), "--idempotency-window", IDEMPOTENCY_WINDOW)
    try:
        set_faults(
            stormy,
            fault_rates=FAULTS,
            fault_timeout_s=2.0,
            fault_methods=["PUT", "POST"],
            seed=SEED,
        )
        with database(backend, tmp_path / "calm") as calm_db:
            (tmp_path / "calm").mkdir(exist_ok=True)
            calm_statuses = run(plan, calm_db, tmp_path / "calm", calm)
        for invoice in plan.invoices:
            invoice.cancelled = invoice.deleted = False
        with database(backend, tmp_path / "stormy") as stormy_db:
            (tmp_path / "stormy").mkdir(exist_ok=True)
            stormy_statuses = run(plan, stormy_db, tmp_path / "stormy", stormy)
            record = read_ledger(stormy_db)

        requests = all_requests(stormy)
        states = check_end_state(plan, stormy, stormy_statuses)
        check_end_state(plan, calm, calm_statuses)
        account = account_for_calls(requests, states, record)

        assert normalised(stormy, ORGS) == normalised(calm, ORGS)
        assert statuses_without_ids(stormy_statuses) == statuses_without_ids(calm_statuses)
    finally:
        stop_process(calm.process)
        stop_process(stormy.process)

    injected = Counter(r["fault"] for r in requests if r["fault"])
    print(f"faults injected: {dict(injected)}\n{account}")
    assert set(injected) == set(FAULTS), f"every kind of fault happened: {injected}"
    assert sum(1 for s in stormy_statuses if s["status"] == "Synced") >= 100
    # without a crash the ledger recorded every call; the dropped answers were adopted after
    assert account.lost == {}, account
    assert 0 < sum(account.unanswered.values()) <= injected["drop_after_commit"], account
    assert account.adoptions >= 1, account
    assert sum(1 for p in plan.payments if p.paid_wave is not None) >= 20
