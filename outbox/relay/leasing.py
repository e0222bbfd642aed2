"""The relay's lease keeper: which organisations this relay holds, kept alive by heartbeats on
a thread of their own, its fair share of the organisations with work (leases beyond it are given
back so that a relay that joins gets work), taking an organisation over once its holder's lease
lapsed, and its share of the app-wide call budget. Without a lease store (SQLite: one relay per
file) every organisation is this relay's and nothing here does anything.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable

from eventsourcing.persistence import PersistenceError

from outbox.leases import Leases
from outbox.limits import SlidingWindow
from outbox.relay.settings import RelaySettings
from projections.storage.errors import StorageError

log = logging.getLogger("syncledger.relay")


class LeaseKeeper:
    """Acquires, keeps alive, sheds and releases this relay's organisation leases."""

    def __init__(
        self,
        leases: Leases | None,
        owner: str,
        settings: RelaySettings,
        app: SlidingWindow,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.leases = leases
        self.owner = owner
        self.settings = settings
        self.app = app
        """The app-wide window, resized to this relay's share on every heartbeat."""
        self.clock = clock
        self._guard = threading.Lock()
        self._leasing = threading.Lock()
        """Held across each lease change and its note in ``_held`` (heartbeat, shed, acquire,
        release), so that a heartbeat's answer never brings back a lease given back meanwhile."""
        self._held: set[str] = set()
        self._share = 0
        self._share_at = -math.inf
        self._valid_until = -math.inf
        """Until when the leases in ``_held`` are certainly alive (the last heartbeat that
        succeeded, plus the lease, less a heartbeat's margin); past it nothing is claimed."""
        self._unvouched = False
        self._beating = threading.Event()
        self._thread: threading.Thread | None = None

    # heartbeats -------------------------------------------------------------------------------

    def start(self) -> None:
        """Heartbeat once now, then on a thread of its own, so that leases stay alive however
        long one turn of the loop takes (a large catch-up, a slow database)."""
        self._thread = None
        if self.leases is None:
            return
        self._beating = stopping = threading.Event()  # this run's own: an old thread keeps its
        self._beat(stopping)
        self._thread = threading.Thread(
            target=self._heartbeats, args=(stopping,), name="relay-heartbeat", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop heartbeating (waiting a little for the thread: one stuck on a lost database
        must not hold the relay)."""
        self._beating.set()
        if self._thread is not None:
            self._thread.join(5.0)

    def _heartbeats(self, stopping: threading.Event) -> None:
        while not stopping.wait(self.settings.heartbeat_seconds):
            self._beat(stopping)

    def _beat(self, stopping: threading.Event) -> None:
        """One heartbeat on the heartbeat thread's boundary: a failure is logged and the next
        one tried; meanwhile the leases' vouched time runs out and nothing new is claimed."""
        try:
            self.heartbeat(stopping)
        except (StorageError, PersistenceError) as exc:
            log.warning("heartbeat failed (%s); trying again", exc)
        except Exception:  # the heartbeat thread's boundary: it must go on
            log.exception("heartbeat failed unexpectedly; trying again")

    def heartbeat(self, stopping: threading.Event | None = None) -> None:
        """Keep this relay's leases alive, and take its share of the app-wide budget: Xero's
        10,000 calls a minute are for all relays together."""
        if self.leases is None:
            return
        with self._leasing:
            if stopping is not None and stopping.is_set():
                return  # the relay is stopping (and may have released everything already)
            now, lease = self.clock(), self.settings.org_lease_seconds
            held = self.leases.heartbeat(self.owner, now, lease)
            with self._guard:
                self._held = held
                self._valid_until = now + lease - self.settings.heartbeat_seconds
        live = max(1, len(self.leases.live(now, lease)))
        self.app.resize(self.settings.app_minute_budget // live)

    def alive(self) -> bool:
        """True while the last successful heartbeat vouches for this relay's leases."""
        with self._guard:
            return self.leases is None or self.clock() < self._valid_until

    def vouched(self) -> bool:
        """Like ``alive``, warning once when the leases stop being vouched for."""
        if not self.alive():
            if not self._unvouched:
                log.warning("no heartbeat has succeeded lately; claiming nothing until one does")
            self._unvouched = True
            return False
        self._unvouched = False
        return True

    # fair share -------------------------------------------------------------------------------

    def held(self) -> set[str]:
        """The organisations this relay holds leases on."""
        with self._guard:
            return set(self._held)

    def others(self) -> set[str]:
        """Organisations other relays hold valid leases on."""
        return self.leases.others(self.owner, self.clock()) if self.leases else set()

    def rebalance(self) -> None:
        """Work out this relay's fair share of the organisations with work (at most once a
        second when it is at its share, once a heartbeat otherwise), and give back leases
        beyond it on organisations with nothing in flight here, so a relay that joins gets
        work."""
        if self.leases is None:
            return
        now = self.clock()
        held = len(self.held())
        every = 1.0 if held >= self._share else self.settings.heartbeat_seconds
        if now < self._share_at + every:
            return
        self._share_at = now
        self._share = self.leases.fair_share(now, self.settings.org_lease_seconds)
        if held > self._share:
            with self._leasing:
                shed = self.leases.shed(self.owner, held - self._share)
                with self._guard:
                    self._held -= shed
            if shed:
                log.info("gave back %d organisations to other relays", len(shed))

    def only(self, excluded: tuple[str, ...]) -> tuple[str, ...] | None:
        """The organisations to claim from while this relay is at its fair share (those it
        holds, less ``excluded``), or None when it may take on more."""
        if self.leases is None or len(self.held()) < self._share:
            return None
        self.rebalance()
        held = self.held()
        if len(held) < self._share:
            return None
        return tuple(sorted(held - set(excluded)))

    # acquire and release ----------------------------------------------------------------------

    def acquire(self, org: str) -> bool:
        """Hold the organisation's lease (taking it over if its holder's lease lapsed)."""
        with self._guard:
            if self.leases is None or org in self._held:
                return True
        with self._leasing:
            takeover = self.leases.acquire(
                self.owner, org, self.clock(), self.settings.org_lease_seconds
            )
            if not takeover.acquired:
                return False
            with self._guard:
                self._held.add(org)
        if takeover.previous_owner is not None:
            log.warning(
                "took over organisation %s from %s, whose lease lapsed (released %d claims)",
                org,
                takeover.previous_owner,
                takeover.released_claims,
            )
        return True

    def release(self) -> None:
        """Give every lease back (so that others need not wait for them to lapse)."""
        if self.leases is not None:
            with self._leasing:
                self.leases.release(self.owner)
