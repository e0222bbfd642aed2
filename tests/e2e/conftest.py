"""End-to-end fixtures: the installed ``syncledger`` command in subprocesses, and a real sandbox
server (``syncledger sandbox``) on an ephemeral 127.0.0.1 port."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

BIN = Path(sys.executable).parent / "syncledger"


@dataclass
class SandboxProcess:
    """A running ``syncledger sandbox`` and what it announced."""

    process: subprocess.Popen[str]
    url: str
    tenant_id: str
    tenant_ids: list[str]

    def state(self, tenant: str | None = None) -> dict[str, Any]:
        answer = httpx.get(f"{self.url}/sandbox/state", params={"tenant": tenant or self.tenant_id})
        answer.raise_for_status()
        return answer.json()

    def requests(self, tenant: str | None = None) -> list[dict[str, Any]]:
        answer = httpx.get(
            f"{self.url}/sandbox/requests", params={"tenant": tenant or self.tenant_id}
        )
        answer.raise_for_status()
        data = answer.json()
        return data["requests"] if isinstance(data, dict) else data

    def xero(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Call the sandbox's Xero API directly (as a person working in Xero would)."""
        headers = {"xero-tenant-id": self.tenant_id, "Accept": "application/json"}
        return httpx.request(method, f"{self.url}/api.xro/2.0{path}", headers=headers, **kwargs)


FAST_WINDOW = "1"
"""Tests scale Xero's minute window down to one second (the relay is told the same)."""


def start_sandbox(*args: str) -> SandboxProcess:
    if "--minute-window" not in args:
        args = (*args, "--minute-window", FAST_WINDOW)
    process = subprocess.Popen(
        [str(BIN), "sandbox", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.kill()
        error = process.stderr.read() if process.stderr else ""
        stop_process(process)
        raise RuntimeError(f"sandbox did not start: {error}")
    announced = json.loads(line)
    return SandboxProcess(
        process, announced["url"], announced["tenant_id"], announced["tenant_ids"]
    )


def stop_process(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for stream in (process.stdout, process.stderr, process.stdin):
        if stream is not None:
            stream.close()


@pytest.fixture
def sandbox() -> Iterator[SandboxProcess]:
    """A real sandbox server in its own process."""
    running = start_sandbox()
    try:
        yield running
    finally:
        stop_process(running.process)


@dataclass
class Cli:
    """Runs the installed ``syncledger`` command against one ledger file."""

    db: Path | str
    workdir: Path

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCLEDGER_")}
        env.update(
            SYNCLEDGER_DB=str(self.db),
            SYNCLEDGER_RETRY_BASE_SECONDS="0.05",
            SYNCLEDGER_RETRY_MAX_SECONDS="0.2",
            SYNCLEDGER_RELAY_POLL_SECONDS="0.05",
            SYNCLEDGER_XERO_TIMEOUT="5",
            SYNCLEDGER_LIMIT_WINDOW_SECONDS=FAST_WINDOW,
        )
        return env

    def __call__(
        self,
        *args: str,
        input: str | None = None,
        ok: bool = True,
        timeout: float = 60,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(BIN), *args],
            input=input,
            capture_output=True,
            text=True,
            env={**self.env(), **(env or {})},
            cwd=self.workdir,
            timeout=timeout,
        )
        if ok and result.returncode != 0:
            raise AssertionError(
                f"syncledger {' '.join(args)} exited {result.returncode}\n"
                f"stdout: {result.stdout}\nstderr: {result.stderr}"
            )
        return result

    def ingest(self, text: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        path = self.workdir / f"changes-{abs(hash(text))}.ndjson"
        path.write_text(text)
        return self("ingest", str(path), ok=ok)

    def status(self, *args: str) -> list[dict[str, Any]]:
        return json.loads(self("status", "--json", *args).stdout)

    def status_of(self, document: str) -> dict[str, Any]:
        found = [s for s in self.status("--all") if s["document"] == document]
        assert len(found) == 1, found
        return found[0]


@pytest.fixture
def cli(db_location: str, tmp_path: Path) -> Cli:
    """The CLI against a fresh ledger of this test's own (SQLite file or PostgreSQL schema)."""
    return Cli(db_location, tmp_path)


CONNECTED_AT = "2026-11-01T00:00:00Z"


def connect_by_cli(cli: Cli, org: str, url: str, tenant: str) -> None:
    """Connect ``org`` and give it the usual mappings through the real CLI (one process per
    command, as a person would)."""
    cli("connect", org, "--xero-url", url, "--tenant-id", tenant, "--at", CONNECTED_AT)
    cli("config", "map-account", org, "sales", "200")
    cli("config", "map-account", org, "discounts", "200")
    cli("config", "map-tax", org, "GST", "OUTPUT")
    cli("config", "payment-account", org, "090")


def configure_in_process(db: str, organisations: Iterable[tuple[str, str, str]]) -> None:
    """Connect each (organisation, Xero URL, tenant) and give it the usual mappings through
    the ledger's API in this process: the same events as ``connect_by_cli``, without five CLI
    start-ups each (tests of ``connect`` and ``config`` themselves use the CLI)."""
    from datetime import datetime

    from syncledger.bootstrap import System
    from syncledger.config import Settings

    with System.open(Settings(db=db)) as system:
        ledger = system.ledger
        for org, url, tenant in organisations:
            ledger.connect(org, url, tenant, datetime.fromisoformat(CONNECTED_AT), "manual")
            ledger.map_account(org, "sales", "200")
            ledger.map_account(org, "discounts", "200")
            ledger.map_tax(org, "GST", "OUTPUT")
            ledger.set_payment_account(org, "090")


def connect_in_process(cli: Cli, org: str, url: str, tenant: str) -> None:
    """One organisation set up as ``configure_in_process`` does it, on ``cli``'s ledger."""
    configure_in_process(str(cli.db), [(org, url, tenant)])


@pytest.fixture
def connected(cli: Cli, sandbox: SandboxProcess) -> Cli:
    """Organisation 42 connected to the sandbox since 2026-11-01, with the usual mappings
    (recorded in-process; ``connected_by_cli`` does it through the CLI)."""
    connect_in_process(cli, "42", sandbox.url, sandbox.tenant_id)
    return cli


@pytest.fixture
def connected_by_cli(cli: Cli, sandbox: SandboxProcess) -> Cli:
    """Organisation 42 connected and configured through the real CLI."""
    connect_by_cli(cli, "42", sandbox.url, sandbox.tenant_id)
    return cli
