"""Idle latency: from a change being recorded to the sandbox receiving the Xero call for it.

A sandbox process (Xero's limits, no added latency) and one ``syncledger relay`` process with
its default settings (SQLite: it polls every 0.25 s; PostgreSQL: it wakes on LISTEN/NOTIFY) that
is running and idle. Each sample ingests one invoice through ``service.ingest`` in the benchmark
process; the clock starts when that call returns (the change is committed) and stops at the
sandbox's request-log ``at`` (its arrival time, same host clock) of the first call that follows,
the invoice's PUT (its customer's contact was matched before, so no contact call comes first).
Before the next sample the benchmark waits until the outcome is recorded in the ledger, then a
random 0.2-0.6 s so samples fall anywhere in the relay's poll cycle. Samples rotate over ten
organisations so no organisation's per-minute limit is ever what a sample waits for.
"""

from __future__ import annotations

import io
import json
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from bench.backends import Backend
from bench.data import _lines, _stamp, customer, org_name, setup_orgs
from bench.procs import Relay, Sandbox, api_calls
from bench.report import Row, ms
from domain.documents import Invoice
from domain.ids import document_id
from syncledger import service
from syncledger.bootstrap import System
from syncledger.config import Settings
from syncledger.samples import invoice_change

ORGS = 10


def _change(n: int, org: str) -> bytes:
    rng = random.Random(n)
    change = invoice_change(
        n,
        number=f"INV-L{n:06d}",
        org_id=org,
        event_id=f"lat-{n}",
        timestamp=_stamp(datetime.now(UTC)),
        customer=customer(org, 1),
        lines=_lines(rng),
    )
    return (json.dumps(change) + "\n").encode()


def _synced(system: System, org: str, n: int, timeout: float = 30.0) -> bool:
    doc = document_id(org, "invoice", str(n))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = system.ledger.document(UUID(str(doc)))
        if isinstance(found, Invoice) and found.xero_invoice_id is not None:
            return True
        time.sleep(0.01)
    return False


def run(backend: Backend, quick: bool, folder: Path, log: Callable[[str], None]) -> list[Row]:
    samples = 8 if quick else 200
    rng = random.Random(5)
    latencies: list[float] = []
    missed = 0
    with backend.database("latency") as db:
        sandbox = Sandbox.start("--tenants", str(ORGS))
        relay: Relay | None = None
        try:
            with System.open(Settings(db=db)) as system:
                orgs = [org_name(i) for i in range(ORGS)]
                setup_orgs(system.ledger, orgs, sandbox.url, sandbox.tenant_ids)
                relay = Relay(db, folder / f"latency-{backend.kind}.log")
                # warm-up: one invoice per organisation, so each customer's contact is known
                for index, org in enumerate(orgs):
                    service.ingest(system, io.BytesIO(_change(index + 1, org)))
                for index, org in enumerate(orgs):
                    if not _synced(system, org, index + 1, timeout=60):
                        raise RuntimeError(f"warm-up invoice not synced: {relay.log_tail()}")
                seen = len(sandbox.requests())
                for i in range(samples):
                    n = 1000 + i
                    org = orgs[i % ORGS]
                    time.sleep(rng.uniform(0.2, 0.6))
                    service.ingest(system, io.BytesIO(_change(n, org)))
                    returned = time.time()
                    if not _synced(system, org, n):
                        missed += 1
                        continue
                    requests = api_calls(sandbox.requests())
                    fresh = [r for r in requests[seen:] if r["at"] >= returned - 1.0]
                    seen = len(requests)
                    if fresh:
                        latencies.append(fresh[0]["at"] - returned)
                    else:
                        missed += 1
        finally:
            if relay is not None:
                relay.stop()
            sandbox.stop()
    return [_row(backend, latencies, samples, missed)]


def _row(backend: Backend, latencies: list[float], samples: int, missed: int) -> Row:
    target = 0.1 if backend.is_postgres else 0.5
    if not latencies:
        return Row("idle latency", backend.label, "no sample", f"median < {ms(target)}", False)
    ordered = sorted(latencies)
    median = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    how = "LISTEN/NOTIFY" if backend.is_postgres else "polling every 0.25 s"
    notes = [
        f"{len(latencies)} samples (of {samples}; {missed} missed), one relay process with "
        f"default settings ({how}), running and idle; from `service.ingest` returning to the "
        "sandbox's arrival time of the invoice's PUT; min "
        f"{ms(ordered[0])}, max {ms(ordered[-1])}"
    ]
    return Row(
        figure="idle latency",
        backend=backend.label,
        result=f"median {ms(median)}, p99 {ms(p99)}",
        target=f"median < {ms(target)}",
        met=median < target,
        notes=notes,
    )
