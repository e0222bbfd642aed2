"""The relay's loop: keeps the outbox caught up with the log, claims due messages (with the
others that batch with them) of organisations that are not parked, not at their concurrency
limit and not leased by another relay, hands each batch to the courier on a worker thread, and on
stop lets the calls in flight finish and gives every claim and lease back. ``Relay`` also wires
the parts together: lease keeper, courier, outcome recorder, parking and call budgets.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from eventsourcing.persistence import PersistenceError

from domain.ledger import SyncLedger
from domain.vocabulary import Operation
from outbox.delivery import Outcome
from outbox.leases import Leases
from outbox.limits import Budgets, SlidingWindow
from outbox.orgstate import OrgStates
from outbox.reach import Reach
from outbox.relay.courier import Courier
from outbox.relay.leasing import LeaseKeeper
from outbox.relay.outcomes import OutcomeRecorder, Parking
from outbox.relay.settings import FOLLOWERS_INTERVAL, ClientFactory, RelayReport, RelaySettings
from outbox.retry import RetryPolicy
from outbox.store import Message, OutboxStore
from outbox.xero import CallRecord
from projections.base import LogReader, Projection, catch_up
from projections.storage.errors import StorageError

log = logging.getLogger("syncledger.relay")

BATCHED: tuple[str, ...] = (Operation.INVOICE, Operation.PAYMENT, Operation.CREDIT_NOTE)
"""Operations whose messages of one organisation are sent together, in one call."""


class Relay:
    """Delivers the outbox to Xero."""

    def __init__(
        self,
        ledger: SyncLedger,
        store: OutboxStore,
        writer: Projection,
        log_reader: LogReader,
        clients: ClientFactory,
        *,
        followers: Sequence[Projection] = (),
        org_state: OrgStates | None = None,
        leases: Leases | None = None,
        exclusive: bool = False,
        wake: Callable[[float], bool] | None = None,
        policy: RetryPolicy | None = None,
        settings: RelaySettings | None = None,
        owner: str = "relay",
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.ledger = ledger
        self.store = store
        self.writer = writer
        self.log_reader = log_reader
        self.clients = clients
        self.followers = tuple(followers)
        self.org_state = org_state
        self.leases = leases
        self.exclusive = exclusive
        self.wake = wake
        self.settings = settings or RelaySettings()
        self.owner = owner
        self.budgets = Budgets(
            self.settings.org_minute_budget,
            self.settings.app_minute_budget,
            self.settings.minute_window,
        )
        self.parking = Parking(org_state, clock)
        self.keeper = LeaseKeeper(leases, owner, self.settings, self.budgets.app, clock)
        self.recorder = OutcomeRecorder(
            ledger, store, self.parking, self.window, policy=policy, rng=rng, clock=clock
        )
        self.courier = Courier(
            ledger, store, clients, self.budgets, self.recorder, self.settings, clock
        )
        self.clock = clock
        self._writer_lock = threading.Lock()
        self._unreleased: set[int] = set()
        self._followers_due = 0.0

    # the parts' shared state ------------------------------------------------------------------

    @property
    def clock(self) -> Callable[[], float]:
        """The relay's time (epoch seconds); setting it sets every part's."""
        return self._clock

    @clock.setter
    def clock(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        for part in (self.parking, self.keeper, self.recorder, self.courier):
            part.clock = clock

    @property
    def stop(self) -> threading.Event:
        """Set to stop the relay (``run`` takes a new one, or the one it is given)."""
        return self.courier.stop

    @stop.setter
    def stop(self, stop: threading.Event) -> None:
        self.courier.stop = stop

    @property
    def report(self) -> RelayReport:
        """What the current (or last) run did."""
        return self.recorder.report

    @report.setter
    def report(self, report: RelayReport) -> None:
        self.recorder.report = report

    @property
    def parked(self) -> dict[str, tuple[float, str]]:
        """Organisations that wait: until when, and why."""
        return self.parking.parked

    @property
    def policy(self) -> RetryPolicy:
        """How failed attempts are retried."""
        return self.recorder.policy

    @property
    def rng(self) -> random.Random:
        """The source of the retry policy's jitter."""
        return self.recorder.rng

    @property
    def app_budget(self) -> int:
        """Calls this relay allows itself per minute window across all organisations."""
        return self.budgets.app.budget.calls

    def window(self, org: str) -> SlidingWindow:
        """The organisation's call window (created on first use)."""
        return self.budgets.window(org)

    def parked_orgs(self) -> tuple[str, ...]:
        """Organisations that wait (daily limit) until a moment has passed."""
        return self.parking.orgs()

    def heartbeat(self, stopping: threading.Event | None = None) -> None:
        """Keep this relay's leases alive and take its share of the app-wide budget."""
        self.keeper.heartbeat(stopping)

    def leases_alive(self) -> bool:
        """True while the last successful heartbeat vouches for this relay's leases."""
        return self.keeper.alive()

    def catch_up(self) -> None:
        """Bring the outbox up to date (and, at most twice a second, the other projections
        this process keeps fresh)."""
        with self._writer_lock:
            catch_up(self.writer, self.log_reader)
            now = time.monotonic()
            if now >= self._followers_due:
                self._followers_due = now + FOLLOWERS_INTERVAL
                for follower in self.followers:
                    catch_up(follower, self.log_reader)

    def _flush_limits(self) -> None:
        seen = self.budgets.take_seen()
        answers = self.report.reach.take_answers()
        if self.org_state is not None:
            self.org_state.observe(seen, answers)

    # loop -------------------------------------------------------------------------------------

    def run(self, *, until_idle: bool = False, stop: threading.Event | None = None) -> RelayReport:
        """Deliver until stopped (or, with ``until_idle``, until nothing is left to do now)."""
        self.stop = stop or threading.Event()
        self.report = RelayReport(reach=Reach(self.clock))
        released = self.store.release_all(None if self.exclusive else self.owner)
        if released:
            log.info("released %d claims left by an earlier run", released)
        self.parking.restore()
        in_flight: dict[Future[None], Message] = {}
        per_org: dict[str, int] = {}
        self.keeper.start()
        with ThreadPoolExecutor(self.settings.workers, thread_name_prefix="relay") as pool:
            try:
                while not self.stop.is_set():
                    try:
                        idle = self._round(pool, in_flight, per_org, until_idle)
                    except (StorageError, PersistenceError) as exc:
                        log.warning("database unavailable (%s); trying again in 1 s", exc)
                        self.stop.wait(1.0)
                        continue
                    if idle is None:
                        break
            finally:
                done, _ = wait(list(in_flight))
                self._reap(done, in_flight, per_org)
                self.keeper.stop()
                self._shutdown()
        return self.report

    def _round(
        self,
        pool: ThreadPoolExecutor,
        in_flight: dict[Future[None], Message],
        per_org: dict[str, int],
        until_idle: bool,
    ) -> bool | None:
        """One turn of the loop: dispatch, wait. None means "stop (until idle)"."""
        self._release_pending()
        launched = self._dispatch(pool, in_flight, per_org)
        self._flush_limits()
        if launched:
            return False
        if in_flight:
            done, _ = wait(
                list(in_flight), timeout=self.settings.poll_interval, return_when=FIRST_COMPLETED
            )
            self._reap(done, in_flight, per_org)
            return False
        pause = self.settings.poll_interval
        if until_idle and self.leases_alive():
            due = self.store.next_due(self.parked_orgs())
            if due is None:
                return None
            pause = due - self.clock()
            if pause > self.settings.idle_max_wait:
                log.info("next delivery is due in %.0f s; stopping (until idle)", pause)
                return None
            pause = max(0.0, min(pause, 5.0))
        self._idle(pause)
        return True

    def _idle(self, seconds: float) -> None:
        """Wait for new work: a NOTIFY from the ledger (PostgreSQL), or a poll interval."""
        if self.wake is None:
            self.stop.wait(seconds)
            return
        deadline = time.monotonic() + seconds
        while not self.stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0 or self.wake(min(left, 0.25)):
                return

    def _release_pending(self) -> None:
        for message_id in list(self._unreleased):
            self.store.release(message_id, self.owner)
            self._unreleased.discard(message_id)

    def _shutdown(self) -> None:
        """Give everything back: claims, leases (so others need not wait for them to lapse)."""
        try:
            self._flush_limits()
            self._release_pending()
            self.store.release_all(self.owner)
            self.keeper.release()
        except (StorageError, PersistenceError) as exc:
            log.warning("could not release claims and leases on stop (%s); they lapse", exc)

    def _dispatch(
        self,
        pool: ThreadPoolExecutor,
        in_flight: dict[Future[None], Message],
        per_org: dict[str, int],
    ) -> int:
        self._reap([f for f in in_flight if f.done()], in_flight, per_org)
        self.catch_up()
        if not self.keeper.vouched():
            return 0
        self.keeper.rebalance()
        refused: set[str] = set()
        others = self.keeper.others()
        launched = 0
        while len(in_flight) < self.settings.workers and not self.stop.is_set():
            full = {o for o, n in per_org.items() if n >= self.settings.org_concurrency}
            excluded = tuple(sorted(set(self.parked_orgs()) | full | others | refused))
            message = self.store.claim(
                self.owner,
                self.clock(),
                self.settings.lease_seconds,
                excluded,
                self.keeper.only(excluded),
            )
            if message is None:
                break
            if not self.keeper.acquire(message.org):
                self.store.release(message.id, self.owner)
                refused.add(message.org)
                continue
            batch = [message, *self._more(message)]
            per_org[message.org] = per_org.get(message.org, 0) + 1
            in_flight[pool.submit(self._work, batch)] = message
            launched += 1
        return launched

    def _more(self, first: Message) -> list[Message]:
        """Other due messages of the same organisation and operation, to send in one call
        (never waiting for more to arrive: a lone document goes at once)."""
        if first.operation not in BATCHED:
            return []
        return self.store.claim_more(
            self.owner,
            self.clock(),
            self.settings.lease_seconds,
            first.org,
            first.operation,
            self.settings.batch_size - 1,
            first.group,
        )

    def _reap(
        self,
        done: Iterable[Future[None]],
        in_flight: dict[Future[None], Message],
        per_org: dict[str, int],
    ) -> None:
        for future in done:
            message = in_flight.pop(future, None)
            if message is None:
                continue
            per_org[message.org] = per_org.get(message.org, 1) - 1
            error = future.exception()
            if error is not None:
                log.error("delivery of %s failed outside its boundary: %s", message.doc_id, error)

    def _work(self, messages: list[Message]) -> None:
        try:
            self._deliver(messages)
        finally:
            for message in messages:
                try:
                    self.store.release(message.id, self.owner)
                except (StorageError, PersistenceError):
                    self._unreleased.add(message.id)

    def deliver_one(self) -> bool:
        """Claim and deliver one due message (with the others that batch with it) in this
        thread; False if none is due."""
        self.catch_up()
        message = self.store.claim(
            self.owner, self.clock(), self.settings.lease_seconds, self.parked_orgs()
        )
        if message is None:
            return False
        self._work([message, *self._more(message)])
        self._flush_limits()
        return True

    def _deliver(self, messages: list[Message]) -> None:
        self.courier.deliver(messages, self._done)

    def _done(
        self,
        messages: list[Message],
        outcomes: dict[int, Outcome],
        calls: list[CallRecord],
        tenant: str | None,
    ) -> None:
        """Record the outcomes of a delivery that ran to its end."""
        self.recorder.done(messages, outcomes, calls, tenant)
