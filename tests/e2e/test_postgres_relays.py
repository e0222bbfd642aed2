"""Several relays on one PostgreSQL database: the work is shared, nothing is sent twice, Xero's
per-organisation limits hold across all of them, a relay killed with SIGKILL has its
organisations taken over once its lease lapses, and a server restart mid-run loses nothing."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg
import pytest

from syncledger.samples import invoice_change, ndjson
from tests.e2e.conftest import (
    BIN,
    Cli,
    SandboxProcess,
    configure_in_process,
    start_sandbox,
    stop_process,
)
from tests.support.databases import require_postgres

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

ORGS = 20
PG_BIN = (
    Path("/usr/lib/postgresql")
    / (os.listdir("/usr/lib/postgresql")[0] if Path("/usr/lib/postgresql").exists() else "15")
    / "bin"
)


def relay(cli: Cli, name: str, **env: str) -> subprocess.Popen[str]:
    with open(cli.workdir / f"{name}.log", "w") as log:
        return subprocess.Popen(
            [str(BIN), "relay"],
            stdout=subprocess.DEVNULL,
            stderr=log,
            text=True,
            env={**cli.env(), **env},
            cwd=cli.workdir,
        )


def stop_relays(relays: list[subprocess.Popen[str]]) -> None:
    for process in relays:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in relays:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def deliveries(cli: Cli, name: str) -> Counter[str]:
    text = (cli.workdir / f"{name}.log").read_text()
    return Counter(re.findall(r"delivery org=(\S+) ", text))


def wait_for(condition, timeout: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return True
        except AssertionError:
            pass
        time.sleep(interval)
    return condition()


def connect_orgs(cli: Cli, sandbox: SandboxProcess) -> None:
    """Twenty organisations set up in-process (the relays under test are real processes)."""
    configure_in_process(
        str(cli.db),
        [
            (f"org{index:02d}", sandbox.url, tenant)
            for index, tenant in enumerate(sandbox.tenant_ids)
        ],
    )


def backlog(per_org: int) -> str:
    changes = []
    for index in range(ORGS):
        org = f"org{index:02d}"
        for n in range(per_org):
            customer = {
                "id": n % 5,
                "name": f"Customer {org}-{n % 5}",
                "email": f"c{n % 5}@{org}.example",
            }
            changes.append(
                invoice_change(
                    index * 10_000 + n, org_id=org, customer=customer, number=f"INV-{org}-{n:04d}"
                )
            )
    return ndjson(*changes)


def query(cli: Cli, sql: str, *params: object) -> list[tuple]:
    """Read the test's own schema directly (what the relays wrote)."""
    server, schema = str(cli.db).split("?schema=")
    with psycopg.connect(server) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        return conn.execute(sql, params).fetchall()


def live_relays(cli: Cli) -> int:
    try:
        return query(cli, "SELECT COUNT(*) FROM relay_instances")[0][0]
    except psycopg.errors.UndefinedTable:
        return 0


def claims_of(cli: Cli, process: subprocess.Popen[str]) -> int:
    pattern = f"%:{process.pid}:%"
    return query(cli, "SELECT COUNT(*) FROM outbox_messages WHERE claimed_by LIKE %s", pattern)[0][
        0
    ]


def all_synced(cli: Cli, expected: int) -> bool:
    rows = cli.status()
    return len(rows) == expected and all(r["status"] == "Synced" for r in rows)


def assert_each_invoice_once(sandbox: SandboxProcess, per_org: int) -> None:
    for tenant in sandbox.tenant_ids:
        numbers = [i["invoice_number"] for i in sandbox.state(tenant)["invoices"]]
        assert len(numbers) == per_org, (tenant, len(numbers))
        assert len(set(numbers)) == per_org, "an invoice was delivered twice"


@pytest.fixture
def pg_cli(tmp_path: Path, db_location: str) -> Cli:
    if not db_location.startswith("postgresql"):
        pytest.skip("several relays need PostgreSQL")
    return Cli(db_location, tmp_path)


@pytest.mark.parametrize("backend", ["postgres"])
def test_three_relays_share_twenty_organisations_without_sending_anything_twice(pg_cli):
    # Xero's real per-organisation limits (60 a minute, 5 at once), the minute scaled to 1 s;
    # the relays run before the backlog arrives, as daemons do.
    per_org = 100
    sandbox = start_sandbox(
        "--tenants", str(ORGS), "--minute-window", "1", "--minute-limit", "60", "--latency-ms", "50"
    )
    relays: list[subprocess.Popen[str]] = []
    try:
        connect_orgs(pg_cli, sandbox)
        relays = [relay(pg_cli, f"relay{i}") for i in range(3)]
        assert wait_for(lambda: live_relays(pg_cli) == 3, 30)
        pg_cli.ingest(backlog(per_org))

        assert wait_for(lambda: all_synced(pg_cli, ORGS * per_org), 240, interval=2)
        stop_relays(relays)

        assert_each_invoice_once(sandbox, per_org)
        for tenant in sandbox.tenant_ids:
            limited = [r for r in sandbox.requests(tenant) if r["status"] == 429]
            assert limited == [], "every organisation stayed inside its limits across the relays"
        counts = [deliveries(pg_cli, f"relay{i}") for i in range(3)]
        assert all(sum(c.values()) > 0 for c in counts), f"work spread over all three: {counts}"
        assert sum(sum(c.values()) for c in counts) >= ORGS * per_org
    finally:
        stop_relays(relays)
        stop_process(sandbox.process)


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_relay_killed_with_sigkill_has_its_organisations_taken_over_after_its_lease(pg_cli):
    per_org = 30
    lease = 6.0
    sandbox = start_sandbox("--tenants", str(ORGS), "--minute-window", "1", "--latency-ms", "30")
    relays: list[subprocess.Popen[str]] = []
    env = {"SYNCLEDGER_RELAY_ORG_LEASE_SECONDS": str(lease)}
    try:
        connect_orgs(pg_cli, sandbox)
        # the victim holds each outcome for a few seconds after Xero answers, so it is killed
        # in the middle of its work: Xero has answered, the ledger has not heard
        victim = relay(pg_cli, "relay0", SYNCLEDGER_TEST_PAUSE_AFTER_ANSWER_MS="4000", **env)
        relays = [victim]
        assert wait_for(lambda: live_relays(pg_cli) == 1, 30)
        pg_cli.ingest(backlog(per_org))
        assert wait_for(lambda: claims_of(pg_cli, victim) > 0, 30)
        relays += [relay(pg_cli, f"relay{i}", **env) for i in (1, 2)]
        time.sleep(1.0)

        victim.send_signal(signal.SIGKILL)
        killed_at = time.time()
        victim.wait()

        assert wait_for(lambda: all_synced(pg_cli, ORGS * per_org), 180, interval=2)
        stop_relays(relays[1:])

        assert_each_invoice_once(sandbox, per_org)
        takeovers = []
        for name in ("relay1", "relay2"):
            for line in (pg_cli.workdir / f"{name}.log").read_text().splitlines():
                found = re.search(r"took over organisation (\S+) from (\S+),", line)
                if found:
                    takeovers.append((found.group(1), found.group(2), line))
        assert takeovers, "the killed relay's organisations were taken over"
        owners = {owner for _, owner, _ in takeovers}
        assert all(o.split(":")[1] == str(victim.pid) for o in owners), (
            f"only the dead relay's organisations moved: taken from {owners}"
        )
        heartbeat = lease / 3
        for _, _, line in takeovers:
            stamp = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()
            assert stamp >= killed_at + lease - heartbeat - 0.5, "not before its lease lapsed"
            assert stamp <= killed_at + 30, "within 30 seconds"
    finally:
        stop_relays(relays)
        stop_process(sandbox.process)


@dataclass
class PrivateServer:
    """A PostgreSQL server of one test's own."""

    url: str
    data: Path

    def restart(self) -> None:
        """``pg_ctl restart`` (the postmaster's output goes to its log file, not to our pipes)."""
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.data.parent / "log"),
                "-m",
                "fast",
                "-w",
                "restart",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=120,
        )


@pytest.fixture
def private_postgres() -> Iterator[PrivateServer]:
    """A PostgreSQL server of this test's own (so it can be restarted without disturbing other
    tests), started with ``pg_ctl`` as the postgres user."""
    require_postgres()
    if not (PG_BIN / "initdb").exists():
        pytest.fail(f"no initdb in {PG_BIN}")
    folder = Path(tempfile.mkdtemp(prefix="syncledger-pg-"))
    data = folder / "data"
    shutil.chown(folder, "postgres", "postgres")
    port = 55432 + os.getpid() % 1000

    def as_postgres(*args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=120,
        )

    as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres")
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    as_postgres(
        str(PG_BIN / "pg_ctl"),
        "-D",
        str(data),
        "-o",
        options,
        "-l",
        str(folder / "log"),
        "-w",
        "start",
    )
    try:
        yield PrivateServer(f"postgresql://postgres@127.0.0.1:{port}/postgres", data)
    finally:
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(data),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(folder, ignore_errors=True)


def test_a_postgresql_restart_mid_run_loses_nothing(private_postgres, tmp_path):
    # One call at a time per organisation, each answer held for a second before its outcome is
    # recorded: three batches per organisation take several seconds, so the restart lands in
    # the middle of the run, between Xero's answers and their records.
    cli = Cli(f"{private_postgres.url}?schema=restart_test", tmp_path)
    per_org = 150
    sandbox = start_sandbox("--tenants", str(ORGS), "--minute-window", "1", "--latency-ms", "300")
    relays: list[subprocess.Popen[str]] = []
    env = {"SYNCLEDGER_ORG_CONCURRENCY": "1", "SYNCLEDGER_TEST_PAUSE_AFTER_ANSWER_MS": "1000"}
    try:
        connect_orgs(cli, sandbox)
        cli.ingest(backlog(per_org))
        relays = [relay(cli, f"relay{i}", **env) for i in range(2)]

        def delivered() -> int:
            return sum(len(sandbox.state(t)["invoices"]) for t in sandbox.tenant_ids)

        assert wait_for(lambda: delivered() >= 1, 120)
        assert delivered() < ORGS * per_org
        private_postgres.restart()
        restarted = time.time()

        assert wait_for(lambda: all_synced(cli, ORGS * per_org), 240, interval=2)
        stop_relays(relays)
        for index, process in enumerate(relays):
            log = (cli.workdir / f"relay{index}.log").read_text()
            assert process.returncode == 0, (
                f"relay{index} exited {process.returncode}:\n{log[-3000:]}"
            )
        assert_each_invoice_once(sandbox, per_org)
        after = [r for t in sandbox.tenant_ids for r in sandbox.requests(t) if r["at"] > restarted]
        assert after, "the relays were still at work when the server came back"
        with psycopg.connect(private_postgres.url) as conn:
            events = conn.execute("SELECT COUNT(*) FROM restart_test.ledger_events").fetchone()[0]
        assert events > ORGS * per_org * 3
    finally:
        stop_relays(relays)
        stop_process(sandbox.process)
