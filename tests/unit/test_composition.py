"""The composition root owns storage: the tables a complete database has are listed from the
stores' own declarations (in the order ``db check`` has always printed them), and the use-case
package keeps every name its callers read (import directions: ``test_layers.py``)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from syncledger import bootstrap, service

ROOT = Path(__file__).resolve().parents[2]

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


def names_callers_use() -> set[str]:
    """Every ``service.NAME`` the shell, the tests and the benchmarks read."""
    names: set[str] = set()
    for folder in ("syncledger", "tests", "bench"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if (
                    isinstance(node, ast.Attribute)
                    and isinstance(node.value, ast.Name)
                    and node.value.id == "service"
                ):
                    names.add(node.attr)
    return names


def test_the_service_package_keeps_every_name_its_callers_use():
    used = names_callers_use()
    assert {"ingest", "statuses", "retry", "replay", "health"} <= used  # the scan sees callers
    missing = sorted(name for name in used if not hasattr(service, name))
    assert not missing, missing
