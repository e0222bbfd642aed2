"""The composition root owns storage: the tables a complete database has are listed from the
stores' own declarations (in the order ``db check`` has always printed them), and the use cases
reach storage only through the ``System``, never through the web side."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from syncledger import bootstrap, service

ROOT = Path(__file__).resolve().parents[2]
USE_CASES = sorted((ROOT / "syncledger" / "service").glob("*.py"))

OUR_TABLES = (
    "status_documents",
    "status_organisations",
    "status_tracking",
    "outbox_messages",
    "outbox_documents",
    "outbox_organisations",
    "outbox_numbers",
    "outbox_tracking",
    "audit_aggregates",
    "audit_events",
    "audit_calls",
    "audit_failures",
    "audit_timings",
    "audit_xero_ids",
    "audit_tracking",
    "relay_organisations",
    "relay_leases",
    "relay_instances",
    "xero_connections",
    "web_users",
    "web_sessions",
    "web_webhook_secrets",
)
"""What ``db check`` listed when the tables were kept by hand: the stores' declarations must
say the same, in the same order."""


@pytest.mark.parametrize(
    ("postgres", "ledger"), [(False, "stored_events"), (True, "ledger_events")]
)
def test_expected_tables_are_the_ledgers_then_every_stores_in_the_order_db_check_prints(
    postgres, ledger
):
    assert bootstrap.expected_tables(postgres) == (ledger, *OUR_TABLES)
    assert service.expected_tables(postgres) == (ledger, *OUR_TABLES)


@pytest.mark.parametrize("store", bootstrap.STORES, ids=lambda s: s.__name__)
def test_every_store_declares_its_own_tables_on_the_class(store):
    assert "TABLES" in vars(store), f"{store.__name__} inherits or lacks TABLES"
    assert store.TABLES and all(isinstance(t, str) for t in store.TABLES)


def test_no_two_stores_declare_the_same_table():
    tables = [t for store in bootstrap.STORES for t in store.TABLES]
    assert len(tables) == len(set(tables))


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("path", USE_CASES, ids=lambda p: p.name)
def test_use_cases_never_import_the_web_side_or_a_database_backend(path):
    bad = {
        name
        for name in _imports(path)
        if name.startswith(("syncledger.web", "syncledger.cli", "click"))
        or name
        in ("projections.storage.sqlite", "projections.storage.postgres", "sqlite3", "psycopg")
    }
    assert not bad, f"{path.name} imports {sorted(bad)}"


@pytest.mark.parametrize("path", USE_CASES, ids=lambda p: p.name)
def test_use_case_modules_stay_under_400_lines(path):
    assert len(path.read_text().splitlines()) <= 400


@pytest.mark.parametrize(
    "name",
    [
        "CommandReport",
        "Health",
        "IngestReport",
        "Rejection",
        "SyncPlan",
        "connect",
        "connect_oauth",
        "db_check",
        "db_init",
        "disconnect",
        "estimate",
        "expected_tables",
        "health",
        "history",
        "ingest",
        "ingest_objects",
        "log_size",
        "parse_line",
        "plan_sync",
        "refresh",
        "relay_running",
        "replay",
        "replay_document",
        "resolve",
        "retry",
        "statuses",
        "sync",
        "synced_documents",
    ],
)
def test_the_service_package_keeps_every_name_its_callers_use(name):
    assert callable(getattr(service, name))
