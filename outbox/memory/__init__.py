"""In-memory implementations of the outbox's ports (outbox store, organisation leases, the
relays' record of each organisation), so that the writer and the relay run without a database:
unit tests drive them in milliseconds."""

from __future__ import annotations

from outbox.memory.leases import MemoryLeases
from outbox.memory.orgstate import MemoryOrgStates
from outbox.memory.store import MemoryOutboxStore

__all__ = ["MemoryLeases", "MemoryOrgStates", "MemoryOutboxStore"]
