"""Ingest rate: changes per second through ``service.ingest``, against appending the same events
with bare eventsourcing, in the same run and on the same backend.

Product: a fresh database with 100 connected organisations; an NDJSON stream of 100k changes
(built in memory beforehand, see ``data.ingest_stream``) goes through ``service.ingest`` in
one call, as ``syncledger ingest`` does it (parse and validate each line, batches of
``SYNCLEDGER_BATCH_SIZE`` = 500 changes, one transaction per batch). Timed: that call only.

Baseline: the events the product recorded are read back (not timed) and appended to a fresh
database of the same backend by a plain eventsourcing ``Application`` with ``save(*events)``,
in as many transactions as the product used (so batch sizes match). Timed: the saves only.
Both rates are in changes per second (the baseline's is the same number of changes over its
time), so the ratio is product / baseline.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from pathlib import Path

from bench.backends import Backend
from bench.bare import BareAppend
from bench.data import ingest_stream, org_name, setup_orgs
from bench.report import Row, rate
from syncledger import service
from syncledger.bootstrap import System
from syncledger.config import Settings

ORGS = 100


def run(backend: Backend, quick: bool, folder: Path, log: Callable[[str], None]) -> list[Row]:
    count = 2_000 if quick else 100_000
    orgs = [org_name(i) for i in range(ORGS)]
    stream = ingest_stream(count, orgs)
    settings_batch = Settings().batch_size
    with backend.database("ingest") as db:
        with System.open(Settings(db=db)) as system:
            setup_orgs(system.ledger, orgs, "http://127.0.0.1:9")
            before = system.log.head()
            started = time.perf_counter()
            report = service.ingest(system, io.BytesIO(stream))
            product_seconds = time.perf_counter() - started
            notes = system.ledger.recorder.select_notifications(
                start=before, limit=10 * count, inclusive_of_start=False
            )
            events = [system.ledger.mapper.to_domain_event(n) for n in notes]
        if report.ingested != count:
            raise RuntimeError(f"ingest recorded {report.summary()}, expected {count}")
        log(f"  product: {count:,} changes, {len(events):,} events in {product_seconds:.1f} s")
        with backend.database("ingest_bare") as bare_db:
            app = BareAppend(backend.eventsourcing_env(bare_db))
            try:
                transactions = -(-count // settings_batch)
                size = -(-len(events) // transactions)
                started = time.perf_counter()
                for start in range(0, len(events), size):
                    app.save(*events[start : start + size])
                bare_seconds = time.perf_counter() - started
            finally:
                app.close()
    product_rate = count / product_seconds
    bare_rate = count / bare_seconds
    ratio = product_rate / bare_rate
    return [
        Row(
            figure="ingest rate",
            backend=backend.label,
            result=rate(product_rate, "changes/s"),
            baseline=f"{rate(bare_rate, 'changes/s')} (ratio {ratio:.2f})",
            target="ratio ≥ 0.7",
            met=ratio >= 0.7,
            notes=[
                f"{count:,} changes ({len(events):,} events: 60% invoices issued, 25% payments "
                f"paid, 10% updates, 5% cancellations; 100 connected organisations) in "
                f"{product_seconds:.1f} s through `service.ingest` (batches of "
                f"{settings_batch}); baseline: the same {len(events):,} events appended with "
                f"eventsourcing's `Application.save` in {transactions} transactions in "
                f"{bare_seconds:.1f} s"
            ],
        )
    ]
