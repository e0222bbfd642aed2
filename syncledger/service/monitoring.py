"""What ``health`` reports, read only: how far each projection is behind the log, the outbox's
depth by state, the oldest open delivery, each organisation's connection and Xero's last answer
and limits, and whether a relay is running.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from outbox.store import MessageState
from syncledger.bootstrap import System


@dataclass
class Health:
    """What ``health`` reports: projection lag, outbox depth, and each organisation."""

    head: int
    projections: dict[str, dict[str, int]]
    outbox: dict[str, int]
    oldest_pending_seconds: float | None
    organisations: list[dict[str, Any]]
    relay_running: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "log_head": self.head,
            "projections": self.projections,
            "outbox": self.outbox,
            "oldest_pending_seconds": self.oldest_pending_seconds,
            "organisations": self.organisations,
            "relay_running": self.relay_running,
        }


def health(system: System, relay_running: bool) -> Health:
    """A read-only report (it brings nothing up to date, so lag is real)."""
    now = time.time()
    head = system.log.head()
    projections = {
        name: {"position": p.position(), "lag": head - p.position()}
        for name, p in system.projections.items()
    }
    depth = {state.value: 0 for state in MessageState}
    depth.update(system.outbox_store.depth())
    depth["claimed"] = system.outbox_store.claimed()
    oldest = system.outbox_store.oldest_open()
    return Health(
        head=head,
        projections=projections,
        outbox=depth,
        oldest_pending_seconds=round(now - oldest, 1) if oldest is not None else None,
        organisations=_organisations(system, now),
        relay_running=relay_running,
    )


def _organisations(system: System, now: float) -> list[dict[str, Any]]:
    """Each organisation's connection, Xero's last answer and limits, and whether it is parked."""
    states = {s.org: s for s in system.org_state.all()}
    orgs = sorted(set(states) | {o.org for o in system.status_store.organisations()})
    organisations: list[dict[str, Any]] = []
    for org_id in orgs:
        organisation = system.ledger.organisation(org_id)
        connection = organisation.connection if organisation else None
        state = states.get(org_id)
        parked = state is not None and state.parked(now)
        organisations.append(
            {
                "org": org_id,
                "connected": connection is not None,
                "tenant_id": connection.tenant_id if connection else None,
                "connection_method": connection.method if connection else None,
                "calls_left_this_minute": state.minute_remaining if state else None,
                "calls_left_today": state.day_remaining if state else None,
                "limits_observed_at": _iso(state.observed_at) if state else None,
                "parked_until": _iso(state.parked_until) if state and parked else None,
                "parked_reason": state.parked_reason if state and parked else None,
                "last_answer": state.answer if state else None,
                "last_answer_at": _iso(state.answered_at) if state else None,
                "reached": state.reached if state else None,
            }
        )
    return organisations


def _iso(epoch: float | None) -> str | None:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds") if epoch else None


def relay_running(system: System) -> bool:
    """True if a relay is running against this database (the SQLite lock is held, or a
    relay heartbeated on PostgreSQL within its lease time)."""
    return system.relay_running()
