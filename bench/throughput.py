"""App-wide throughput: many organisations with work, Xero's real limits, 150 ms per call.

A sandbox process with N tenants (full run: 500; Xero's limits: 60 calls a minute and 5 at once
per tenant, 10,000 a minute for the app, real 60-second windows) adds 150 ms to every call. N
organisations are connected to them, each with a backlog of new invoices (full run: 150 each,
for 25 customers each, 75,000 in all) ingested before the relays start: the situation where
the app-wide limit matters, many organisations with work at once. Real ``syncledger relay``
processes then deliver (one on SQLite, two on PostgreSQL) with 48 workers each (the default 16
cannot keep 24 calls of 150 ms in flight, which 10,000 a minute needs) and one invoice per call
(``SYNCLEDGER_XERO_BATCH_SIZE=1``): this row measures calls, and with batching the whole
backlog takes a few thousand calls, gone in seconds (the backfill row measures batching).
Every projection is brought to the head first; nothing else writes while they run.

Measured from the sandbox's own request log: Accounting API calls answered (not 429) whose
arrival falls in the measured window (after a warm-up), per second and per minute against the
10,000/minute ceiling; the lowest 10-second slice; and every 429 of the whole run. Invoices
delivered are counted from what the sandbox holds at the end; if the backlog ran out before the
end, the row says so (the figure is then a lower bound).
"""

from __future__ import annotations

import io
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.backends import Backend
from bench.data import _lines, _stamp, customer, org_name, setup_orgs
from bench.procs import Relay, Sandbox, api_calls
from bench.report import Row
from projections.base import catch_up
from syncledger import service
from syncledger.bootstrap import System
from syncledger.config import Settings
from syncledger.samples import invoice_change

APP_LIMIT = 10_000


@dataclass(frozen=True)
class Plan:
    orgs: int
    window: float
    app_limit: int
    warmup: float
    duration: float
    backlog_per_org: int
    customers_per_org: int
    relay_settings: dict[str, str]

    @property
    def scaled(self) -> bool:
        return self.window != 60.0


def plan(quick: bool, backend: Backend) -> Plan:
    if quick:
        # time scaled 6x (10 s windows), and the app limit scaled with the organisations
        return Plan(
            orgs=20,
            window=10.0,
            app_limit=300,
            warmup=3.0,
            duration=9.0,
            backlog_per_org=40,
            customers_per_org=10,
            relay_settings={
                "SYNCLEDGER_LIMIT_WINDOW_SECONDS": "10",
                "SYNCLEDGER_APP_MINUTE_BUDGET": "285",
                "SYNCLEDGER_RELAY_WORKERS": "48",
                "SYNCLEDGER_XERO_BATCH_SIZE": "1",
            },
        )
    return Plan(
        orgs=500,
        window=60.0,
        app_limit=APP_LIMIT,
        warmup=30.0,
        duration=120.0,
        backlog_per_org=150,
        customers_per_org=25,
        relay_settings={"SYNCLEDGER_RELAY_WORKERS": "48", "SYNCLEDGER_XERO_BATCH_SIZE": "1"},
    )


def backlog(orgs: list[str], per_org: int, customers: int) -> bytes:
    """New invoices (issued now, so each asks for a delivery), round-robin over the
    organisations, each for one of the organisation's customers."""
    lines = []
    for n in range(1, len(orgs) * per_org + 1):
        org = orgs[n % len(orgs)]
        rng = random.Random(n)
        change = invoice_change(
            n,
            number=f"INV-T{n:07d}",
            org_id=org,
            event_id=f"tp-{n}",
            timestamp=_stamp(datetime.now(UTC)),
            customer=customer(org, rng.randrange(customers)),
            lines=_lines(rng),
        )
        lines.append(json.dumps(change, separators=(",", ":")))
    return ("\n".join(lines) + "\n").encode()


def run(backend: Backend, quick: bool, folder: Path, log: Callable[[str], None]) -> list[Row]:
    p = plan(quick, backend)
    relays_wanted = 2 if backend.is_postgres else 1
    with backend.database("throughput") as db:
        sandbox = Sandbox.start(
            "--tenants",
            str(p.orgs),
            "--latency-ms",
            "150",
            "--minute-window",
            str(p.window),
            "--app-minute-limit",
            str(p.app_limit),
        )
        relays: list[Relay] = []
        try:
            orgs = [org_name(i) for i in range(p.orgs)]
            queued = p.orgs * p.backlog_per_org
            with System.open(Settings(db=db)) as system:
                setup_orgs(system.ledger, orgs, sandbox.url, sandbox.tenant_ids)
                stream = backlog(orgs, p.backlog_per_org, p.customers_per_org)
                service.ingest(system, io.BytesIO(stream))
                # every projection at the head before the relays start, so the measured window
                # is delivery, not the relays catching up on the backlog's events
                for projection in system.projections.values():
                    catch_up(projection, system.log)
            log(f"  {p.orgs} organisations connected, {queued:,} invoices queued")
            relays = [
                Relay(db, folder / f"throughput-relay{i}.log", **p.relay_settings)
                for i in range(relays_wanted)
            ]
            started = time.time()
            time.sleep(p.warmup + p.duration)
            for relay in relays:
                relay.stop()
            requests = api_calls(sandbox.requests())
            (folder / f"throughput-{backend.kind}-requests.json").write_text(json.dumps(requests))
            delivered = sum(len(sandbox.state(t).get("invoices", [])) for t in sandbox.tenant_ids)
        finally:
            for relay in relays:
                relay.stop()
            sandbox.stop()
    return [_row(backend, p, requests, started, delivered, queued, relays_wanted)]


def _row(
    backend: Backend,
    p: Plan,
    requests: list[dict[str, Any]],
    started: float,
    delivered: int,
    queued: int,
    relays: int,
) -> Row:
    low, high = started + p.warmup, started + p.warmup + p.duration
    answered = [r for r in requests if r.get("status") not in (429, None)]
    in_window = [r for r in answered if low <= r["at"] < high]
    limited = sum(1 for r in requests if r.get("status") == 429)
    per_second = len(in_window) / p.duration
    per_window = per_second * p.window
    share = per_window / p.app_limit
    slices = []
    step = 10.0 if not p.scaled else p.window / 6
    t = low
    while t + step <= high + 1e-9:
        slices.append(sum(1 for r in in_window if t <= r["at"] < t + step) / step)
        t += step
    lowest = min(slices) if slices else 0.0
    window_name = "minute" if not p.scaled else f"{p.window:.0f}-s window"
    result = (
        f"{per_second:,.1f} calls/s = {per_window:,.0f} per {window_name} "
        f"({share:.1%} of {p.app_limit:,}); lowest {step:.0f}-s slice {lowest:,.1f}/s; "
        f"{limited} × 429"
    )
    met = share >= 0.95 and limited == 0
    notes = [
        f"{p.orgs} organisations, {relays} relay process(es) with "
        + ", ".join(f"{k}={v}" for k, v in p.relay_settings.items())
        + f"; sandbox: 60/min and 5 at once per tenant, {p.app_limit:,} per {p.window:.0f} s "
        f"for the app, 150 ms per call; measured {p.duration:.0f} s after {p.warmup:.0f} s "
        f"of warm-up; backlog of {queued:,} invoices ({p.backlog_per_org} per organisation, "
        f"{p.customers_per_org} customers each), {delivered:,} delivered "
        f"({delivered / (p.warmup + p.duration):,.1f} invoices/s over the run)",
    ]
    if delivered >= queued:
        notes.append("**the backlog ran out before the end: the figure is a lower bound**")
    if p.scaled:
        notes.append("--quick: windows scaled to 10 s and the app limit to 300 (smoke test)")
    return Row(
        figure="app-wide throughput",
        backend=backend.label,
        result=result,
        target="≥ 95% of 10,000 calls/min, zero 429s",
        met=met,
        notes=notes,
    )
