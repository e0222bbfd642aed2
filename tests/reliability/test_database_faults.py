"""Database faults on SQLite, with a relay at work and ingests in flight: a second writer holding
the lock for longer than the busy timeout, and the database file made read-only. Commands fail
with a clear message (no traceback, exit code 1, saying what is wrong), nothing is half-written
(what a failed command was recording is wholly absent, what it recorded before is wholly
there), and everything carries on once the fault is gone: nothing lost, nothing twice."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from syncledger.samples import invoice_change
from tests.e2e.conftest import BIN, Cli, SandboxProcess, start_sandbox, stop_process
from tests.reliability.support import (
    account_for_calls,
    all_requests,
    ndjson_lines,
    read_ledger,
    setup_organisations,
    start_relay,
    wait_for,
)

pytestmark = [pytest.mark.reliability, pytest.mark.e2e]

BUSY_TIMEOUT = 5
"""How long syncledger waits for a SQLite lock here (``SYNCLEDGER_SQLITE_BUSY_TIMEOUT``, 30 s by
default), for eventsourcing's connections and our own."""


@dataclass
class BusyCli(Cli):
    """The CLI with the busy timeout above (the relay started from it inherits it)."""

    def env(self) -> dict[str, str]:
        return {**super().env(), "SYNCLEDGER_SQLITE_BUSY_TIMEOUT": str(BUSY_TIMEOUT)}


def invoices(first: int, count: int) -> list[dict]:
    return [
        invoice_change(
            n,
            event_id=f"evt-{n}",
            customer={"id": n % 4, "name": f"Customer {n % 4}", "email": f"c{n % 4}@x.example"},
        )
        for n in range(first, first + count)
    ]


def synced(cli: Cli, documents: set[str]) -> bool:
    rows = {s["document"]: s["status"] for s in cli.status("--all")}
    return all(rows.get(d) == "Synced" for d in documents)


def assert_each_invoice_once(sandbox: SandboxProcess, count: int) -> None:
    numbers = [i["invoice_number"] for i in sandbox.state()["invoices"]]
    assert len(numbers) == count and len(set(numbers)) == count, len(numbers)


def assert_clean_failure(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert any(w in result.stderr for w in words), result.stderr


@pytest.fixture
def sandbox() -> Iterator[SandboxProcess]:
    running = start_sandbox("--latency-ms", "40")
    try:
        yield running
    finally:
        stop_process(running.process)


def test_a_writer_holding_the_lock_past_the_busy_timeout_fails_cleanly_and_nothing_is_lost(
    tmp_path: Path, sandbox: SandboxProcess
):
    db = tmp_path / "ledger.db"
    cli = BusyCli(db, tmp_path)
    setup_organisations(str(db), sandbox, ["42"])
    cli.ingest(ndjson_lines(invoices(0, 30)))
    relay = start_relay(cli, "relay")
    streamed = invoices(100, 40)
    ingest = subprocess.Popen(
        [str(BIN), "ingest", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**cli.env(), "SYNCLEDGER_BATCH_SIZE": "10"},
        cwd=tmp_path,
    )
    holder: sqlite3.Connection | None = None
    try:
        assert ingest.stdin is not None
        ingest.stdin.write(ndjson_lines(streamed[:20]))
        ingest.stdin.flush()
        # two batches of the stream are recorded and the relay is mid-backlog ...
        assert wait_for(lambda: len(cli.status("--all")) >= 50, 30, 0.2)
        assert wait_for(lambda: len(sandbox.state()["invoices"]) >= 5, 30)
        # ... when another process takes the write lock and keeps it past the busy timeout
        holder = sqlite3.connect(db, timeout=60, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        locked = time.monotonic()
        (tmp_path / "late.ndjson").write_text(ndjson_lines(invoices(200, 10)))
        late = subprocess.Popen(
            [str(BIN), "ingest", str(tmp_path / "late.ndjson")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=cli.env(),
            cwd=tmp_path,
        )
        out, err = ingest.communicate(ndjson_lines(streamed[20:]), timeout=BUSY_TIMEOUT + 60)
        stream_result = subprocess.CompletedProcess(ingest.args, ingest.returncode, out, err)
        out, err = late.communicate(timeout=BUSY_TIMEOUT + 60)
        late_result = subprocess.CompletedProcess(late.args, late.returncode, out, err)
        waited = time.monotonic() - locked
        holder.execute("ROLLBACK")
        holder.close()
        holder = None

        # the fault is gone: the running relay carries on by itself
        first = {f"invoice:{n}" for n in (*range(30), *range(100, 120))}
        assert wait_for(lambda: synced(cli, first), 90, 0.5), cli.status("--all")
        assert relay.stop() == 0
    finally:
        if holder is not None:
            holder.close()
        if ingest.poll() is None:
            ingest.kill()
        relay.kill()

    assert waited >= BUSY_TIMEOUT - 1, "the commands waited for the lock before giving up"
    assert_clean_failure(stream_result, "locked")
    assert_clean_failure(late_result, "locked")
    # nothing half-written: the stream's first batches are all there, its last batch and the
    # late file not at all
    documents = {s["document"] for s in cli.status("--all")}
    assert {f"invoice:{n}" for n in range(100, 120)} <= documents
    assert not documents & {f"invoice:{n}" for n in (*range(120, 140), *range(200, 210))}
    again = cli("ingest", "-", input=ndjson_lines(streamed))
    assert again.stdout.strip() == "ingested 20, duplicates 20, rejected 0"
    cli("ingest", str(tmp_path / "late.ndjson"))
    cli("relay", "--until-idle")

    assert {s["status"] for s in cli.status("--all")} == {"Synced"}
    assert_each_invoice_once(sandbox, 80)
    account_for_calls(all_requests(sandbox), [sandbox.state()], read_ledger(str(db)))
    assert "Traceback" not in relay.log.read_text()


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make the database file read-only for every process (root ignores file modes: for root the
    file is made immutable as well), and writable again afterwards."""
    mode = path.stat().st_mode
    immutable = False
    try:
        path.chmod(0o400)
        if os.geteuid() == 0:
            chattr = shutil.which("chattr")
            if chattr is None:
                pytest.skip("running as root without chattr: cannot make a file read-only")
            immutable = subprocess.run([chattr, "+i", str(path)], check=False).returncode == 0
        try:
            descriptor = os.open(path, os.O_WRONLY)
        except OSError:
            pass
        else:
            os.close(descriptor)
            pytest.skip(f"cannot make {path} read-only on this file system as this user")
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=False)
        path.chmod(mode)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_database_file_made_read_only_mid_run_fails_cleanly_and_recovers(
    tmp_path: Path, sandbox: SandboxProcess
):
    db = tmp_path / "ledger.db"
    cli = Cli(db, tmp_path)
    setup_organisations(str(db), sandbox, ["42"])
    cli.ingest(ndjson_lines(invoices(0, 10)))
    cli("relay", "--until-idle")
    later = tmp_path / "later.ndjson"
    later.write_text(ndjson_lines(invoices(100, 10)))
    before = digest(db)

    with read_only(db):
        ingest = cli("ingest", str(later), ok=False)
        relay = cli("relay", "--until-idle", ok=False)
        retry = cli("retry", "invoice:1", ok=False)
        status = cli("status", "--json", ok=False)
        after = digest(db)

    for result in (ingest, relay, retry):
        assert_clean_failure(result, "does not accept writes", "read-only", "readonly")
    assert "Traceback" not in status.stderr
    if status.returncode == 0:
        assert len(json.loads(status.stdout)) == 10
    else:
        assert_clean_failure(status, "does not accept writes", "read-only", "readonly")
    assert after == before, "not a byte of the database changed"

    result = cli("ingest", str(later))
    cli("relay", "--until-idle")

    assert result.stdout.strip() == "ingested 10, duplicates 0, rejected 0"
    assert {s["status"] for s in cli.status("--all")} == {"Synced"}
    assert_each_invoice_once(sandbox, 20)
    account_for_calls(all_requests(sandbox), [sandbox.state()], read_ledger(str(db)))
