"""The composition root: builds the ledger, its projections, the outbox, the relay and every
store for one database, from the settings, and owns that storage: which backend, which tables
(listed from the stores' own declarations), which lock keeps a second relay off a SQLite file.
Nothing connects at import time; ``System.open`` does it and ``close`` undoes it.
"""

from __future__ import annotations

import os
import random
import secrets
import socket
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from domain.ledger import SyncLedger
from domain.organisation import Organisation
from outbox.leases import LeaseStore
from outbox.orgstate import OrgStateStore
from outbox.relay import Relay, RelaySettings
from outbox.retry import RetryPolicy
from outbox.secrets import SecretBox
from outbox.store import OutboxStore
from outbox.tables import SQLOutboxStore
from outbox.tokens import CUSTOM, OAUTH, TokenManager, TokenStore
from outbox.writer import OutboxWriter
from outbox.xero import CallRecord, Limits, XeroClient, XeroConnections
from projections.audit import AuditProjection, AuditStore
from projections.audit_table import SQLAuditStore
from projections.base import LedgerLog, Projection
from projections.status import StatusProjection, StatusStore
from projections.status_table import SQLStatusStore
from projections.storage.database import Database, Waker
from projections.storage.errors import StorageError, StorageUnavailableError
from projections.storage.sqlite import SQLiteDatabase
from syncledger.config import Settings
from syncledger.locks import RelayLock
from syncledger.web.store import WebStore


def create_private_file(path: str) -> None:
    """Create the database file readable by its owner only (0600), if it does not exist."""
    target = Path(path)
    if target.exists():
        return
    if not target.parent.exists():
        raise StorageUnavailableError(
            f"cannot create the database {path}: the folder {target.parent} does not exist"
        )
    try:
        descriptor = os.open(target, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise StorageUnavailableError(f"cannot create the database {path}: {exc}") from exc
    os.close(descriptor)


class NoLedgerError(StorageError):
    """The database named holds no ledger (a missing file, an empty schema): a command that only
    reads or acts on an existing ledger never creates one."""


LEDGER_TABLES = {False: "stored_events", True: "ledger_events"}
"""The ledger's own table (eventsourcing's), by ``is_postgres``."""


class DeclaresTables(Protocol):
    """A store that creates tables of its own beside the ledger's, and names them."""

    TABLES: tuple[str, ...]


STORES: tuple[type[DeclaresTables], ...] = (
    SQLStatusStore,
    SQLOutboxStore,
    SQLAuditStore,
    OrgStateStore,
    LeaseStore,
    TokenStore,
    WebStore,
)
"""Every store ``System.open`` builds, in the order ``db check`` lists their tables."""


def expected_tables(postgres: bool) -> tuple[str, ...]:
    """Every table a complete syncledger database has: the ledger's, then each store's."""
    return (LEDGER_TABLES[postgres], *(table for store in STORES for table in store.TABLES))


def describe_database(settings: Settings) -> str:
    """The database as messages name it (a PostgreSQL URL without its password)."""
    if settings.is_postgres:
        from projections.storage.postgres import PostgresUrl

        return PostgresUrl.parse(settings.db).describe()
    return settings.db


def existing_tables(settings: Settings) -> set[str] | None:
    """The tables the database holds, or None when there is no database at all (no SQLite
    file). Creates nothing: SQLite is opened read-only, PostgreSQL only queried."""
    if settings.is_postgres:
        from projections.storage.postgres import PostgresDatabase, PostgresUrl  # psycopg on demand

        database: Database = PostgresDatabase(PostgresUrl.parse(settings.db))
        try:
            return database.tables()
        finally:
            database.close()
    if not Path(settings.db).exists():
        return None
    return SQLiteDatabase.read_only_tables(settings.db)


def require_ledger(settings: Settings) -> None:
    """Raise ``NoLedgerError`` unless the database holds a ledger."""
    tables = existing_tables(settings)
    if tables is None or LEDGER_TABLES[settings.is_postgres] not in tables:
        raise NoLedgerError(
            f"no ledger at {describe_database(settings)}; run `syncledger db init` to create "
            "one there (or give --db / SYNCLEDGER_DB the ledger you meant)"
        )


@dataclass
class System:
    """Everything one process needs, wired for one database."""

    settings: Settings
    ledger: SyncLedger
    log: LedgerLog
    database: Database
    status_store: StatusStore
    status: StatusProjection
    outbox_store: OutboxStore
    outbox: OutboxWriter
    audit_store: AuditStore
    audit: AuditProjection
    tokens: TokenStore
    org_state: OrgStateStore
    leases: LeaseStore
    web_store: WebStore
    _xero: XeroConnections | None = field(default=None, repr=False)
    _listener: Waker | None = field(default=None, repr=False)
    _token_manager: TokenManager | None = field(default=None, repr=False)

    @classmethod
    def open(
        cls, settings: Settings, xero: XeroConnections | None = None, *, create: bool = True
    ) -> System:
        """Open the ledger and its tables on SQLite or PostgreSQL, creating them if needed, or
        with ``create=False`` only a ledger that exists (``NoLedgerError`` otherwise; missing
        projection tables of an existing ledger are still added). ``xero`` replaces the Xero
        connection pool (tests pass one with hooks that validate every exchange)."""
        if not create:
            require_ledger(settings)
        database: Database
        if settings.is_postgres:
            from projections.storage.postgres import (  # psycopg on demand
                PostgresDatabase,
                PostgresUrl,
            )

            url = PostgresUrl.parse(settings.db)
            database = PostgresDatabase(url)
            try:
                with database.creating():
                    ledger = SyncLedger(env=url.eventsourcing_env())
            except BaseException:
                database.close()
                raise
        else:
            create_private_file(settings.db)
            ledger = SyncLedger(
                env={
                    "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                    "SQLITE_DBNAME": settings.db,
                    "SQLITE_LOCK_TIMEOUT": str(settings.sqlite_busy_timeout),
                }
            )
            database = SQLiteDatabase(settings.db, settings.sqlite_busy_timeout)
        try:
            status_store = SQLStatusStore(database)
            outbox_store = SQLOutboxStore(database)
            audit_store = SQLAuditStore(database)
            return cls(
                settings=settings,
                ledger=ledger,
                log=LedgerLog(ledger),
                database=database,
                status_store=status_store,
                status=StatusProjection(status_store),
                outbox_store=outbox_store,
                outbox=OutboxWriter(outbox_store),
                audit_store=audit_store,
                audit=AuditProjection(audit_store),
                tokens=TokenStore(database, lambda: SecretBox(settings.secret_key)),
                org_state=OrgStateStore(database),
                leases=LeaseStore(database),
                web_store=WebStore(database),
                _xero=xero,
            )
        except BaseException:
            database.close()
            ledger.close()
            raise

    @property
    def is_postgres(self) -> bool:
        """True when the ledger lives on PostgreSQL (several relays may run)."""
        return self.settings.is_postgres

    def listener(self) -> Waker | None:
        """A LISTEN/NOTIFY waker for new ledger events (PostgreSQL), else None (polling)."""
        if not self.is_postgres:
            return None
        if self._listener is None:
            from projections.storage.postgres import Listener, PostgresUrl

            self._listener = Listener(PostgresUrl.parse(self.settings.db))
        return self._listener

    @property
    def projections(self) -> dict[str, Projection]:
        """Every projection by name."""
        return {"status": self.status, "outbox": self.outbox, "audit": self.audit}

    @property
    def xero(self) -> XeroConnections:
        """The shared connection pool for Xero calls."""
        if self._xero is None:
            self._xero = XeroConnections(self.settings.xero_timeout)
        return self._xero

    @property
    def token_manager(self) -> TokenManager:
        """Access tokens for OAuth connections, refreshed single-flight."""
        if self._token_manager is None:
            owner = f"{socket.gethostname()}:{os.getpid()}"
            self._token_manager = TokenManager(self.tokens, self.xero, owner)
        return self._token_manager

    def xero_client(
        self,
        org: Organisation,
        on_call: Callable[[CallRecord], None],
        on_limits: Callable[[Limits], None] | None = None,
        pace: Callable[[], None] | None = None,
    ) -> XeroClient:
        """A Xero client for an organisation's current connection (with its tokens, if it was
        connected through OAuth)."""
        connection = org.connection
        if connection is None:
            raise StorageUnavailableError(f"organisation {org.org_id} is not connected to Xero")
        if connection.method in (OAUTH, CUSTOM):
            return self.xero.client(
                connection.xero_url,
                None if connection.method == CUSTOM else connection.tenant_id,
                token=self.token_manager.provider(org.org_id),
                on_call=on_call,
                on_limits=on_limits,
                pace=pace,
            )
        return self.xero.client(
            connection.xero_url,
            connection.tenant_id,
            on_call=on_call,
            on_limits=on_limits,
            pace=pace,
        )

    def relay(self, owner: str | None = None, rng: random.Random | None = None) -> Relay:
        """A relay delivering this database's outbox (on SQLite the only one; on PostgreSQL one
        of several, sharing organisations through leases and woken by LISTEN/NOTIFY)."""
        settings = self.settings
        listener = self.listener()
        name = owner or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        return Relay(
            self.ledger,
            self.outbox_store,
            self.outbox,
            self.log,
            self.xero_client,
            followers=[self.status, self.audit],
            org_state=self.org_state,
            leases=self.leases if self.is_postgres else None,  # one relay per SQLite file
            exclusive=not self.is_postgres,
            wake=listener.wait if listener is not None else None,
            policy=RetryPolicy(
                max_attempts=settings.retry_max_attempts,
                base_delay=settings.retry_base_seconds,
                max_delay=settings.retry_max_seconds,
            ),
            settings=RelaySettings(
                lease_seconds=settings.relay_lease_seconds,
                poll_interval=settings.relay_poll_seconds,
                idle_max_wait=settings.idle_max_wait_seconds,
                workers=settings.relay_workers,
                org_concurrency=settings.org_concurrency,
                org_minute_budget=settings.org_minute_budget,
                app_minute_budget=settings.app_minute_budget,
                minute_window=settings.limit_window_seconds,
                org_lease_seconds=settings.relay_org_lease_seconds,
                heartbeat_seconds=max(0.5, settings.relay_org_lease_seconds / 3),
                batch_size=settings.xero_batch_size,
                pause_after_answer=settings.test_pause_after_answer_ms / 1000,
            ),
            owner=name,
            rng=rng,
        )

    def relay_lock(self) -> AbstractContextManager[object]:
        """What a relay holds while it runs: on SQLite an exclusive lock beside the file (one
        relay per file; ``LockHeldError`` if another holds it), on PostgreSQL nothing (several
        relays share organisations through leases)."""
        return nullcontext() if self.is_postgres else RelayLock(self.settings.db)

    def relay_running(self) -> bool:
        """True if a relay is running against this database (the SQLite lock is held, or a
        relay heartbeated on PostgreSQL within its lease time)."""
        if self.is_postgres:
            lease = self.settings.relay_org_lease_seconds
            return bool(self.leases.live(time.time(), lease))
        return RelayLock(self.settings.db).held_elsewhere()

    def close(self) -> None:
        """Close connections."""
        if self._listener is not None:
            self._listener.close()
        if self._xero is not None:
            self._xero.close()
        self.database.close()
        self.ledger.close()

    def __enter__(self) -> System:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
