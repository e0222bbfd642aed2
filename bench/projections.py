"""The rows that need a big ledger: projection catch-up, replay, and queries, all on one
generated ledger per backend (1M events in the full run), built once and shared by the three
because none of them changes the log.

1. Catch-up (cold start): the status projection and the outbox writer, each from position 0 over
   the whole log with the product's ``catch_up`` (batches of 1,000, one transaction each).
   Timed: ``catch_up`` alone. Baseline: the bare eventsourcing projections of ``bench.bare``
   writing the same rows (checked: zero differing rows), timed the same way.
2. Replay: ``syncledger replay`` (all projections: status, outbox, audit) in a subprocess over
   the same ledger. Timed: the command's wall time (including its start, well under a second);
   peak RSS of that process from ``wait4``.
3. Queries, after the replay (so every projection is at the head): in-process
   ``service.statuses`` for ``status --org X --status failed`` and ``service.history`` for
   ``history DOC`` (what the CLI commands call, without process start and printing), each call
   timed on its own; p95 over many organisations and documents.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bench import bare
from bench.backends import Backend
from bench.data import History, build_history, org_name, setup_orgs
from bench.procs import command, environment, measure
from bench.report import Row, ms, rate
from domain.vocabulary import Status
from outbox.tables import SQLOutboxStore
from projections.base import catch_up
from projections.status import StatusFilter
from projections.status_table import SQLStatusStore
from projections.storage.database import Database
from projections.storage.sqlite import SQLiteDatabase
from syncledger import service
from syncledger.bootstrap import System
from syncledger.config import Settings

ORGS = 50


def run(backend: Backend, quick: bool, folder: Path, log: Callable[[str], None]) -> list[Row]:
    target = 8_000 if quick else 1_000_000
    rows: list[Row] = []
    with backend.database("history") as db:
        with System.open(Settings(db=db)) as system:
            orgs = [org_name(i) for i in range(ORGS)]
            setup_orgs(system.ledger, orgs, "http://127.0.0.1:9")
            started = time.perf_counter()
            last = [0.0]

            def progress(events: int) -> None:
                if time.perf_counter() - last[0] > 30:
                    last[0] = time.perf_counter()
                    log(f"  building the ledger: {events:,} events")

            history = build_history(system.ledger, orgs, target, progress=progress)
            log(
                f"  ledger: {history.events:,} events ({history.invoices:,} invoices, "
                f"{history.payments:,} payments) built in {time.perf_counter() - started:.0f} s"
            )
            for name in ("status", "outbox"):
                rows.append(_catch_up(backend, system, db, name, history, log))
        rows.append(_replay(backend, db, history, log))
        with System.open(Settings(db=db)) as system:
            rows.extend(_queries(backend, system, history, quick))
    return rows


@contextmanager
def _bare_place(backend: Backend, db: str, name: str) -> Iterator[tuple[str, str]]:
    """Where a baseline view lives: (SQLite path or PostgreSQL schema, location URL/path)."""
    if not backend.is_postgres:
        path = f"{db}.bare-{name}.db"
        try:
            yield path, path
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    with backend.schema(f"bare_{name}") as schema:
        yield schema, f"{backend.server}?schema={schema}"


def _database(backend: Backend, location: str) -> Database:
    if backend.is_postgres:
        from projections.storage.postgres import PostgresDatabase, PostgresUrl

        return PostgresDatabase(PostgresUrl.parse(location))
    return SQLiteDatabase(location)


def _catch_up(
    backend: Backend,
    system: System,
    db: str,
    name: str,
    history: History,
    log: Callable[[str], None],
) -> Row:
    projection = system.projections[name]
    projection.reset()
    started = time.perf_counter()
    applied = catch_up(projection, system.log)
    product_seconds = time.perf_counter() - started
    head = system.log.head()
    log(f"  {name}: {applied:,} events in {product_seconds:.1f} s")
    with _bare_place(backend, db, name) as (place, location):
        tables = _database(backend, location)
        try:
            (SQLStatusStore if name == "status" else SQLOutboxStore)(tables)
        finally:
            tables.close()
        view = bare.open_view(f"Bare{name}", backend.eventsourcing_env(location))
        reader = bare.LogReader(backend.eventsourcing_env(db))
        runner: bare.BareStatus | bare.BareOutbox = (
            bare.BareStatus(reader, view) if name == "status" else bare.BareOutbox(reader, view)
        )
        try:
            started = time.perf_counter()
            runner.catch_up()
            bare_seconds = time.perf_counter() - started
            product_place = db if not backend.is_postgres else _schema_of(db)
            which = bare.STATUS_TABLES if name == "status" else bare.OUTBOX_TABLES
            differing = bare.differences(
                backend.is_postgres, product_place, place, which, backend.server
            )
        finally:
            reader.close()
            view.datastore.close()
    product_rate = applied / product_seconds
    bare_rate = head / bare_seconds
    ratio = product_rate / bare_rate
    label = "status projection" if name == "status" else "outbox writer"
    same = "the same rows (0 differ)" if differing == 0 else f"**{differing} rows differ**"
    return Row(
        figure=f"catch-up: {label}",
        backend=backend.label,
        result=rate(product_rate, "events/s"),
        baseline=f"{rate(bare_rate, 'events/s')} (ratio {ratio:.2f})",
        target="≥ 0.8 of bare",
        met=ratio >= 0.8,
        notes=[
            f"cold start over {head:,} events: product {product_seconds:.1f} s, bare "
            f"eventsourcing projection {bare_seconds:.1f} s; {same}"
            + ("; the baseline selects only the topics it needs" if name == "outbox" else "")
        ],
    )


def _schema_of(url: str) -> str:
    return url.rsplit("schema=", 1)[1]


def _replay(backend: Backend, db: str, history: History, log: Callable[[str], None]) -> Row:
    measured = measure(command("--db", db, "replay"), environment())
    if measured.returncode != 0:
        raise RuntimeError(f"replay failed: {measured.stderr[-2000:]}")
    counts = measured.stdout.strip().replace("\n", "; ")
    log(f"  replay: {measured.seconds:.0f} s, {measured.peak_rss_mb:.0f} MB ({counts})")
    minutes = measured.seconds / 60
    where = "" if not backend.is_postgres else " (the client; the server's memory is not counted)"
    return Row(
        figure="replay (all projections)",
        backend=backend.label,
        result=f"{minutes:.1f} min, peak RSS {measured.peak_rss_mb:.0f} MB",
        target="report; RSS ≤ 200 MB",
        met=measured.peak_rss_mb <= 200,
        notes=[
            f"`syncledger replay` over {history.events:,} events in a subprocess "
            f"({counts}): {3 * history.events / measured.seconds:,.0f} events/s over the three "
            f"rebuilds; peak RSS from wait4{where}"
        ],
    )


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _queries(backend: Backend, system: System, history: History, quick: bool) -> list[Row]:
    rng = random.Random(3)
    calls = 20 if quick else 300
    status_times: list[float] = []
    found: list[int] = []
    for i in range(calls + 5):
        org = history.orgs[rng.randrange(len(history.orgs))]
        started = time.perf_counter()
        views = service.statuses(system, StatusFilter(org=org, status=Status.FAILED))
        elapsed = time.perf_counter() - started
        if i >= 5:  # the first calls warm caches up
            status_times.append(elapsed)
            found.append(len(views))
    history_times: list[float] = []
    events: list[int] = []
    for i in range(calls + 5):
        number = history.invoice_numbers[rng.randrange(len(history.invoice_numbers))]
        started = time.perf_counter()
        _, story = service.history(system, number, None)
        elapsed = time.perf_counter() - started
        if i >= 5:
            history_times.append(elapsed)
            events.append(len(story))
    status_p95 = _percentile(status_times, 0.95)
    history_p95 = _percentile(history_times, 0.95)
    return [
        Row(
            figure="query: `status --org X --status failed`",
            backend=backend.label,
            result=f"p95 {ms(status_p95)} (median {ms(statistics.median(status_times))})",
            target="p95 ≤ 50 ms",
            met=status_p95 <= 0.05,
            notes=[
                f"in-process `service.statuses` (with its freshness check), {calls} calls over "
                f"{len(history.orgs)} organisations, {statistics.mean(found):.0f} Failed rows "
                f"returned on average, at {history.events:,} events"
            ],
        ),
        Row(
            figure="query: `history DOC`",
            backend=backend.label,
            result=f"p95 {ms(history_p95)} (median {ms(statistics.median(history_times))})",
            target="p95 ≤ 20 ms",
            met=history_p95 <= 0.02,
            notes=[
                f"in-process `service.history` by invoice number, {calls} random invoices, "
                f"{statistics.mean(events):.1f} events each on average, at "
                f"{history.events:,} events"
            ],
        ),
    ]
