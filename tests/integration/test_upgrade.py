"""A ledger written by an earlier version: projections whose tables lack today's columns are
dropped and rebuilt from the log on first use, and say the same as before."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

from domain.opensolar import parse_change
from projections.status import StatusFilter
from syncledger import service
from syncledger.bootstrap import System
from syncledger.config import Settings
from syncledger.samples import invoice_change, payment_change


def _statuses(system: System) -> list[dict[str, object]]:
    return [v.as_json() for v in service.statuses(system, StatusFilter(include_hidden=True))]


def test_old_projection_tables_are_rebuilt_from_the_log(tmp_path: Path):
    db = str(tmp_path / "ledger.db")
    with System.open(Settings(db=db)) as system:
        system.ledger.ingest(
            [
                parse_change(json.dumps(invoice_change(1, number="INV-7"))),
                parse_change(json.dumps(payment_change(2, invoice_id=1))),
            ]
        )
        before = _statuses(system)
        messages = len(system.outbox_store.messages())
    with closing(sqlite3.connect(db)) as conn, conn:
        # what an earlier version had: no "blocked" column, no number index, no message groups
        conn.execute("ALTER TABLE status_documents DROP COLUMN blocked")
        conn.execute("DROP TABLE outbox_numbers")
        conn.execute("DROP INDEX outbox_messages_group")
        conn.execute("ALTER TABLE outbox_messages DROP COLUMN group_id")

    with System.open(Settings(db=db)) as system:
        after = _statuses(system)
        service.refresh(system)

        invoice = system.ledger.find_document("42", "invoice", "1")

        assert after == before
        assert len(system.outbox_store.messages()) == messages
        assert invoice is not None
        assert system.outbox_store.number_users("42", ["inv-7"]) == {"inv-7": [str(invoice.id)]}
