"""Secrets: a full OAuth connect-and-sync through the real CLI (debug logs on, access tokens
expiring every few seconds so they are refreshed and rotated mid-run, a disconnect at the end),
then every access token, refresh token and authorization code the sandbox ever issued, the
client secret and the secret key are searched for in every CLI output, the relay's log, every
file the run left (the SQLite database, its WAL, the lock file) and, on PostgreSQL, the text of
every row of every table of the schema: none may appear in clear. Files are created 0600 even
under a umask of 0."""

from __future__ import annotations

import base64
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import psycopg
import pytest
from psycopg import sql

from syncledger.bootstrap import System
from syncledger.config import Settings
from syncledger.samples import invoice_change, ndjson, payment_change
from syncledger.sandbox import Sandbox, SandboxConfig
from tests.e2e.conftest import BIN, Cli
from tests.reliability.support import wait_for
from tests.support.databases import SERVER

pytestmark = [pytest.mark.reliability, pytest.mark.e2e]

CLIENT_ID = "reliability-suite-app"
CLIENT_SECRET = "client-secret-3f9a7c1e5b2d8046"
SECRET_KEY = "secret-key-for-the-reliability-suite-7d2c"
TOKEN_TTL = 1.0


class Recorded(Cli):
    """The CLI with OAuth secrets and debug logs, run under umask 0, keeping every output."""

    outputs: list[str]

    def env(self) -> dict[str, str]:
        return {**super().env(), "SYNCLEDGER_SECRET_KEY": SECRET_KEY}

    def __call__(
        self, *args: str, input: str | None = None, ok: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(BIN), "--log-level", "debug", *args],
            input=input,
            capture_output=True,
            text=True,
            env=self.env(),
            cwd=self.workdir,
            timeout=timeout,
            umask=0,
        )
        self.outputs += [result.stdout, result.stderr]
        if ok and result.returncode != 0:
            raise AssertionError(f"syncledger {args} exited {result.returncode}: {result.stderr}")
        return result


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    config = SandboxConfig(
        tenants=2,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        access_token_ttl_s=TOKEN_TTL,
        minute_window_s=1.0,
    )
    with Sandbox(config) as running:
        yield running


def connect(cli: Recorded, sandbox: Sandbox) -> None:
    """``syncledger connect`` through the authorization-code flow, the test playing the
    browser (the client secret given as an option, as a script would)."""
    process = subprocess.Popen(
        [
            str(BIN),
            "--log-level",
            "debug",
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
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=cli.env(),
        cwd=cli.workdir,
        umask=0,
    )
    assert process.stdout is not None
    printed = []
    for line in process.stdout:
        printed.append(line)
        if line.startswith("http"):
            consent = httpx.get(
                f"{line.strip()}&tenant={sandbox.tenant_ids[1]}", follow_redirects=False
            )
            callback = consent.headers["location"]
            assert parse_qs(urlsplit(callback).query).get("code")
            httpx.get(callback)
            break
    out, err = process.communicate(timeout=30)
    cli.outputs += ["".join(printed), out, err]
    assert process.returncode == 0, err


def issued_secrets(sandbox: Sandbox) -> dict[str, str]:
    """Every token and code the sandbox's identity service issued (it forgets none)."""
    identity: Any = sandbox.app.identity
    found: dict[str, str] = {}
    for kind, store in (
        ("access token", identity._access),
        ("refresh token", identity._refresh),
        ("authorization code", identity._codes),
    ):
        for index, token in enumerate(store):
            found[f"{kind} #{index}"] = token
    return found


def forms(secret: str) -> dict[str, bytes]:
    """A secret as it could appear in clear: itself, hex, base64, and for long tokens the
    beginning and end a truncating log line would keep (a JWT by its signature only: its
    header is the same for every token)."""
    raw = secret.encode()
    shown = {
        "clear": raw,
        "hex": raw.hex().encode(),
        "base64": base64.b64encode(raw).rstrip(b"="),
        "base64url": base64.urlsafe_b64encode(raw).rstrip(b"="),
    }
    if secret.count(".") == 2:
        shown["jwt signature"] = secret.rsplit(".", 1)[1].encode()
    elif len(secret) >= 32:
        shown["first 16"] = raw[:16]
        shown["last 16"] = raw[-16:]
    return shown


def postgres_rows(url: str) -> bytes:
    """The text of every row of every table in the test's schema."""
    schema = parse_qs(urlsplit(url).query)["schema"][0]
    texts: list[str] = []
    with psycopg.connect(SERVER) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (schema,),
        ).fetchall()
        for (table,) in tables:
            query = sql.SQL("SELECT t::text FROM {}.{} AS t").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
            texts += [row[0] for row in conn.execute(query)]
    assert any(t == "xero_connections" for (t,) in tables)
    return "\n".join(texts).encode()


def test_no_token_or_secret_appears_in_clear_in_outputs_logs_or_databases(
    db_location: str, tmp_path: Path, sandbox: Sandbox
):
    cli = Recorded(db_location, tmp_path)
    cli.outputs = []
    connect(cli, sandbox)
    cli("config", "map-account", "42", "sales", "200")  # checked against Xero, with a token
    cli("config", "map-account", "42", "discounts", "200")
    cli("config", "map-tax", "42", "GST", "OUTPUT")
    cli("config", "payment-account", "42", "090")
    cli.ingest(ndjson(*[invoice_change(n) for n in range(1, 6)], payment_change(31, invoice_id=1)))
    log = tmp_path / "relay.log"
    with open(log, "w") as stream:
        relay = subprocess.Popen(
            [str(BIN), "--log-level", "debug", "relay"],
            stdout=stream,
            stderr=subprocess.STDOUT,
            env=cli.env(),
            cwd=tmp_path,
            umask=0,
        )
    try:
        assert wait_for(lambda: {s["status"] for s in cli.status("--all")} == {"Synced"}, 60, 0.5)
        modes = {
            path.name: stat.S_IMODE(path.stat().st_mode)
            for path in tmp_path.iterdir()
            if path.name.startswith("ledger.db")
        }
        time.sleep(TOKEN_TTL + 0.5)  # the access token expires: the next call refreshes it
        cli.ingest(ndjson(invoice_change(6, timestamp="2026-11-21T00:00:00Z")))
        assert wait_for(lambda: cli.status_of("invoice:6")["status"] == "Synced", 60, 0.5)
    finally:
        relay.terminate()
        relay.wait(timeout=30)
    time.sleep(TOKEN_TTL + 0.5)
    cli.ingest(ndjson(invoice_change(7, timestamp="2026-11-22T00:00:00Z")))
    cli("relay", "--until-idle")
    for command in (
        ("status", "--all"),
        ("status", "--json"),
        ("history", "INV-1", "--json"),
        ("history", "payment:31"),
        ("audit", "calls", "INV-1", "--json"),
        ("audit", "events", "--json"),
        ("health", "--json"),
        ("config", "show", "42", "--json"),
        ("config", "show", "42"),
    ):
        cli(*command)
    cli("db", "check", ok=False)  # the web tables are created by `db init` or `serve` only
    with System.open(Settings(db=db_location, secret_key=SECRET_KEY)) as system:
        stored = system.tokens.load("42")
    assert stored is not None and stored.access_token and stored.refresh_token
    issued = issued_secrets(sandbox)
    assert stored.access_token in issued.values() and stored.refresh_token in issued.values()
    refreshes = sum(1 for r in sandbox.requests() if r["path"] == "/connect/token")
    assert refreshes >= 3, "the tokens were refreshed and rotated during the run"

    stores = {
        p.name: p.read_bytes()
        for p in tmp_path.iterdir()
        if p.is_file() and not p.name.endswith(".ndjson")
    }
    if db_location.startswith("postgresql"):
        stores["postgresql rows"] = postgres_rows(db_location)
    else:
        assert {"ledger.db", "ledger.db.relay.lock"} <= set(stores)
    cli("disconnect", "42")  # revokes with the refresh token: that must not print it either
    stores["outputs"] = "\n".join(cli.outputs).encode()
    stores["relay log"] = log.read_bytes()

    secrets = {**issued, "client secret": CLIENT_SECRET, "secret key": SECRET_KEY}
    leaks = [
        f"{name} ({form}) in {where}"
        for name, secret in secrets.items()
        for form, shown in forms(secret).items()
        for where, content in stores.items()
        if shown in content
    ]
    assert leaks == []
    # the search does see what is stored and printed in clear (not secret: ids)
    everything = b"\n".join(stores.values())
    assert sandbox.tenant_ids[1].encode() in everything
    assert CLIENT_ID.encode() in stores["outputs"]
    assert stores["relay log"].count(b"delivery org=42") >= 6

    if not db_location.startswith("postgresql"):
        lock = tmp_path / "ledger.db.relay.lock"
        modes[lock.name] = stat.S_IMODE(lock.stat().st_mode)
        assert {"ledger.db", "ledger.db-wal", "ledger.db-shm"} <= set(modes), modes
        assert all(mode == 0o600 for mode in modes.values()), {k: oct(v) for k, v in modes.items()}
