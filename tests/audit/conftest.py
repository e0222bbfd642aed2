"""Fixtures for the audit commands: the audit group run in-process with click's ``CliRunner``
against ledgers built by scripted histories through the real CLI (subprocesses) and a real
sandbox server."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from syncledger.cli.audit import audit_group
from tests.e2e.conftest import Cli, SandboxProcess, start_sandbox, stop_process


@dataclass
class Audit:
    """Runs ``syncledger audit ...`` in-process against one ledger file."""

    db: Path
    env: dict[str, str | None]

    def run(self, *args: str, code: int | None = 0) -> Result:
        runner = CliRunner(env=self.env)
        result = runner.invoke(audit_group, [*args, "--db", str(self.db)])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        if code is not None and result.exit_code != code:
            raise AssertionError(
                f"audit {' '.join(args)} exited {result.exit_code} (wanted {code})\n"
                f"stdout: {result.stdout}\nstderr: {result.stderr}"
            )
        return result

    def json(self, *args: str, code: int | None = 0) -> Any:
        return json.loads(self.run(*args, "--json", code=code).stdout)

    def csv(self, *args: str, code: int | None = 0) -> list[dict[str, str]]:
        text = self.run(*args, "--csv", code=code).stdout
        return list(csv.DictReader(io.StringIO(text)))


def audit_for(cli: Cli) -> Audit:
    """The audit commands against the ledger ``cli`` writes to."""
    return Audit(cli.db, {"SYNCLEDGER_DB": str(cli.db)})


@pytest.fixture(scope="module")
def module_sandbox() -> Iterator[SandboxProcess]:
    """A sandbox server shared by a module's tests."""
    running = start_sandbox()
    try:
        yield running
    finally:
        stop_process(running.process)


def connect(cli: Cli, sandbox: SandboxProcess, org: str = "42") -> None:
    """Organisation ``org`` connected to the sandbox since 2026-11-01 with the usual mappings."""
    cli(
        "connect",
        org,
        "--xero-url",
        sandbox.url,
        "--tenant-id",
        sandbox.tenant_id,
        "--at",
        "2026-11-01T00:00:00Z",
    )
    cli("config", "map-account", org, "sales", "200")
    cli("config", "map-account", org, "discounts", "200")
    cli("config", "map-tax", org, "GST", "OUTPUT")
    cli("config", "payment-account", org, "090")


class AuditCli(Cli):
    """The e2e CLI (kept as its own class so audit tests can adjust its environment)."""


def new_cli(tmp: Path) -> Cli:
    """The CLI against a fresh ledger in ``tmp``."""
    tmp.mkdir(parents=True, exist_ok=True)
    return AuditCli(tmp / "ledger.db", tmp)
