"""The operator's first hour, through the installed command in subprocesses: connections are
checked before they are recorded, a relay says which organisations it could not reach, read
commands never create a ledger, settings are refused for organisations the ledger does not know,
and output stays readable (wrapping, plurals, pipes, NDJSON hints, replay counts)."""

from __future__ import annotations

import json
import select
import signal
import socket
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from syncledger.samples import invoice_change, ndjson, payment_change
from tests.e2e.conftest import BIN, Cli, SandboxProcess, connect_by_cli
from tests.support.databases import SERVER, require_postgres

pytestmark = pytest.mark.e2e

NO_LEDGER = "no ledger at"


def dead_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (a port just freed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def tables_of(cli: Cli) -> list[str]:
    """What `db check --json` says the ledger holds (creates nothing)."""
    return json.loads(cli("db", "check", "--json", ok=False).stdout)["present"]


# item 2: connections checked --------------------------------------------------------------


def test_connect_checks_the_url_and_the_tenant_before_recording_anything(
    cli: Cli, sandbox: SandboxProcess
):
    wrong_tenant = cli(
        "connect", "42", "--xero-url", sandbox.url, "--tenant-id", "not-a-tenant", ok=False
    )
    nothing_there = cli(
        "connect", "42", "--xero-url", dead_url(), "--tenant-id", sandbox.tenant_id, ok=False
    )

    assert wrong_tenant.returncode == 1 and "does not accept tenant not-a-tenant" in (
        wrong_tenant.stderr
    )
    assert nothing_there.returncode == 1 and "cannot reach Xero" in nothing_there.stderr
    for result in (wrong_tenant, nothing_there):
        assert "--no-check" in result.stderr and "Traceback" not in result.stderr
    assert tables_of(cli) == []  # a refused connection created no ledger

    good = cli("connect", "42", "--xero-url", sandbox.url, "--tenant-id", sandbox.tenant_id)
    assert "Demo Company (AU)" in good.stdout
    unchecked = cli("connect", "43", "--xero-url", dead_url(), "--tenant-id", "t-43", "--no-check")
    assert "connected to Xero tenant t-43" in unchecked.stdout
    health = json.loads(cli("health", "--json").stdout)
    by_org = {o["org"]: o for o in health["organisations"]}
    assert by_org["42"]["reached"] is True and "Demo Company" in by_org["42"]["last_answer"]
    assert by_org["43"]["last_answer"] is None  # nothing asked Xero yet: nothing assumed


def test_relay_names_each_organisation_it_could_not_reach_and_exits_non_zero(
    cli: Cli, sandbox: SandboxProcess
):
    connect_by_cli(cli, "42", sandbox.url, sandbox.tenant_id)
    for org, url, tenant in (("43", sandbox.url, "not-a-tenant"), ("44", dead_url(), "t-44")):
        cli(
            "connect",
            org,
            "--xero-url",
            url,
            "--tenant-id",
            tenant,
            "--no-check",
            "--at",
            "2026-11-01T00:00:00Z",
        )
        cli("config", "map-account", org, "sales", "200", "--no-check")
        cli("config", "map-account", org, "discounts", "200", "--no-check")
        cli("config", "map-tax", org, "GST", "OUTPUT", "--no-check")
    cli.ingest(
        ndjson(*(invoice_change(n, org_id=org) for n, org in ((1, "42"), (2, "43"), (3, "44"))))
    )

    first = cli("relay", "--until-idle", ok=False, timeout=120)

    assert first.returncode == 1, first
    lines = [line for line in first.stderr.splitlines() if line.startswith("organisation ")]
    assert len(lines) == 2, first.stderr
    assert lines[0].startswith("organisation 43:") and "403" in lines[0]
    assert lines[1].startswith("organisation 44:") and "no answer" in lines[1]
    assert "syncledger connect" in lines[0] and "syncledger connect" in lines[1]
    assert cli.status_of("invoice:1")["status"] == "Synced"

    health = cli("health").stdout
    assert "organisation 42: connected to tenant" in health and "Xero last answered" in health
    assert "organisation 43: not connected, Xero NOT reached" in health
    assert "organisation 44: connected to tenant t-44, Xero NOT reached" in health

    again = cli("relay", "--until-idle", ok=False, timeout=60)
    assert (
        again.returncode == 1
        and "organisation 43: not connected to Xero (Xero connection lost" in again.stderr
    )

    cli("connect", "43", "--xero-url", sandbox.url, "--tenant-id", sandbox.tenant_id)
    cli("disconnect", "44")
    settled = cli("relay", "--until-idle", ok=False, timeout=60)
    assert settled.returncode == 0, settled  # 44 was disconnected on purpose: named, not failed
    assert cli.status_of("invoice:2")["status"] == "Synced"


def test_the_daemon_says_once_that_it_started(cli: Cli, sandbox: SandboxProcess):
    connect_by_cli(cli, "42", sandbox.url, sandbox.tenant_id)
    process = subprocess.Popen(
        [str(BIN), "relay"],
        env=cli.env(),
        cwd=cli.workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        ready, _, _ = select.select([process.stderr], [], [], 30)
        assert ready, "the daemon printed nothing within 30 s"
        line = process.stderr.readline()
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=30)
    assert line.startswith("relay ") and " started on " in line and "SIGTERM" in line
    assert process.returncode == 0 and out.startswith("delivered 0")


def test_map_tax_checks_the_tax_type_against_xero(cli: Cli, sandbox: SandboxProcess):
    connect_by_cli(cli, "42", sandbox.url, sandbox.tenant_id)

    purchases = cli("config", "map-tax", "42", "GST", "INPUT", ok=False)
    unknown = cli("config", "map-tax", "42", "GST", "NOSUCH", ok=False)
    good = cli("config", "map-tax", "42", "GST-free", "exemptoutput")
    unchecked = cli("config", "map-tax", "42", "Other", "NOSUCH", "--no-check")

    assert purchases.returncode == 1 and "cannot be used on sales" in purchases.stderr
    assert unknown.returncode == 1 and "OUTPUT" in unknown.stderr  # lists the usable ones
    assert "checked against Xero: GST Free Income" in good.stdout
    assert "not checked" in unchecked.stdout
    shown = json.loads(cli("config", "show", "42", "--json").stdout)["tax_types"]
    assert shown.get("GST") == "OUTPUT" and "NOSUCH" in shown.values()


# item 3: nothing created by accident --------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ("status",),
        ("status", "--json"),
        ("history", "INV-1"),
        ("audit", "events"),
        ("audit", "failures"),
        ("health",),
        ("replay", "--dry-run"),
        ("relay", "--until-idle"),
        ("retry", "--failed"),
        ("config", "show", "42"),
        ("users", "list"),
    ],
)
def test_commands_that_need_a_ledger_never_create_one(cli: Cli, command: tuple[str, ...]):
    result = cli(*command, ok=False)

    assert result.returncode == 1, result
    assert NO_LEDGER in result.stderr and "syncledger db init" in result.stderr
    assert "Traceback" not in result.stderr
    assert tables_of(cli) == []
    if not str(cli.db).startswith("postgresql"):
        assert not Path(cli.db).exists()


def test_settings_and_users_are_refused_for_organisations_the_ledger_does_not_know(cli: Cli):
    cli.ingest(ndjson(invoice_change(1, org_id="42")))

    for command in (
        ("config", "map-account", "99", "sales", "200"),
        ("config", "map-account", "99", "sales", "200", "--no-check"),
        ("config", "map-tax", "99", "GST", "OUTPUT", "--no-check"),
        ("config", "payment-account", "99", "090", "--no-check"),
        ("config", "invoice-status", "99", "DRAFT"),
        ("config", "number-suffix", "99", "on"),
        ("config", "rounding-account", "99", "860", "--no-check"),
        ("config", "show", "99"),
        ("users", "add", "77", "someone@example.com", "--password-stdin"),
    ):
        result = cli(*command, input="a-long-password\n", ok=False)
        org = command[2]
        assert result.returncode == 1, (command, result)
        assert f"organisation {org} is not known to this ledger (it knows 42)" in result.stderr
        assert "Password" not in result.stdout + result.stderr  # refused before any prompt

    orgs = {o["org"] for o in json.loads(cli("health", "--json").stdout)["organisations"]}
    assert orgs == {"42"}
    assert cli("users", "list", "--json").stdout.strip() in ("[]", "")
    cli("config", "map-account", "42", "sales", "200")  # a known one is fine


def test_db_check_agrees_with_what_the_commands_create(cli: Cli, sandbox: SandboxProcess):
    cli.ingest(ndjson(invoice_change(1)))
    after_ingest = cli("db", "check", ok=False)
    assert after_ingest.returncode == 0 and " 0 missing" in after_ingest.stdout, after_ingest

    connect_by_cli(cli, "42", sandbox.url, sandbox.tenant_id)
    cli("relay", "--until-idle")
    cli("users", "add", "42", "ops@example.com", "--password-stdin", input="a-long-password\n")
    checked = json.loads(cli("db", "check", "--json").stdout)
    assert checked["missing"] == []
    initialised = cli("db", "init").stdout
    total = len(checked["present"])
    assert f"{total} of {total} tables ready" in initialised


@pytest.mark.postgres
def test_a_postgresql_url_without_a_schema_uses_the_syncledger_schema(tmp_path: Path):
    require_postgres()
    database = f"sl_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    url = SERVER.rsplit("/", 1)[0] + f"/{database}"
    try:
        cli = Cli(url, tmp_path)
        assert NO_LEDGER in cli("status", ok=False).stderr
        assert "schema=syncledger" in cli("db", "init").stdout
        with psycopg.connect(url) as conn:
            schemas = dict(
                conn.execute(
                    "SELECT table_schema, COUNT(*) FROM information_schema.tables "
                    "WHERE table_schema IN ('public', 'syncledger') GROUP BY table_schema"
                ).fetchall()
            )
        assert schemas.get("public", 0) == 0 and schemas["syncledger"] >= 20
    finally:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )


# item 4: output a person can read -----------------------------------------------------------


def test_status_wraps_the_detail_to_the_terminal_and_never_cuts_the_action(cli: Cli):
    cli(
        "connect",
        "42",
        "--xero-url",
        dead_url(),
        "--tenant-id",
        "t",
        "--no-check",
        "--at",
        "2026-11-01T00:00:00Z",
    )
    cli.ingest(
        ndjson(
            invoice_change(
                1,
                customer={
                    "id": 9,
                    "name": "A Customer With A Long Name Pty Ltd",
                    "email": "a@example.com",
                },
            )
        )
    )
    cli("relay", "--until-idle")  # no account mapped: Failed with an action
    action = cli.status_of("invoice:1")["action"]
    assert action and "syncledger retry INV-1" in action

    for columns in (80, 120):
        table = cli("status", env={"COLUMNS": str(columns)}).stdout
        assert all(len(line) <= columns for line in table.splitlines()), table
        assert " ".join(action.split()) in " ".join(table.split())  # every word, in order
        assert "INV-1 " in table and "Failed" in table
    wide = cli("status", "--wide", env={"COLUMNS": "80"}).stdout.splitlines()
    assert len(wide) == 2 and wide[1].rstrip().endswith(action)


def test_counts_are_plural_only_when_they_should_be(cli: Cli, sandbox: SandboxProcess):
    cli.ingest(ndjson(invoice_change(1, timestamp="2026-11-20T00:00:00Z")))
    one = cli(
        "connect",
        "42",
        "--xero-url",
        sandbox.url,
        "--tenant-id",
        sandbox.tenant_id,
        "--at",
        "2026-11-01T00:00:00Z",
    ).stdout
    assert "requested 1 document issued since then" in one

    dry = cli("replay", "--dry-run").stdout
    done = cli("replay").stdout
    assert dry.replace("would replay", "replayed") == done  # both count the same thing
    assert "1 events" not in dry and "events" in dry


def test_a_broken_pipe_ends_quietly(cli: Cli):
    cli.ingest(ndjson(*(invoice_change(n) for n in range(1, 900))))
    for command in ("status --wide", "status --json", "audit events --limit 0"):
        piped = subprocess.run(
            ["bash", "-c", f"'{BIN}' {command} | head -1"],
            capture_output=True,
            text=True,
            env=cli.env(),
            cwd=cli.workdir,
            timeout=120,
        )
        assert piped.stdout.strip(), command
        assert piped.stderr == "", (command, piped.stderr)


def test_pretty_printed_json_gets_one_error_per_value_with_the_ndjson_hint(cli: Cli):
    change = json.loads(ndjson(invoice_change(1)))
    text = json.dumps(change, indent=2) + "\n" + ndjson(invoice_change(2))
    result = cli.ingest(text, ok=False)

    errors = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(errors) == 1, result.stderr
    length = len(json.dumps(change, indent=2).splitlines())
    assert errors[0].startswith(f"line 1: (line): lines 1–{length} are one JSON value")
    assert "NDJSON" in errors[0] and "jq -c" in errors[0]
    assert "ingested 1" in result.stdout  # the good line after it is not lost

    array = cli.ingest(json.dumps([change]), ok=False)
    assert "a JSON array" in array.stderr and "NDJSON" in array.stderr


def test_oauth_connect_says_the_secret_key_is_missing_before_asking_anything(cli: Cli):
    env = {k: v for k, v in cli.env().items() if k != "SYNCLEDGER_SECRET_KEY"}
    result = subprocess.run(
        [str(BIN), "connect", "42", "--client-id", "app", "--no-browser"],
        input="",
        capture_output=True,
        text=True,
        env=env,
        cwd=cli.workdir,
        timeout=60,
    )
    assert result.returncode == 1
    assert "SYNCLEDGER_SECRET_KEY" in result.stderr and "Traceback" not in result.stderr
    assert "Xero client secret:" not in result.stdout + result.stderr  # never prompted


def test_relay_reports_payments_retried_with_their_invoice(cli: Cli, sandbox: SandboxProcess):
    cli(
        "connect",
        "42",
        "--xero-url",
        sandbox.url,
        "--tenant-id",
        sandbox.tenant_id,
        "--at",
        "2026-11-01T00:00:00Z",
    )
    cli("config", "map-tax", "42", "GST", "OUTPUT")
    cli.ingest(ndjson(invoice_change(1), payment_change(31, invoice_id=1)))
    cli("relay", "--until-idle")
    cli("config", "map-account", "42", "sales", "200")
    cli("config", "map-account", "42", "discounts", "200")
    cli("config", "payment-account", "42", "090")

    retried = cli("retry", "--failed", "--org", "42")

    assert "INV-1 (invoice:1): retry requested" in retried.stdout
    assert "payment:31): retried with its invoice" in retried.stdout
    assert "refused" not in retried.stderr
    cli("relay", "--until-idle")
    assert {s["status"] for s in cli.status()} == {"Synced"}
