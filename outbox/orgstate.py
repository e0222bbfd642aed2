"""What relays know about each organisation right now: the limits Xero last reported, Xero's
last answer (or that none came), whether the organisation is parked (daily limit reached) and
until when.

This is operational state, not history: it is written by relays, read by ``status`` (the reason a
document waits), ``health`` and the metrics, and never needed to rebuild anything. ``OrgStates``
is the port; ``OrgStateStore`` implements it in portable SQL over the ``Database`` port (table
``relay_organisations``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from outbox.xero import Limits
from projections.storage.database import Database
from projections.storage.errors import StorageError


@dataclass(frozen=True)
class OrgState:
    """One organisation as the relays see it."""

    org: str
    minute_remaining: int | None
    day_remaining: int | None
    app_remaining: int | None
    observed_at: float | None
    parked_until: float | None
    parked_reason: str | None
    answered_at: float | None = None
    answer: str | None = None
    reached: bool | None = None
    """Whether that last answer came from Xero and was not a refusal of the connection."""

    def parked(self, now: float) -> bool:
        """True while the organisation waits."""
        return self.parked_until is not None and self.parked_until > now


_COLUMNS = (
    "org, minute_remaining, day_remaining, app_remaining, observed_at, parked_until, "
    "parked_reason, answered_at, answer, reached"
)
_ADDED = ("answered_at DOUBLE PRECISION", "answer TEXT", "reached INTEGER")


def _state(row: tuple[Any, ...]) -> OrgState:
    org, minute, day, app, observed, until, reason, answered_at, answer, reached = row
    return OrgState(
        str(org),
        minute,
        day,
        app,
        observed,
        until,
        reason,
        answered_at,
        answer,
        None if reached is None else bool(reached),
    )


class OrgStates(ABC):
    """What relays record of each organisation (one implementation per storage)."""

    @abstractmethod
    def observe(
        self,
        limits: dict[str, tuple[Limits, float]],
        answers: dict[str, tuple[float, str, bool]] | None = None,
    ) -> None:
        """Record the limits Xero last reported per organisation (with when), and Xero's last
        answer per organisation (when, what, and whether Xero was reached)."""

    @abstractmethod
    def park(self, org: str, until: float, reason: str) -> None:
        """The organisation waits until ``until`` (epoch seconds), for ``reason``."""

    @abstractmethod
    def unpark(self, org: str) -> None:
        """The organisation no longer waits."""

    @abstractmethod
    def parked(self, now: float) -> dict[str, tuple[float, str]]:
        """Organisations parked at ``now``: until when, and why."""

    @abstractmethod
    def all(self) -> list[OrgState]:
        """Every organisation a relay has seen."""


class OrgStateStore(OrgStates):
    """``relay_organisations`` on any ``Database``."""

    TABLES: tuple[str, ...] = ("relay_organisations",)
    """The tables this store creates (the composition root collects them)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.script(
            [
                """CREATE TABLE IF NOT EXISTS relay_organisations (
                    org TEXT PRIMARY KEY,
                    minute_remaining INTEGER,
                    day_remaining INTEGER,
                    app_remaining INTEGER,
                    observed_at DOUBLE PRECISION,
                    parked_until DOUBLE PRECISION,
                    parked_reason TEXT,
                    answered_at DOUBLE PRECISION,
                    answer TEXT,
                    reached INTEGER
                )"""
            ]
        )
        self._upgrade()

    def _upgrade(self) -> None:
        """Add the columns a table made by an earlier version lacks (another process may be
        adding them at the same moment: a failure is fine if the column is then there)."""
        for column in _ADDED:
            name = column.split()[0]
            if self._has(name):
                continue
            try:
                self.db.script([f"ALTER TABLE relay_organisations ADD COLUMN {column}"])
            except StorageError:
                if not self._has(name):
                    raise

    def _has(self, column: str) -> bool:
        try:
            with self.db.read() as tx:
                tx.all(f"SELECT {column} FROM relay_organisations WHERE 1=0")
        except StorageError:
            return False
        return True

    def observe(
        self,
        limits: dict[str, tuple[Limits, float]],
        answers: dict[str, tuple[float, str, bool]] | None = None,
    ) -> None:
        """Record, in one transaction, the limits Xero last reported per organisation (with
        when), and Xero's last answer per organisation: when, what, and whether Xero was reached
        and accepted the connection."""
        if not limits and not answers:
            return
        with self.db.write() as tx:
            tx.many(
                "INSERT INTO relay_organisations (org, minute_remaining, day_remaining, "
                "app_remaining, observed_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (org) DO UPDATE "
                "SET minute_remaining=COALESCE(excluded.minute_remaining, "
                "relay_organisations.minute_remaining), "
                "day_remaining=COALESCE(excluded.day_remaining, "
                "relay_organisations.day_remaining), "
                "app_remaining=COALESCE(excluded.app_remaining, "
                "relay_organisations.app_remaining), "
                "observed_at=excluded.observed_at",
                [
                    (org, seen.minute, seen.day, seen.app_minute, at)
                    for org, (seen, at) in sorted(limits.items())
                ],
            )
            tx.many(
                "INSERT INTO relay_organisations (org, answered_at, answer, reached) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (org) DO UPDATE SET "
                "answered_at=excluded.answered_at, answer=excluded.answer, "
                "reached=excluded.reached",
                [
                    (org, at, text, 1 if reached else 0)
                    for org, (at, text, reached) in sorted((answers or {}).items())
                ],
            )

    def park(self, org: str, until: float, reason: str) -> None:
        """The organisation waits until ``until`` (epoch seconds), for ``reason``."""
        with self.db.write() as tx:
            tx.execute(
                "INSERT INTO relay_organisations (org, parked_until, parked_reason) "
                "VALUES (?, ?, ?) ON CONFLICT (org) DO UPDATE SET "
                "parked_until=excluded.parked_until, parked_reason=excluded.parked_reason",
                (org, until, reason),
            )

    def unpark(self, org: str) -> None:
        """The organisation no longer waits."""
        with self.db.write() as tx:
            tx.execute(
                "UPDATE relay_organisations SET parked_until=NULL, parked_reason=NULL WHERE org=?",
                (org,),
            )

    def parked(self, now: float) -> dict[str, tuple[float, str]]:
        """Organisations parked at ``now``: until when, and why."""
        with self.db.read() as tx:
            rows = tx.all(
                "SELECT org, parked_until, parked_reason FROM relay_organisations "
                "WHERE parked_until IS NOT NULL AND parked_until>?",
                (now,),
            )
        return {str(org): (float(until), str(reason or "")) for org, until, reason in rows}

    def all(self) -> list[OrgState]:
        """Every organisation a relay has seen."""
        with self.db.read() as tx:
            rows = tx.all(f"SELECT {_COLUMNS} FROM relay_organisations ORDER BY org")
        return [_state(row) for row in rows]
