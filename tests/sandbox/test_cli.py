"""Contract: the `sandbox` command and `run_forever` (the process the demo and e2e tests run).

The command serves the Xero behaviour of notes §1–§5 on a local port; these tests check its
interface: help, usage errors, the announcement line and a clean stop on SIGTERM.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import httpx
import pytest
from click.testing import CliRunner

from syncledger.sandbox import SandboxConfig, runner
from syncledger.sandbox.cli import command


def test_help_explains_the_sandbox_and_its_control_endpoints() -> None:
    """§0: the sandbox stands in for https://api.xero.com; its help says how to reach it."""
    result = CliRunner().invoke(command, ["--help"])

    assert result.exit_code == 0
    for text in ("Xero", "/api.xro/2.0", "/sandbox/state", "/sandbox/faults", "--fault-rate"):
        assert text in result.output
    for text in ("/sandbox/settings", "--base-currency", "--currency", "period_lock_date"):
        assert text in result.output


@pytest.mark.parametrize(
    "arguments",
    [
        ["--fault-rate", "418=0.5"],
        ["--fault-rate", "503=2"],
        ["--fault-rate", "503"],
        ["--port", "70000"],
        ["--minute-limit", "0"],
        ["--client-id", "only-the-id"],
        ["--minute-window", "0"],
        ["--base-currency", "ZZZ"],
        ["--currency", "USD", "--currency", "XYZ"],
    ],
)
def test_bad_options_are_usage_errors(arguments: list[str]) -> None:
    """§3/§5 settings are validated before anything starts: usage error, exit status 2."""
    result = CliRunner().invoke(command, arguments)

    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


def test_currency_options_configure_every_tenant(monkeypatch: pytest.MonkeyPatch) -> None:
    """§1.7: the base currency and the enabled currencies (`GET /Currencies`) are per org;
    --base-currency and --currency (repeatable) set them for every tenant."""
    started: list[SandboxConfig] = []
    monkeypatch.setattr(runner, "run_forever", started.append)

    result = CliRunner().invoke(
        command, ["--base-currency", "nzd", "--currency", "USD", "--currency", "aud"]
    )

    assert result.exit_code == 0, result.output
    assert [(c.base_currency, c.currencies) for c in started] == [("NZD", ("USD", "AUD"))]


def test_the_process_announces_itself_and_stops_cleanly_on_sigterm() -> None:
    """§5 (client id) and §0 (base URL): one JSON line says where to connect."""
    process = subprocess.Popen(
        [sys.executable, "-m", "syncledger.sandbox", "--tenants", "2", "--seed", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        announced = json.loads(process.stdout.readline())
        health = httpx.get(f"{announced['url']}/sandbox/health", timeout=5.0).json()
    finally:
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=10)

    assert process.returncode == 0, errors
    assert announced["tenant_id"] == announced["tenant_ids"][0]
    assert len(announced["tenants"]) == 2
    assert announced["tenants"][0]["name"] == "Demo Company (AU)"
    assert announced["client_id"] is None
    assert health["tenants"] == 2
