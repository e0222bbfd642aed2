"""The relay: claims due outbox messages, delivers them to Xero, and records each outcome back
into the ledger as an event. The ledger, not the outbox, is the record: a message is finished by
the outbox writer when it sees the outcome in the log.

Several organisations are served at once (a pool of worker threads); each organisation has at
most ``org_concurrency`` deliveries in flight and its calls are paced under its per-minute limit,
with the app-wide limit shared by all. A 429 pauses the organisation for exactly ``Retry-After``;
the daily limit parks it ("Xero daily limit reached; resumes at 14:05 UTC") while the others
carry on; a refused connection records it Disconnected. On stop, no new message is claimed, the
calls in flight finish and their outcomes are recorded, and nothing is left claimed.

The parts: ``loop`` (``Relay``: claims and dispatches, and wires the rest), ``leasing`` (the
lease keeper: heartbeats, fair share, acquire and release), ``courier`` (one batch to Xero, the
per-message error boundary), ``outcomes`` (the outcome recorder and parking), ``settings``.
"""

from __future__ import annotations

from outbox.relay.courier import Courier
from outbox.relay.leasing import LeaseKeeper
from outbox.relay.loop import BATCHED, Relay
from outbox.relay.outcomes import OutcomeRecorder, Parking, calls_for
from outbox.relay.settings import (
    AGAIN_SECONDS,
    AUTH_PARK_SECONDS,
    DEFAULT_PARK_SECONDS,
    FOLLOWERS_INTERVAL,
    NOT_CONNECTED_RETRY_SECONDS,
    WAIT_RETRY_SECONDS,
    ClientFactory,
    RelayReport,
    RelaySettings,
)
from outbox.retry import category_of

__all__ = [
    "AGAIN_SECONDS",
    "AUTH_PARK_SECONDS",
    "BATCHED",
    "DEFAULT_PARK_SECONDS",
    "FOLLOWERS_INTERVAL",
    "NOT_CONNECTED_RETRY_SECONDS",
    "WAIT_RETRY_SECONDS",
    "ClientFactory",
    "Courier",
    "LeaseKeeper",
    "OutcomeRecorder",
    "Parking",
    "Relay",
    "RelayReport",
    "RelaySettings",
    "calls_for",
    "category_of",
]
