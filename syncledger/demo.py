"""``syncledger demo``: the whole path once, against a local Xero sandbox, explained as it goes.

It starts a sandbox in this process, connects organisation 42 with a bundled configuration that
leaves one line category unmapped, ingests a bundled sample that ends in all four statuses, runs
the relay until idle, shows the table and how to fix what failed, then does the fix and shows
the result. The demo ledger is its own file, replaced on each run; the user's ledger is untouched.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from domain.vocabulary import Status
from domain.wording import counted
from outbox.xero import XeroConnections
from projections.status import StatusFilter
from syncledger import present, service
from syncledger.bootstrap import System
from syncledger.config import Settings
from syncledger.sandbox import Sandbox, SandboxConfig

ORG = "42"
CONNECTED_AT = datetime(2026, 11, 1, tzinfo=UTC)


def _sample(name: str) -> bytes:
    return resources.files("syncledger").joinpath("data", name).read_bytes()


def _remove_ledger(path: str) -> None:
    for suffix in ("", "-wal", "-shm", ".relay.lock"):
        Path(path + suffix).unlink(missing_ok=True)


def _existing_contact(sandbox: Sandbox, tenant_id: str) -> None:
    """Give the sandbox a contact for Jane, so the demo shows a contact matched by email."""
    connections = XeroConnections()
    try:
        connections.client(sandbox.url, tenant_id).create_contact(
            {"Name": "Jane Citizen", "EmailAddress": "jane@example.com"}, "demo-existing-contact"
        )
    finally:
        connections.close()


def _table(system: System, echo: Callable[[str], Any]) -> None:
    views = service.statuses(system, StatusFilter(org=ORG))
    echo(present.status_table(views))


def run_demo(settings: Settings, echo: Callable[[str], Any]) -> None:
    """Run the demo, writing what happens through ``echo``."""
    logging.getLogger("syncledger").setLevel(logging.ERROR)
    _remove_ledger(settings.db)
    db = settings.db
    with Sandbox(SandboxConfig()) as sandbox, System.open(settings) as system:
        tenant = sandbox.tenant_ids[0]
        echo(f"Xero sandbox listening at {sandbox.url} (tenant {tenant})")
        echo(f"Demo ledger: {db}\n")
        _existing_contact(sandbox, tenant)
        service.connect(system, ORG, sandbox.url, tenant, CONNECTED_AT)
        system.ledger.map_account(ORG, "sales", "200")
        system.ledger.map_account(ORG, "discounts", "200")
        system.ledger.map_tax(ORG, "GST", "OUTPUT")
        system.ledger.set_payment_account(ORG, "090")
        echo(
            f"Organisation {ORG} connected on {CONNECTED_AT.date()}; sales and discounts mapped to "
            "account 200, GST to OUTPUT, payments into 090. 'incentives' is left unmapped."
        )

        report = service.ingest(system, io.BytesIO(_sample("demo.ndjson")))
        echo(f"Ingested the sample: {report.summary()}")
        relay = system.relay(owner="demo")
        result = relay.run(until_idle=True)
        echo(f"Relay: delivered {result.delivered}, failed {result.failed}\n")
        _table(system, echo)

        everything = service.statuses(system, StatusFilter(org=ORG, status=Status.FAILED))
        failed = [v for v in everything if not v.row.blocked]
        waiting = service.statuses(system, StatusFilter(org=ORG, status=Status.NOT_ATTEMPTED))
        echo("")
        for view in failed:
            echo(f"{view.row.number} is Failed: {view.row.error}")
            echo("Fix it by mapping the category to a Xero account, then retry:")
            echo(f"  syncledger --db {db} config map-account {ORG} incentives 260")
            echo(f"  syncledger --db {db} retry {view.row.number}")
        for view in everything:
            if view.row.blocked:
                echo(f"{view.row.number} is Failed with it: {view.row.action}")
        for view in waiting:
            if view.row.note is None:
                echo(f"{view.row.number} is Not Attempted: {view.reason}")
                echo(f"  syncledger --db {db} sync {view.row.number}")

        echo("\nDoing that now, and a cancellation of INV-1005 arrives from OpenSolar...")
        system.ledger.map_account(ORG, "incentives", "260")
        service.retry(system, [v.row.number for v in failed], failed=False, org=ORG)
        service.sync(
            system,
            [v.row.number for v in waiting if v.row.note is None],
            not_attempted=False,
            org=ORG,
        )
        service.ingest(system, io.BytesIO(_sample("demo-later.ndjson")))
        result = relay.run(until_idle=True)
        echo(f"Relay: delivered {result.delivered}, failed {result.failed}\n")
        _table(system, echo)

        state = sandbox.state(tenant)
        echo(
            f"\nThe sandbox now holds {counted(len(state.get('invoices', [])), 'invoice')}, "
            f"{counted(len(state.get('credit_notes', [])), 'credit note')} and "
            f"{counted(len(state.get('payments', [])), 'payment')}."
        )
        echo(f"See one document's whole story with: syncledger --db {db} history INV-1005")
