"""Crash test: a relay killed with SIGKILL at seeded random moments, again and again, while a few
hundred documents over four organisations flow through it, loses nothing and duplicates
nothing, and the ledger's history explains every call Xero received.

Half of the relays run with ``SYNCLEDGER_TEST_PAUSE_AFTER_ANSWER_MS`` and are killed just after
Xero answered one of their calls, inside that pause: between "Xero answered" and "outcome
recorded". The others are killed at a random moment of their work. Waves of changes arrive
between kills (new invoices, payments before their invoice, cancellations of synced invoices,
pending payments becoming paid, cancellations racing the pushes of their invoices), and the
unmapped category is mapped and the Failed invoices retried mid-way. A cancelled invoice ends
either never sent ("nothing to send") or in Xero and fully credited; never in Xero uncredited. On PostgreSQL the organisation lease is short so that each new relay takes
over from the dead one quickly.
"""

from __future__ import annotations

import json
import random
import time

import pytest

from domain.ids import document_id
from tests.e2e.conftest import Cli, start_sandbox, stop_process
from tests.reliability.support import (
    BackgroundRelay,
    Plan,
    account_for_calls,
    all_requests,
    check_end_state,
    ndjson_lines,
    read_ledger,
    setup_organisations,
    start_relay,
    wait_for,
)

# Twelve rounds of kills, each followed by a lease expiry and a fresh relay: about a minute
# on an idle machine, several under heavy load; the default 300 s cut would fail a run that
# loses nothing.
pytestmark = [pytest.mark.reliability, pytest.mark.e2e, pytest.mark.timeout(900)]

SEED = 20261124
ORGS = ("A", "B", "C", "D")
ROUNDS = 12
PAUSE_MS = "300"
LEASE = "1.5"


def answered_calls(sandbox) -> int:
    """How many API calls the sandbox has answered (lookups and writes)."""
    return sum(
        1
        for r in all_requests(sandbox)
        if r["path"].startswith("/api.xro/") and r["status"] is not None
    )


def has_work(cli: Cli) -> bool:
    """True if the log holds changes the outbox has not seen, or deliveries are due or claimed
    (``health`` reads without bringing anything up to date)."""
    health = json.loads(cli("health", "--json").stdout)
    outbox = health["outbox"]
    return bool(health["projections"]["outbox"]["lag"] or outbox["ready"] or outbox["claimed"])


def synced_invoices(cli: Cli) -> set[tuple[str, str]]:
    return {
        (s["org"], s["document"])
        for s in cli.status("--kind", "invoice", "--status", "synced")
        if s["credit_note_id"] is None
    }


def test_a_relay_killed_at_random_moments_loses_nothing_and_duplicates_nothing(
    db_location, tmp_path
):
    rng = random.Random(SEED)
    plan = Plan.build(SEED, ORGS, invoices_per_org=55, waves=4)
    sandbox = start_sandbox("--tenants", str(len(ORGS)), "--latency-ms", "10")
    cli = Cli(db_location, tmp_path)
    # on PostgreSQL a killed relay's organisations move to the next one when its lease lapses
    env = {"SYNCLEDGER_RELAY_ORG_LEASE_SECONDS": LEASE}
    relay: BackgroundRelay | None = None
    kills = []
    try:
        setup_organisations(db_location, sandbox, ORGS)
        cli.ingest(ndjson_lines(plan.wave(0)))
        for round_ in range(ROUNDS):
            if round_ in (2, 4):
                cli.ingest(ndjson_lines(plan.wave(round_ // 2)))
            if round_ in (6, 10):
                # cancel invoices Xero already holds (with the wave's other changes)
                synced = synced_invoices(cli)
                candidates = [
                    i
                    for i in plan.cancellable()
                    if (i.org, i.document) in synced and not i.cancelled
                ]
                chosen = rng.sample(candidates, min(len(candidates), 3 * len(ORGS)))
                wave = plan.wave(3 if round_ == 6 else 4)
                cli.ingest(ndjson_lines([*plan.cancel(chosen, rng), *wave]))
            if round_ == 8:
                plan.fix_unmapped(cli)
            pause = round_ % 2 == 0
            before = answered_calls(sandbox)
            busy = has_work(cli)
            extra = {"SYNCLEDGER_TEST_PAUSE_AFTER_ANSWER_MS": PAUSE_MS} if pause else {}
            relay = start_relay(cli, f"relay{round_}", **env, **extra)
            # once the relay is at work (Xero has answered one of its calls) ...
            answered = busy and wait_for(lambda b=before: answered_calls(sandbox) > b, 30, 0.02)
            if round_ in (2, 4):
                # cancellations racing the pushes of the wave just ingested (and the kill)
                racing = [i for i in plan.cancellable() if i.wave == round_ // 2]
                chosen = rng.sample(racing, min(len(racing), 2 * len(ORGS)))
                cli.ingest(ndjson_lines(plan.cancel(chosen, rng, racing=True)))
            # ... kill it inside the pause between the answer and the recorded outcome, or at a
            # random moment of its work
            time.sleep(rng.uniform(0.0, 0.1) if pause else rng.uniform(0.2, 1.2))
            relay.kill()
            kills.append((round_, pause, answered, answered_calls(sandbox) - before))
            relay = None

        time.sleep(float(LEASE) + 0.5)
        cli("relay", "--until-idle", timeout=180)

        # kept beside the ledger and the relays' logs for a post-mortem of any failure
        (tmp_path / "requests.json").write_text(json.dumps(all_requests(sandbox)))
        (tmp_path / "states.json").write_text(
            json.dumps([sandbox.state(tenant) for tenant in sandbox.tenant_ids])
        )
        health = json.loads(cli("health", "--json").stdout)
        statuses = cli.status("--all")
        states = check_end_state(plan, sandbox, statuses)
        record = read_ledger(db_location)
        account = account_for_calls(all_requests(sandbox), states, record)
    finally:
        if relay is not None:
            relay.kill()
        stop_process(sandbox.process)

    print(f"kills (round, paused, at work, calls answered): {kills}\n{account}")
    assert len(kills) >= 10
    assert sum(1 for _, _, answered, _ in kills if answered) >= 10, kills
    assert health["outbox"]["claimed"] == 0 and health["outbox"]["ready"] == 0, health
    assert plan.documents >= 300
    assert sum(i.cancelled for i in plan.invoices) >= 4 * len(ORGS)
    assert sum(i.racing for i in plan.invoices) >= 2 * len(ORGS)
    # the kills came between Xero's answer and the recorded outcome, and were adopted after
    assert sum(account.lost.values()) >= 3, account
    assert account.adoptions >= 1, account
    adopted = [
        (d.org, d.document)
        for d in [*plan.invoices, *plan.payments]
        if str(document_id(d.org, d.document.split(":")[0], str(d.model_id))) in record.adopted()
    ]
    assert adopted, "some deliveries were adopted after a kill"
    org, document = adopted[0]
    history = json.loads(cli("history", document, "--org", org, "--json").stdout)
    assert any("adopted" in e["summary"] for e in history["events"]), history["events"][-1]
