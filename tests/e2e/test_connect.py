"""Connecting through OAuth with the real CLI: the authorization-code flow against the sandbox's
identity endpoints (the test plays the browser), then a sync; mapping checks; disconnecting."""

from __future__ import annotations

import subprocess

import httpx
import pytest

from syncledger.samples import invoice_change, ndjson
from tests.e2e.conftest import BIN, Cli, start_sandbox, stop_process

pytestmark = pytest.mark.e2e

CLIENT_ID = "opensolar-sync-app"
CLIENT_SECRET = "app-secret-for-tests-only"
SECRET_KEY = "e2e-secret-key-abcdefghijklmnop"


@pytest.fixture
def oauth_sandbox():
    running = start_sandbox(
        "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET, "--tenants", "2"
    )
    try:
        yield running
    finally:
        stop_process(running.process)


@pytest.fixture
def oauth_cli(db_location, tmp_path) -> Cli:
    class OAuthCli(Cli):
        def env(self) -> dict[str, str]:
            env = super().env()
            env["SYNCLEDGER_SECRET_KEY"] = SECRET_KEY
            return env

    return OAuthCli(db_location, tmp_path)


def connect_through_browser(cli: Cli, sandbox, *extra: str) -> subprocess.CompletedProcess[str]:
    process = subprocess.Popen(
        [
            str(BIN),
            "connect",
            "42",
            "--xero-url",
            sandbox.url,
            "--client-id",
            CLIENT_ID,
            "--client-secret",
            CLIENT_SECRET,
            "--port",
            "0",
            "--no-browser",
            "--at",
            "2026-11-01T00:00:00Z",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.PIPE,
        text=True,
        env=cli.env(),
        cwd=cli.workdir,
    )
    assert process.stdout is not None
    printed = []
    for line in process.stdout:
        printed.append(line)
        if line.startswith("http"):
            consent = httpx.get(
                f"{line.strip()}&tenant={sandbox.tenant_ids[1]}", follow_redirects=False
            )
            assert consent.status_code in (302, 303), consent.text
            assert consent.headers["location"].startswith("http://localhost:")
            httpx.get(consent.headers["location"])
            break
    out, err = process.communicate(timeout=30)
    return subprocess.CompletedProcess(
        process.args, process.returncode, "".join(printed) + out, err
    )


def test_connect_through_oauth_then_sync(oauth_cli, oauth_sandbox):
    result = connect_through_browser(oauth_cli, oauth_sandbox)

    assert result.returncode == 0, result.stderr
    tenant = oauth_sandbox.tenant_ids[1]
    assert "connected to Xero tenant" in result.stdout and tenant in result.stdout
    shown = oauth_cli("config", "show", "42", "--json").stdout
    assert '"connection_method": "oauth"' in shown and tenant in shown
    oauth_cli("config", "map-account", "42", "sales", "200")
    oauth_cli("config", "map-account", "42", "discounts", "200")
    oauth_cli("config", "map-tax", "42", "GST", "OUTPUT")

    oauth_cli.ingest(ndjson(invoice_change(1042)))
    oauth_cli("relay", "--until-idle")

    assert oauth_cli.status_of("invoice:1042")["status"] == "Synced"
    assert len(oauth_sandbox.state(tenant)["invoices"]) == 1
    assert oauth_sandbox.state(oauth_sandbox.tenant_ids[0])["invoices"] == []


def test_mapping_a_code_xero_would_refuse_is_refused_with_the_reason(oauth_cli, oauth_sandbox):
    connect_through_browser(oauth_cli, oauth_sandbox)

    refused = oauth_cli("config", "map-account", "42", "incentives", "090", ok=False)
    archived = oauth_cli("config", "map-account", "42", "incentives", "250", ok=False)
    forced = oauth_cli("config", "map-account", "42", "incentives", "999", "--no-check")

    assert refused.returncode == 1 and "bank account" in refused.stderr
    assert archived.returncode == 1 and "archived" in archived.stderr
    assert "Traceback" not in refused.stderr + archived.stderr
    assert "not checked" in forced.stdout


def test_disconnect_revokes_and_records_it(oauth_cli, oauth_sandbox):
    connect_through_browser(oauth_cli, oauth_sandbox)

    result = oauth_cli("disconnect", "42")

    assert "disconnected" in result.stdout
    assert '"connected": false' in oauth_cli("config", "show", "42", "--json").stdout
    oauth_cli.ingest(ndjson(invoice_change(7, timestamp="2026-11-26T00:00:00Z")))
    waiting = oauth_cli.status_of("invoice:7")
    # activity while disconnected waits for the reconnection (nothing is sent meanwhile)
    assert waiting["status"] == "Pending" and "syncledger connect 42" in waiting["reason"]
    assert oauth_sandbox.state()["invoices"] == []


def test_connect_without_a_secret_key_says_how_to_set_one(oauth_sandbox, cli):
    result = connect_through_browser(cli, oauth_sandbox)

    assert result.returncode == 1
    assert "SYNCLEDGER_SECRET_KEY" in result.stderr and "Traceback" not in result.stderr
