"""Organisation leases: which relay serves which organisation, so that several relays (on
PostgreSQL) share the work without two of them calling Xero for the same organisation, and
Xero's per-organisation limits hold across all of them.

A relay takes a lease on an organisation when it claims that organisation's first message, and
keeps its leases alive with heartbeats. A relay that dies (SIGKILL, lost network) stops
heartbeating; once its lease lapses (never earlier), another relay takes the organisation over
and releases the dead relay's claims on its messages, so nothing waits for the longer claim
lease. ``Leases`` is the port; ``LeaseStore`` implements it in portable SQL over the
``Database`` port (tables ``relay_leases`` and ``relay_instances``).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

from outbox.batch import OPEN_SQL
from projections.storage.database import Database

ALONE = 1_000_000


@dataclass(frozen=True)
class Takeover:
    """The outcome of trying to lease an organisation."""

    acquired: bool
    previous_owner: str | None
    released_claims: int


class Leases(ABC):
    """Organisation leases and relay heartbeats (one implementation per storage)."""

    @abstractmethod
    def heartbeat(self, owner: str, now: float, lease_seconds: float) -> set[str]:
        """Say this relay is alive, give back leases on organisations with nothing left to do,
        extend the others, and free the claims of relays that stopped heartbeating more than a
        lease ago; return the organisations it holds."""

    @abstractmethod
    def acquire(self, owner: str, org: str, now: float, lease_seconds: float) -> Takeover:
        """Lease ``org`` unless another relay holds a valid lease on it (taking it over from a
        relay whose lease lapsed releases that relay's claims on its messages)."""

    @abstractmethod
    def others(self, owner: str, now: float) -> set[str]:
        """Organisations other relays hold valid leases on."""

    @abstractmethod
    def fair_share(self, now: float, lease_seconds: float) -> int:
        """How many organisations with work each live relay should serve (``ALONE`` for a
        relay that is alone)."""

    @abstractmethod
    def shed(self, owner: str, count: int) -> set[str]:
        """Give back up to ``count`` leases on organisations with nothing claimed by this
        relay; return them."""

    @abstractmethod
    def release(self, owner: str, org: str | None = None) -> None:
        """Give leases back (one organisation, or all of them when the relay stops)."""

    @abstractmethod
    def live(self, now: float, lease_seconds: float) -> list[str]:
        """Relays that heartbeated within the lease time."""

    @abstractmethod
    def leases(self) -> dict[str, tuple[str, float]]:
        """Every lease: organisation → (owner, until)."""


def share_of(relays: int, busy: int) -> int:
    """Each of ``relays`` live relays' fair share of ``busy`` organisations with work."""
    live = max(1, relays)
    if live == 1:
        return ALONE
    # one more than an even split: the count is a few seconds old, and an organisation
    # whose work just arrived must not wait for the next heartbeat to find a relay
    return math.ceil(busy / live) + 1


class LeaseStore(Leases):
    """Leases and relay heartbeats on any ``Database``."""

    TABLES: tuple[str, ...] = ("relay_leases", "relay_instances")
    """The tables this store creates (the composition root collects them)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.script(
            [
                """CREATE TABLE IF NOT EXISTS relay_leases (
                    org TEXT PRIMARY KEY,
                    owner TEXT NOT NULL,
                    lease_until DOUBLE PRECISION NOT NULL,
                    taken_at DOUBLE PRECISION NOT NULL
                )""",
                "CREATE INDEX IF NOT EXISTS relay_leases_owner ON relay_leases (owner)",
                """CREATE TABLE IF NOT EXISTS relay_instances (
                    owner TEXT PRIMARY KEY,
                    started_at DOUBLE PRECISION NOT NULL,
                    heartbeat_at DOUBLE PRECISION NOT NULL
                )""",
            ]
        )

    def heartbeat(self, owner: str, now: float, lease_seconds: float) -> set[str]:
        """Say this relay is alive, give back leases on organisations with nothing left to do,
        extend the others, and free the claims of relays that stopped heartbeating more than a
        lease ago (they died: SIGKILL, lost network); return the organisations it holds."""
        with self.db.write() as tx:
            tx.execute(
                "INSERT INTO relay_instances (owner, started_at, heartbeat_at) VALUES (?, ?, ?) "
                "ON CONFLICT (owner) DO UPDATE SET heartbeat_at=excluded.heartbeat_at",
                (owner, now, now),
            )
            tx.execute(
                "DELETE FROM relay_leases WHERE owner=? AND org NOT IN (SELECT org FROM "
                f"outbox_messages WHERE state IN {OPEN_SQL})",
                (owner,),
            )
            tx.execute(
                "UPDATE relay_leases SET lease_until=? WHERE owner=? AND lease_until>?",
                (now + lease_seconds, owner, now),
            )
            tx.execute(
                "UPDATE outbox_messages SET claimed_by=NULL, claimed_until=NULL "
                "WHERE claimed_by IS NOT NULL AND claimed_by<>? AND claimed_by NOT IN "
                "(SELECT owner FROM relay_instances WHERE heartbeat_at>?)",
                (owner, now - lease_seconds),
            )
            rows = tx.all(
                "SELECT org FROM relay_leases WHERE owner=? AND lease_until>?", (owner, now)
            )
        return {str(r[0]) for r in rows}

    def acquire(self, owner: str, org: str, now: float, lease_seconds: float) -> Takeover:
        """Lease ``org`` unless another relay holds a valid lease on it. Taking it over from a
        relay whose lease lapsed releases that relay's claims on the organisation's messages."""
        with self.db.write() as tx:
            lock = self.db.dialect.for_update
            row = tx.one(f"SELECT owner, lease_until FROM relay_leases WHERE org=?{lock}", (org,))
            if row is not None and row[0] != owner and float(row[1]) > now:
                return Takeover(False, str(row[0]), 0)
            previous = str(row[0]) if row is not None and row[0] != owner else None
            tx.execute(
                "INSERT INTO relay_leases (org, owner, lease_until, taken_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (org) DO UPDATE SET owner=excluded.owner, "
                "lease_until=excluded.lease_until, taken_at=excluded.taken_at",
                (org, owner, now + lease_seconds, now),
            )
            released = 0
            if previous is not None:
                released = tx.execute(
                    "UPDATE outbox_messages SET claimed_by=NULL, claimed_until=NULL "
                    "WHERE org=? AND claimed_by=?",
                    (org, previous),
                )
        return Takeover(True, previous, released)

    def others(self, owner: str, now: float) -> set[str]:
        """Organisations other relays hold valid leases on."""
        with self.db.read() as tx:
            rows = tx.all(
                "SELECT org FROM relay_leases WHERE owner<>? AND lease_until>?", (owner, now)
            )
        return {str(r[0]) for r in rows}

    def fair_share(self, now: float, lease_seconds: float) -> int:
        """How many organisations with work each live relay should serve (no limit for a relay
        that is alone)."""
        with self.db.read() as tx:
            relays = tx.one(
                "SELECT COUNT(*) FROM relay_instances WHERE heartbeat_at>?", (now - lease_seconds,)
            )
            orgs = tx.one(
                f"SELECT COUNT(DISTINCT org) FROM outbox_messages WHERE state IN {OPEN_SQL}"
            )
        return share_of(int(relays[0]) if relays else 1, int(orgs[0]) if orgs else 0)

    def shed(self, owner: str, count: int) -> set[str]:
        """Give back up to ``count`` leases on organisations that have no message claimed by
        this relay (nothing in flight), so that other relays can take them; return them."""
        with self.db.write() as tx:
            rows = tx.all(
                "DELETE FROM relay_leases WHERE owner=? AND org IN (SELECT org FROM relay_leases "
                "WHERE owner=? AND org NOT IN (SELECT org FROM outbox_messages WHERE "
                "claimed_by=?) ORDER BY org LIMIT ?) RETURNING org",
                (owner, owner, owner, count),
            )
        return {str(r[0]) for r in rows}

    def release(self, owner: str, org: str | None = None) -> None:
        """Give leases back (one organisation, or all of them when the relay stops)."""
        with self.db.write() as tx:
            if org is None:
                tx.execute("DELETE FROM relay_leases WHERE owner=?", (owner,))
                tx.execute("DELETE FROM relay_instances WHERE owner=?", (owner,))
            else:
                tx.execute("DELETE FROM relay_leases WHERE owner=? AND org=?", (owner, org))

    def live(self, now: float, lease_seconds: float) -> list[str]:
        """Relays that heartbeated within the lease time."""
        with self.db.read() as tx:
            rows = tx.all(
                "SELECT owner FROM relay_instances WHERE heartbeat_at>? ORDER BY owner",
                (now - lease_seconds,),
            )
        return [str(r[0]) for r in rows]

    def leases(self) -> dict[str, tuple[str, float]]:
        """Every lease: organisation → (owner, until)."""
        with self.db.read() as tx:
            rows = tx.all("SELECT org, owner, lease_until FROM relay_leases ORDER BY org")
        return {str(o): (str(w), float(u)) for o, w, u in rows}
