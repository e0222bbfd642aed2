"""What relays know of each organisation, in memory: ``MemoryOrgStates`` implements the
``OrgStates`` port (limits seen, Xero's last answer, parking) with a dictionary, following the
SQL store's rules, for unit tests of the relay's parking and reach."""

from __future__ import annotations

import dataclasses
import threading

from outbox.orgstate import OrgState, OrgStates
from outbox.xero import Limits


class MemoryOrgStates(OrgStates):
    """``relay_organisations`` in memory."""

    def __init__(self) -> None:
        self.rows: dict[str, OrgState] = {}
        self.lock = threading.Lock()

    def _row(self, org: str) -> OrgState:
        return self.rows.get(org) or OrgState(org, None, None, None, None, None, None)

    def observe(
        self,
        limits: dict[str, tuple[Limits, float]],
        answers: dict[str, tuple[float, str, bool]] | None = None,
    ) -> None:
        with self.lock:
            for org, (seen, at) in limits.items():
                row = self._row(org)
                self.rows[org] = dataclasses.replace(
                    row,
                    minute_remaining=row.minute_remaining if seen.minute is None else seen.minute,
                    day_remaining=row.day_remaining if seen.day is None else seen.day,
                    app_remaining=row.app_remaining if seen.app_minute is None else seen.app_minute,
                    observed_at=at,
                )
            for org, (at, text, reached) in (answers or {}).items():
                self.rows[org] = dataclasses.replace(
                    self._row(org), answered_at=at, answer=text, reached=reached
                )

    def park(self, org: str, until: float, reason: str) -> None:
        with self.lock:
            self.rows[org] = dataclasses.replace(
                self._row(org), parked_until=until, parked_reason=reason
            )

    def unpark(self, org: str) -> None:
        with self.lock:
            if org in self.rows:
                self.rows[org] = dataclasses.replace(
                    self.rows[org], parked_until=None, parked_reason=None
                )

    def parked(self, now: float) -> dict[str, tuple[float, str]]:
        with self.lock:
            return {
                org: (row.parked_until, row.parked_reason or "")
                for org, row in self.rows.items()
                if row.parked_until is not None and row.parked_until > now
            }

    def all(self) -> list[OrgState]:
        with self.lock:
            return [self.rows[org] for org in sorted(self.rows)]
