"""Xero OAuth connections: tokens stored sealed, and refreshed single-flight.

``TokenStore`` keeps one row per organisation (``xero_connections``) with the app's client
secret, the access token and the refresh token sealed by ``SecretBox``; nothing secret is ever
stored, printed or logged in clear. ``TokenManager`` hands out access tokens and refreshes them
one refresher at a time per connection, across threads (a lock) and across processes (a short
lease on the row), so two workers never race a rotating refresh token; the new refresh token is
stored before the new access token is used. A refresh whose answer is lost leaves the old refresh
token in place, and Xero's 30-minute grace period lets the next attempt use it again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from outbox.secrets import SecretBox
from outbox.xero import (
    IdentityUrls,
    TokenProvider,
    TokenSet,
    XeroAuthError,
    XeroConnections,
    XeroTransientError,
)
from projections.storage.database import Database

OAUTH = "oauth"
CUSTOM = "custom"
REFRESH_EARLY_SECONDS = 300.0
LEASE_SECONDS = 30.0


@dataclass(frozen=True)
class StoredConnection:
    """One organisation's OAuth connection (secrets in clear only in memory)."""

    org: str
    method: str
    tenant_id: str
    connection_id: str | None
    urls: IdentityUrls
    client_id: str
    client_secret: str
    scope: str
    access_token: str | None
    access_expires_at: float
    refresh_token: str | None
    updated_at: float

    def __repr__(self) -> str:
        return (
            f"StoredConnection(org={self.org!r}, method={self.method!r}, "
            f"tenant_id={self.tenant_id!r}, secrets=<hidden>)"
        )

    def fresh(self, now: float, rejected: str | None = None) -> bool:
        """True if the access token can be used now (and is not the one just rejected)."""
        return (
            self.access_token is not None
            and self.access_token != rejected
            and self.access_expires_at - now > REFRESH_EARLY_SECONDS
        )


def _ddl() -> list[str]:
    return [
        """CREATE TABLE IF NOT EXISTS xero_connections (
            org TEXT PRIMARY KEY,
            method TEXT NOT NULL,
            tenant_id TEXT NOT NULL,
            connection_id TEXT,
            login_url TEXT NOT NULL,
            identity_url TEXT NOT NULL,
            api_url TEXT NOT NULL,
            client_id TEXT NOT NULL,
            client_secret TEXT NOT NULL,
            scope TEXT NOT NULL,
            access_token TEXT,
            access_expires_at DOUBLE PRECISION NOT NULL,
            refresh_token TEXT,
            refreshing_by TEXT,
            refreshing_until DOUBLE PRECISION,
            updated_at DOUBLE PRECISION NOT NULL
        )"""
    ]


_COLUMNS = (
    "org, method, tenant_id, connection_id, login_url, identity_url, api_url, client_id, "
    "client_secret, scope, access_token, access_expires_at, refresh_token, updated_at"
)


class TokenStore:
    """Sealed OAuth connections in the ledger's database."""

    TABLES: tuple[str, ...] = ("xero_connections",)
    """The tables this store creates (the composition root collects them)."""

    def __init__(self, db: Database, box: Callable[[], SecretBox]) -> None:
        self.db = db
        self._box_factory = box
        self._box: SecretBox | None = None
        db.script(_ddl())

    @property
    def box(self) -> SecretBox:
        if self._box is None:
            self._box = self._box_factory()
        return self._box

    def _seal(self, org: str, field: str, value: str | None) -> str | None:
        return None if value is None else self.box.seal(value, f"xero_connections/{org}/{field}")

    def _open(self, org: str, field: str, value: str | None) -> str | None:
        return None if value is None else self.box.open(value, f"xero_connections/{org}/{field}")

    def save(self, connection: StoredConnection) -> None:
        """Store (or replace) an organisation's connection."""
        c = connection
        values = (
            c.org,
            c.method,
            c.tenant_id,
            c.connection_id,
            c.urls.login,
            c.urls.identity,
            c.urls.api,
            c.client_id,
            self._seal(c.org, "client_secret", c.client_secret),
            c.scope,
            self._seal(c.org, "access_token", c.access_token),
            c.access_expires_at,
            self._seal(c.org, "refresh_token", c.refresh_token),
            c.updated_at,
        )
        with self.db.write() as tx:
            tx.execute("DELETE FROM xero_connections WHERE org=?", (c.org,))
            tx.execute(
                f"INSERT INTO xero_connections ({_COLUMNS}) "
                f"VALUES ({', '.join('?' for _ in values)})",
                values,
            )

    def has(self, org: str) -> bool:
        """True if the organisation has a stored OAuth connection."""
        with self.db.read() as tx:
            return tx.one("SELECT 1 FROM xero_connections WHERE org=?", (org,)) is not None

    def load(self, org: str) -> StoredConnection | None:
        """The organisation's connection with its secrets opened, or None."""
        with self.db.read() as tx:
            row = tx.one(f"SELECT {_COLUMNS} FROM xero_connections WHERE org=?", (org,))
        if row is None:
            return None
        (
            org_,
            method,
            tenant_id,
            connection_id,
            login_url,
            identity_url,
            api_url,
            client_id,
            client_secret,
            scope,
            access_token,
            access_expires_at,
            refresh_token,
            updated_at,
        ) = row
        return StoredConnection(
            org=org_,
            method=method,
            tenant_id=tenant_id,
            connection_id=connection_id,
            urls=IdentityUrls(login=login_url, identity=identity_url, api=api_url),
            client_id=client_id,
            client_secret=self._open(org, "client_secret", client_secret) or "",
            scope=scope,
            access_token=self._open(org, "access_token", access_token),
            access_expires_at=float(access_expires_at),
            refresh_token=self._open(org, "refresh_token", refresh_token),
            updated_at=float(updated_at),
        )

    def update_tokens(self, org: str, tokens: TokenSet, now: float) -> None:
        """Store freshly issued tokens (a missing refresh token keeps the current one)."""
        with self.db.write() as tx:
            if tokens.refresh_token is not None:
                tx.execute(
                    "UPDATE xero_connections SET access_token=?, access_expires_at=?, "
                    "refresh_token=?, updated_at=? WHERE org=?",
                    (
                        self._seal(org, "access_token", tokens.access_token),
                        tokens.expires_at,
                        self._seal(org, "refresh_token", tokens.refresh_token),
                        now,
                        org,
                    ),
                )
            else:
                tx.execute(
                    "UPDATE xero_connections SET access_token=?, access_expires_at=?, "
                    "updated_at=? WHERE org=?",
                    (
                        self._seal(org, "access_token", tokens.access_token),
                        tokens.expires_at,
                        now,
                        org,
                    ),
                )

    def try_lease(self, org: str, owner: str, now: float, seconds: float) -> bool:
        """Take the right to refresh this connection for ``seconds``, unless someone holds it."""
        with self.db.write() as tx:
            changed = tx.execute(
                "UPDATE xero_connections SET refreshing_by=?, refreshing_until=? WHERE org=? "
                "AND (refreshing_until IS NULL OR refreshing_until<? OR refreshing_by=?)",
                (owner, now + seconds, org, now, owner),
            )
        return changed == 1

    def release_lease(self, org: str, owner: str) -> None:
        """Give the refresh right back."""
        with self.db.write() as tx:
            tx.execute(
                "UPDATE xero_connections SET refreshing_by=NULL, refreshing_until=NULL "
                "WHERE org=? AND refreshing_by=?",
                (org, owner),
            )

    def delete(self, org: str) -> None:
        """Forget an organisation's connection and its tokens."""
        with self.db.write() as tx:
            tx.execute("DELETE FROM xero_connections WHERE org=?", (org,))


class TokenManager:
    """Access tokens for OAuth connections, refreshed single-flight."""

    def __init__(
        self,
        store: TokenStore,
        connections: XeroConnections,
        owner: str,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self.connections = connections
        self.owner = owner
        self.clock = clock
        self.sleep = sleep
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock(self, org: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(org, threading.Lock())

    def provider(self, org: str) -> TokenProvider:
        """A token provider for a ``XeroClient`` (``True`` asks for a token other than the
        last one handed out, because Xero just rejected it)."""
        last: list[str | None] = [None]

        def token(refresh: bool) -> str | None:
            value = self.access_token(org, rejected=last[0] if refresh else None)
            last[0] = value
            return value

        return token

    def access_token(self, org: str, rejected: str | None = None) -> str:
        """A usable access token, refreshing it (once, for everyone) when needed."""
        with self._lock(org):
            deadline = self.clock() + LEASE_SECONDS + 5
            while True:
                stored = self._load(org)
                if stored.fresh(self.clock(), rejected) and stored.access_token is not None:
                    return stored.access_token
                if self.store.try_lease(org, self.owner, self.clock(), LEASE_SECONDS):
                    try:
                        return self._renew(org, rejected)
                    finally:
                        self.store.release_lease(org, self.owner)
                if self.clock() > deadline:
                    raise XeroTransientError(
                        f"organisation {org}: another process is still refreshing the Xero token",
                        uncertain=False,
                    )
                self.sleep(0.1)

    def _load(self, org: str) -> StoredConnection:
        stored = self.store.load(org)
        if stored is None:
            raise XeroAuthError(
                f"organisation {org} has no stored Xero tokens: run `syncledger connect {org}`"
            )
        return stored

    def _renew(self, org: str, rejected: str | None) -> str:
        stored = self._load(org)
        now = self.clock()
        if stored.fresh(now, rejected) and stored.access_token is not None:
            return stored.access_token
        identity = self.connections.identity(stored.urls, stored.client_id, stored.client_secret)
        if stored.method == CUSTOM:
            tokens = identity.client_credentials(stored.scope, stored.tenant_id)
        elif stored.refresh_token is None:
            raise XeroAuthError(
                f"organisation {org} has no refresh token: run `syncledger connect {org}`"
            )
        else:
            tokens = identity.refresh(stored.refresh_token)
        self.store.update_tokens(org, tokens, self.clock())
        return tokens.access_token


def with_tokens(stored: StoredConnection, tokens: TokenSet, now: float) -> StoredConnection:
    """A connection carrying newly issued tokens."""
    return replace(
        stored,
        access_token=tokens.access_token,
        access_expires_at=tokens.expires_at,
        refresh_token=tokens.refresh_token or stored.refresh_token,
        updated_at=now,
    )
