"""The relay daemon through the real CLI: organisations served side by side within their limits,
clean stops, ordering, retries, replays and health."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import httpx
import pytest

from syncledger.samples import invoice_change, ndjson, payment_change
from tests.e2e.conftest import BIN, Cli, connect_in_process, start_sandbox, stop_process

pytestmark = pytest.mark.e2e


def background_relay(
    cli: Cli, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(BIN), "relay", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**cli.env(), **(env or {})},
        cwd=cli.workdir,
    )


def wait_for(condition, timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def faults(sandbox, **settings) -> None:
    httpx.post(f"{sandbox.url}/sandbox/faults", json=settings).raise_for_status()


def claimed(cli: Cli) -> int:
    return json.loads(cli("health", "--json").stdout)["outbox"]["claimed"]


def setup_org(cli: Cli, org: str, url: str, tenant: str) -> None:
    connect_in_process(cli, org, url, tenant)


def test_three_organisations_one_failing_one_at_its_daily_limit(cli, tmp_path):
    # Xero's real limits (60 a minute, 5 at once) with the minute scaled to 6 s and the day to
    # an hour; each organisation has a sandbox of its own so one's faults and limits cannot
    # touch the others.
    scaled = ("--minute-window", "6", "--minute-limit", "60", "--day-window", "3600")
    healthy = start_sandbox(*scaled)
    limited = start_sandbox(*scaled)
    failing = start_sandbox(*scaled, "--fault-rate", "503=1.0", "--seed", "4")
    relay = None
    try:
        setup_org(cli, "A", healthy.url, healthy.tenant_id)
        setup_org(cli, "B", limited.url, limited.tenant_id)
        setup_org(cli, "C", failing.url, failing.tenant_id)

        def invoices(org: str, first: int, count: int) -> list[dict]:
            return [
                invoice_change(
                    first + i,
                    org_id=org,
                    customer={"id": first + i, "name": f"{org}{i}", "email": f"{org}{i}@x.com"},
                )
                for i in range(count)
            ]

        cli.ingest(ndjson(*invoices("A", 100, 8), *invoices("B", 200, 10), *invoices("C", 300, 4)))

        relay = background_relay(
            cli,
            env={
                "SYNCLEDGER_LIMIT_WINDOW_SECONDS": "6",
                "SYNCLEDGER_RETRY_MAX_ATTEMPTS": "30",
                "SYNCLEDGER_RETRY_BASE_SECONDS": "0.3",
                "SYNCLEDGER_RETRY_MAX_SECONDS": "1",
            },
        )
        started = time.monotonic()

        def statuses(org: str) -> list[dict]:
            return cli.status("--org", org)

        def all_synced(org: str) -> bool:
            return all(s["status"] == "Synced" for s in statuses(org))

        assert wait_for(lambda: all_synced("A"), 20)
        healthy_done = time.monotonic() - started
        assert all(s["status"] == "Pending" for s in statuses("C")), "C still answers 503"
        assert healthy_done < 10, f"the healthy organisation took {healthy_done:.1f} s"

        # B has used what Xero allows it today: its next call meets the daily limit
        assert wait_for(lambda: all_synced("B"), 20)
        used = len([r for r in limited.requests() if r["status"] != 429])
        httpx.post(f"{limited.url}/sandbox/limits", json={"day_limit": used}).raise_for_status()
        cli.ingest(ndjson(*invoices("B", 400, 15)))

        faults(failing, fault_rates={})
        assert wait_for(lambda: all_synced("C"), 30)

        def b_parked() -> bool:
            waiting = [s for s in statuses("B") if s["status"] == "Pending"]
            return len(waiting) == 15 and all(
                (s["reason"] or "").startswith("Xero daily limit reached; resumes at")
                for s in waiting
            )

        assert wait_for(b_parked, 30)
        assert sum(s["status"] == "Synced" for s in statuses("B")) == 10

        assert [r for r in healthy.requests() if r["status"] == 429] == [], (
            "no 429 for the healthy organisation"
        )
        assert [r for r in failing.requests() if r["status"] == 429] == [], (
            "no 429 for the one that failed and recovered"
        )
        requests_b = limited.requests()
        day_429 = [r for r in requests_b if r["status"] == 429]
        assert day_429, "B met its daily limit"
        first_429 = min(r["at"] for r in day_429)
        after = [r for r in requests_b if r["at"] > first_429 + 1.0]
        assert len(day_429) <= 5, "only the calls already in flight (at most 5) can meet the limit"
        assert after == [], "a daily-limit 429 parks the organisation instead of retrying"
        health = json.loads(cli("health", "--json").stdout)
        b_health = next(o for o in health["organisations"] if o["org"] == "B")
        assert b_health["parked_until"] and b_health["parked_reason"].startswith("Xero daily limit")
    finally:
        if relay is not None:
            relay.send_signal(signal.SIGTERM)
            relay.communicate(timeout=20)
        for sandbox in (healthy, limited, failing):
            stop_process(sandbox.process)


def test_sigterm_mid_backlog_stops_cleanly_and_a_restart_finishes_without_duplicates(
    connected, sandbox
):
    # Six batches of 50 invoices, each call taking a second and at most two at once, so the
    # backlog takes several seconds and a SIGTERM lands in its middle.
    backlog = 300
    faults(sandbox, latency_ms=1000)
    connected.ingest(
        ndjson(
            *[
                invoice_change(i, customer={"id": i, "name": f"C{i}", "email": f"c{i}@x.com"})
                for i in range(backlog)
            ]
        )
    )
    relay = background_relay(connected, env={"SYNCLEDGER_ORG_CONCURRENCY": "2"})
    assert wait_for(lambda: len(sandbox.state()["invoices"]) >= 1, 60)

    relay.send_signal(signal.SIGTERM)
    stopping = time.monotonic()
    _, err = relay.communicate(timeout=30)
    took = time.monotonic() - stopping

    assert relay.returncode == 0, err
    assert took < 10
    assert claimed(connected) == 0, "nothing is left claimed"
    delivered = len(sandbox.state()["invoices"])
    assert delivered < backlog, "the backlog was interrupted"
    stopped = [s for s in connected.status() if s["status"] == "Synced"]
    assert len(stopped) == delivered, "every call that was in flight had its outcome recorded"

    faults(sandbox, latency_ms=0)
    connected("relay", "--until-idle")

    invoices = sandbox.state()["invoices"]
    assert len(invoices) == backlog
    assert len({i["invoice_number"] for i in invoices}) == backlog
    assert {s["status"] for s in connected.status()} == {"Synced"}


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_second_relay_on_the_same_sqlite_file_refuses_to_start(connected):
    first = background_relay(connected)
    try:
        time.sleep(1.0)
        second = connected("relay", "--until-idle", ok=False)
        assert second.returncode == 1
        assert "another relay" in second.stderr and "only one relay" in second.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=20)


def _order(sandbox, *paths: str) -> list[str]:
    seen = []
    for r in sandbox.requests():
        if r["method"] == "PUT":
            for path in paths:
                if r["path"].endswith(path) and r["status"] == 200:
                    seen.append(path)
    return seen


def test_a_payment_ingested_before_its_invoice_is_delivered_after_it(connected, sandbox):
    connected.ingest(ndjson(payment_change(3001, invoice_id=1042)))
    connected("relay", "--until-idle")
    assert (
        connected.status_of("payment:3001")["reason"]
        == "waiting for its invoice: not received from OpenSolar yet"
    )

    connected.ingest(ndjson(invoice_change(1042)))
    connected("relay", "--until-idle")

    assert _order(sandbox, "/Invoices", "/Payments") == ["/Invoices", "/Payments"]


def test_a_cancellation_arriving_while_the_invoice_is_in_flight_is_credited_after_it(
    connected, sandbox
):
    faults(sandbox, latency_ms=1500, fault_methods=["PUT"])
    connected.ingest(ndjson(invoice_change(1042)))
    relay = background_relay(connected)
    try:
        time.sleep(1.0)  # the invoice PUT is in flight
        connected.ingest(
            ndjson(invoice_change(1042, status="cancelled", timestamp="2026-11-21T00:00:00Z"))
        )
        assert wait_for(
            lambda: connected.status_of("invoice:1042")["credit_note_id"] is not None, 30
        )
    finally:
        relay.send_signal(signal.SIGTERM)
        relay.communicate(timeout=30)

    assert _order(sandbox, "/Invoices", "/CreditNotes", "/Allocations") == [
        "/Invoices",
        "/CreditNotes",
        "/Allocations",
    ]
    [invoice] = sandbox.state()["invoices"]
    assert float(invoice["amount_due"]) == 0


def test_a_transient_failure_ends_failed_after_the_last_attempt_and_retry_then_syncs(cli, sandbox):
    setup_org(cli, "42", sandbox.url, sandbox.tenant_id)
    faults(sandbox, fault_rates={"503": 1.0}, seed=2)
    cli.ingest(ndjson(invoice_change(1042)))

    subprocess.run(
        [str(BIN), "relay", "--until-idle"],
        env={**cli.env(), "SYNCLEDGER_RETRY_MAX_ATTEMPTS": "3"},
        cwd=cli.workdir,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    failed = cli.status_of("invoice:1042")
    assert failed["status"] == "Failed"
    assert failed["error"].startswith("gave up after 3 attempts: 503 Service Unavailable")
    faults(sandbox, fault_rates={})
    cli("retry", "invoice:1042")
    cli("relay", "--until-idle")
    assert cli.status_of("invoice:1042")["status"] == "Synced"
    assert len(sandbox.state()["invoices"]) == 1


def test_replay_of_thousands_of_events_reproduces_status_and_sends_nothing(connected, sandbox):
    history = [invoice_change(i, timestamp="2026-10-01T00:00:00Z") for i in range(900)]
    history += [
        invoice_change(i, status="viewed", timestamp="2026-10-02T00:00:00Z")
        for i in range(0, 900, 3)
    ]
    history += [invoice_change(5000 + i) for i in range(12)] + [
        payment_change(7000 + i, invoice_id=5000 + i) for i in range(6)
    ]
    connected.ingest(ndjson(*history))
    connected("relay", "--until-idle")
    before = connected("status", "--json", "--all").stdout
    calls_before = len(sandbox.requests())
    head = json.loads(connected("health", "--json").stdout)["log_head"]
    assert head > 2000

    result = connected("replay", "--projection", "all")
    connected("relay", "--until-idle")

    assert connected("status", "--json", "--all").stdout == before
    assert len(sandbox.requests()) == calls_before
    assert f"status: replayed {head} events" in result.stdout
    nothing = connected("replay", "invoice:5000")
    assert nothing.stdout.startswith("nothing to send: INV-5000 (invoice:5000) is Synced")
    connected("relay", "--until-idle")
    assert len(sandbox.requests()) == calls_before


def test_replay_doc_dry_run_prints_the_calls_without_sending(connected, sandbox):
    connected.ingest(ndjson(invoice_change(1042, timestamp="2026-10-01T00:00:00Z")))
    connected("sync", "invoice:1042")
    calls_before = len(sandbox.requests())

    result = connected("replay", "invoice:1042", "--dry-run")

    assert (
        "PUT /api.xro/2.0/Invoices" in result.stdout
        and '"InvoiceNumber":"INV-1042"' in result.stdout.replace(" ", "")
    )
    assert len(sandbox.requests()) == calls_before
    assert connected.status_of("invoice:1042")["status"] == "Pending"


def test_health_reports_lag_and_depths_of_a_known_backlog(connected):
    before = json.loads(connected("health", "--json").stdout)
    head_before = before["log_head"]
    connected.ingest(
        ndjson(
            *[invoice_change(i) for i in range(10)],
            *[payment_change(90 + i, invoice_id=555) for i in range(3)],
        )
    )

    stale = json.loads(connected("health", "--json").stdout)
    # received, issued (or paid), sync requested; the payments' invoice is not received yet, so
    # it is started (received) and learns of each payment made against it
    new_events = 10 * 3 + 3 * 3 + 1 + 3
    assert stale["log_head"] == head_before + new_events
    for name in ("status", "outbox"):
        assert stale["projections"][name]["lag"] == before["projections"][name]["lag"] + new_events

    connected("status")  # reads are fresh: brings the projections up to date
    fresh = json.loads(connected("health", "--json").stdout)

    assert fresh["projections"]["status"]["lag"] == 0 and fresh["projections"]["outbox"]["lag"] == 0
    assert fresh["outbox"]["ready"] == 10 and fresh["outbox"]["waiting"] == 3
    assert fresh["oldest_pending_seconds"] is not None and fresh["oldest_pending_seconds"] >= 0
    assert fresh["relay_running"] is False


def test_relay_logs_one_json_line_per_delivery(connected):
    connected.ingest(ndjson(invoice_change(1), invoice_change(2)))

    result = connected("--log-format", "json", "relay", "--until-idle")

    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    deliveries = [line for line in lines if line["message"].startswith("delivery ")]
    assert len(deliveries) == 2
    assert all(
        "org=42" in d["message"]
        and "op=invoice" in d["message"]
        and "xero_status=200" in d["message"]
        and "duration_ms=" in d["message"]
        for d in deliveries
    )
    assert {"doc=invoice:1", "doc=invoice:2"} <= {
        part for d in deliveries for part in d["message"].split()
    }


def test_sync_not_attempted_shows_an_estimate_and_a_progress_bar(connected):
    connected.ingest(
        ndjson(*[invoice_change(i, timestamp="2026-10-01T00:00:00Z") for i in range(5)])
    )

    result = connected("sync", "--not-attempted", "--org", "42", "--dry-run")

    assert "organisation 42: 5 documents, about 6 Xero calls" in result.stderr
    assert "planning" in result.stderr
    assert result.stdout.count("would be sent") == 5
    assert {s["status"] for s in connected.status()} == {"Not Attempted"}
