"""Organisation leases in memory: ``MemoryLeases`` implements the ``Leases`` port over a
``MemoryOutboxStore`` (whose messages say which organisations have work, and whose claims a
takeover frees), following the SQL lease store's rules, for unit tests of the relay's leasing.
"""

from __future__ import annotations

from outbox.leases import Leases, Takeover, share_of
from outbox.memory.store import MemoryOutboxStore
from outbox.store import OPEN_STATES


class MemoryLeases(Leases):
    """Leases and relay heartbeats in memory, beside an in-memory outbox."""

    def __init__(self, store: MemoryOutboxStore) -> None:
        self.store = store
        self.lock = store.lock
        self.instances: dict[str, tuple[float, float]] = {}
        """Per relay: when it started, and when it last heartbeated."""
        self.held: dict[str, tuple[str, float, float]] = {}
        """Per organisation: the relay holding it, until when, and since when."""

    def _busy(self) -> set[str]:
        """Organisations with open messages."""
        return {m.org for m in self.store.tables.messages.values() if m.state in OPEN_STATES}

    def _live(self, now: float, lease_seconds: float) -> set[str]:
        return {o for o, (_, beat) in self.instances.items() if beat > now - lease_seconds}

    def heartbeat(self, owner: str, now: float, lease_seconds: float) -> set[str]:
        with self.lock:
            started = self.instances.get(owner, (now, now))[0]
            self.instances[owner] = (started, now)
            busy = self._busy()
            for org, (holder, until, taken) in list(self.held.items()):
                if holder != owner:
                    continue
                if org not in busy:
                    del self.held[org]
                elif until > now:
                    self.held[org] = (holder, now + lease_seconds, taken)
            live = self._live(now, lease_seconds) | {owner}
            self.store.free_claims(lambda holder: holder not in live)
            return {o for o, (h, until, _) in self.held.items() if h == owner and until > now}

    def acquire(self, owner: str, org: str, now: float, lease_seconds: float) -> Takeover:
        with self.lock:
            found = self.held.get(org)
            if found is not None and found[0] != owner and found[1] > now:
                return Takeover(False, found[0], 0)
            previous = found[0] if found is not None and found[0] != owner else None
            self.held[org] = (owner, now + lease_seconds, now)
            released = 0
            if previous is not None:
                released = self.store.free_claims(lambda holder: holder == previous, org)
            return Takeover(True, previous, released)

    def others(self, owner: str, now: float) -> set[str]:
        with self.lock:
            return {o for o, (h, until, _) in self.held.items() if h != owner and until > now}

    def fair_share(self, now: float, lease_seconds: float) -> int:
        with self.lock:
            return share_of(len(self._live(now, lease_seconds)), len(self._busy()))

    def shed(self, owner: str, count: int) -> set[str]:
        with self.lock:
            in_flight = self.store.claimed_orgs(owner)
            mine = sorted(o for o, (h, _, _) in self.held.items() if h == owner)
            shed = [o for o in mine if o not in in_flight][: max(0, count)]
            for org in shed:
                del self.held[org]
            return set(shed)

    def release(self, owner: str, org: str | None = None) -> None:
        with self.lock:
            for held, (holder, _, _) in list(self.held.items()):
                if holder == owner and org in (None, held):
                    del self.held[held]
            if org is None:
                self.instances.pop(owner, None)

    def live(self, now: float, lease_seconds: float) -> list[str]:
        with self.lock:
            return sorted(self._live(now, lease_seconds))

    def leases(self) -> dict[str, tuple[str, float]]:
        with self.lock:
            return {o: (h, until) for o, (h, until, _) in sorted(self.held.items())}
