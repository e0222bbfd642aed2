"""Backfill: 5,000 historical invoices of one organisation with 500 distinct customers, sent
after the fact with ``syncledger sync --not-attempted`` under Xero's per-minute limit.

The invoices are ingested issued before the organisation's connection (so they are Not
Attempted), then ``syncledger sync --not-attempted --org ORG`` asks for all of them and one
``syncledger relay --until-idle`` process delivers to a sandbox process with Xero's limits (60
calls a minute per tenant, real 60-second windows in the full run). Counted from the sandbox:
every Accounting API call for the tenant (429s separately) and the invoices it holds at the end.

The full run gives the relay a time cap. If it finishes within it, the minutes are measured. If
not, it is stopped and the minutes are extrapolated, and the row says so: calls per invoice so
far × 5,000 invoices at the call rate measured (the relay's budget, 55 a minute under Xero's 60).
That overstates a little when the early invoices carry most contact calls.
"""

from __future__ import annotations

import io
import json
import random
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from bench.backends import Backend
from bench.data import CONNECTED_AT, _lines, _stamp, customer, setup_orgs
from bench.procs import Relay, Sandbox, api_calls, command, environment, measure
from bench.report import Row
from syncledger import service
from syncledger.bootstrap import System
from syncledger.config import Settings
from syncledger.samples import invoice_change

ORG = "backfill"
DAY_LIMIT = 5000


def _history(invoices: int, customers: int) -> bytes:
    rng = random.Random(17)
    lines = []
    start = CONNECTED_AT - timedelta(days=invoices // 10 + 10)
    for n in range(1, invoices + 1):
        moment = start + timedelta(minutes=144 * n)
        change = invoice_change(
            n,
            number=f"INV-H{n:05d}",
            org_id=ORG,
            event_id=f"bf-{n}",
            timestamp=_stamp(moment),
            customer=customer(ORG, rng.randrange(customers) if n > customers else n - 1),
            lines=_lines(rng),
        )
        lines.append(json.dumps(change, separators=(",", ":")))
    return ("\n".join(lines) + "\n").encode()


def run(backend: Backend, quick: bool, folder: Path, log: Callable[[str], None]) -> list[Row]:
    invoices, customers = (500, 50) if quick else (5000, 500)
    window = 1.0 if quick else 60.0
    cap = 40.0 if quick else 8 * 60.0
    with backend.database("backfill") as db:
        sandbox = Sandbox.start("--minute-window", str(window))
        tenant = sandbox.tenant_ids[0]
        try:
            with System.open(Settings(db=db)) as system:
                setup_orgs(system.ledger, [ORG], sandbox.url, [tenant])
                report = service.ingest(system, io.BytesIO(_history(invoices, customers)))
                if report.ingested != invoices:
                    raise RuntimeError(f"backfill ingest: {report.summary()}")
            settings = {"SYNCLEDGER_LIMIT_WINDOW_SECONDS": str(window)}
            asked = measure(
                command("--db", db, "sync", "--not-attempted", "--org", ORG),
                environment(**settings),
            )
            if asked.returncode != 0:
                raise RuntimeError(f"sync --not-attempted failed: {asked.stderr[-2000:]}")
            log(f"  sync --not-attempted: {asked.seconds:.1f} s")
            relay = Relay(db, folder / f"backfill-{backend.kind}.log", until_idle=True, **settings)
            started = time.perf_counter()
            finished = relay.wait(cap)
            elapsed = time.perf_counter() - started
            if not finished:
                relay.stop()
            calls = api_calls(sandbox.requests(tenant))
            held = len(sandbox.state(tenant).get("invoices", []))
        finally:
            sandbox.stop()
    return [_row(backend, quick, invoices, customers, window, finished, elapsed, calls, held, cap)]


def _row(
    backend: Backend,
    quick: bool,
    invoices: int,
    customers: int,
    window: float,
    finished: bool,
    elapsed: float,
    calls: list[dict[str, object]],
    held: int,
    cap: float,
) -> Row:
    limited = sum(1 for c in calls if c.get("status") == 429)
    made = len(calls) - limited
    per_invoice = made / held if held else float("inf")
    invoices_per_call = held / made if made else 0.0
    scale = 60.0 / window  # seconds of real time per second measured
    if finished and held >= invoices:
        minutes = elapsed * scale / 60
        how = f"measured: all {held:,} delivered in {elapsed:.0f} s"
        if quick:
            how += f" with {window:.0f}-s windows (×{scale:.0f} for real minutes)"
    else:
        rate = made / elapsed * 60 / scale if elapsed else 0.0  # calls per real minute
        projected = per_invoice * invoices
        minutes = projected / rate if rate else float("inf")
        how = (
            f"**extrapolated**: stopped at the {cap / 60:.0f}-minute cap with {held:,} of "
            f"{invoices:,} delivered in {made:,} calls ({rate:.0f} calls a minute); "
            f"{per_invoice:.2f} calls per invoice × {invoices:,} = {projected:,.0f} calls"
        )
        if projected > DAY_LIMIT:
            how += f", more than Xero's {DAY_LIMIT:,} a day per organisation"
    result = (
        f"{per_invoice:.3f} calls per invoice (1 per {invoices_per_call:.1f}); "
        f"{minutes:,.1f} min; {limited} × 429"
    )
    notes = [
        f"{invoices:,} invoices, {customers} customers, one organisation; "
        f"`sync --not-attempted` then `relay --until-idle`; {how}"
    ]
    return Row(
        figure="backfill 5,000 invoices" if not quick else f"backfill {invoices} invoices",
        backend=backend.label,
        result=result,
        target="≤ 1 call per 15 invoices; report minutes",
        met=per_invoice <= 1 / 15,
        notes=notes,
    )
