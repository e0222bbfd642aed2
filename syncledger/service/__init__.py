"""Use cases behind the CLI and the web side, one module per family: ingesting changes, reading
statuses and histories, syncing and retrying, connecting, replaying, health, and the database's
tables. Each takes the ``System`` (the composition root) it acts on. Reads are fresh: anything
that reads a projection first brings it up to the end of the log.

``from syncledger import service; service.ingest(...)`` keeps working: every public name is
re-exported here.
"""

from __future__ import annotations

from syncledger.service.connecting import MANUAL, connect, connect_oauth, disconnect
from syncledger.service.ingesting import (
    IngestReport,
    Rejection,
    ingest,
    ingest_objects,
    parse_line,
)
from syncledger.service.monitoring import Health, health, relay_running
from syncledger.service.reading import history, refresh, resolve, statuses, synced_documents
from syncledger.service.replaying import ALL, log_size, replay, replay_document
from syncledger.service.syncing import (
    CommandReport,
    SyncPlan,
    estimate,
    plan_sync,
    retry,
    sync,
)
from syncledger.service.tables import db_check, db_init, expected_tables

__all__ = [
    "ALL",
    "MANUAL",
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
]
