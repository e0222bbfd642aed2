"""The relay: claims due outbox messages, delivers them to Xero, and records each outcome back
into the ledger as an event. The ledger, not the outbox, is the record: a message is finished by
the outbox writer when it sees the outcome in the log.

Several organisations are served at once (a pool of worker threads); each organisation has at
most ``org_concurrency`` deliveries in flight and its calls are paced under its per-minute limit,
with the app-wide limit shared by all. A 429 pauses the organisation for exactly ``Retry-After``;
the daily limit parks it ("Xero daily limit reached; resumes at 14:05 UTC") while the others
carry on; a refused connection records it Disconnected. On stop, no new message is claimed, the
calls in flight finish and their outcomes are recorded, and nothing is left claimed.

The per-message boundary in ``_deliver`` is the one place that catches broadly: whatever goes
wrong with one document is logged with its id, recorded as a failure where it belongs to the
document, and the relay moves on to the next.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import PersistenceError

from domain.customer import customer_key
from domain.documents import OP_CREDIT_NOTE, OP_INVOICE, OP_PAYMENT
from domain.errors import DomainError
from domain.ledger import Resolution, SyncLedger
from domain.opensolar import Customer as CustomerFields
from domain.organisation import Organisation
from domain.redaction import redact, redact_text
from outbox.delivery import (
    Delivery,
    Item,
    Outcome,
    Refused,
    Skipped,
    Stale,
    Succeeded,
    Waiting,
    XeroFacts,
)
from outbox.leases import LeaseStore
from outbox.limits import Budget, Pacer, PacingStoppedError, SlidingWindow
from outbox.orgstate import OrgStateStore
from outbox.reach import LOST, Reach
from outbox.retry import (
    AUTHENTICATION,
    DAILY_LIMIT,
    INTERNAL,
    RATE_LIMITED,
    REJECTED,
    TRANSIENT,
    UNCERTAIN,
    RetryPolicy,
)
from outbox.store import DONE, DROPPED, FAILED, Message, OutboxStore
from outbox.xero import (
    CallRecord,
    Limits,
    XeroAuthError,
    XeroClient,
    XeroError,
    XeroRateLimitError,
    XeroTransientError,
    views,
)
from projections.base import LogReader, Projection, catch_up
from projections.errors import StorageError

log = logging.getLogger("syncledger.relay")

WAIT_RETRY_SECONDS = 30.0
AGAIN_SECONDS = 0.5
NOT_CONNECTED_RETRY_SECONDS = 60.0
DEFAULT_PARK_SECONDS = 3600.0
AUTH_PARK_SECONDS = 30.0
BATCHED: tuple[str, ...] = (OP_INVOICE, OP_PAYMENT, OP_CREDIT_NOTE)
FOLLOWERS_INTERVAL = 0.5


class ClientFactory(Protocol):
    """Builds a Xero client for an organisation's connection."""

    def __call__(
        self,
        org: Organisation,
        on_call: Callable[[CallRecord], None],
        on_limits: Callable[[Limits], None] | None = None,
        pace: Callable[[], None] | None = None,
    ) -> XeroClient: ...


@dataclass(frozen=True)
class RelaySettings:
    """How the relay paces itself."""

    lease_seconds: float = 300.0
    poll_interval: float = 0.25
    idle_max_wait: float = 900.0
    workers: int = 16
    org_concurrency: int = 5
    org_minute_budget: int = 55
    app_minute_budget: int = 9500
    minute_window: float = 60.0
    org_lease_seconds: float = 15.0
    heartbeat_seconds: float = 5.0
    batch_size: int = 50
    pause_after_answer: float = 0.0


@dataclass
class RelayReport:
    """What one run of the relay did."""

    delivered: int = 0
    failed: int = 0
    retrying: int = 0
    skipped: int = 0
    deferred: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    reach: Reach = field(default_factory=lambda: Reach(time.time))
    """Organisations this run could not reach, or could not serve for want of a connection."""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, name: str) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + 1)
            self.outcomes[name] = self.outcomes.get(name, 0) + 1


def category_of(exc: XeroError) -> tuple[str, float | None]:
    """The retry category of a Xero failure, and how long Xero asked us to wait."""
    if isinstance(exc, XeroRateLimitError):
        return (DAILY_LIMIT if exc.is_daily else RATE_LIMITED), exc.retry_after
    if isinstance(exc, XeroTransientError):
        return (UNCERTAIN if exc.uncertain else TRANSIENT), None
    if isinstance(exc, XeroAuthError):
        return AUTHENTICATION, None
    return REJECTED, None


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
        org_state: OrgStateStore | None = None,
        leases: LeaseStore | None = None,
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
        self.policy = policy or RetryPolicy()
        self.settings = settings or RelaySettings()
        self.owner = owner
        self.clock = clock
        self.rng = rng or random.Random()
        self.report = RelayReport()
        self.stop = threading.Event()
        self.parked: dict[str, tuple[float, str]] = {}
        self._windows: dict[str, SlidingWindow] = {}
        # the app's budget is spent as a steady stream (a call every 6 ms at 9,500 a minute):
        # a burst would leave most of each minute idle; an organisation's 55 calls may burst
        self._app = SlidingWindow(
            Budget(self.settings.app_minute_budget, self.settings.minute_window), smooth=True
        )
        self._limits: dict[str, tuple[Limits, float]] = {}
        self._guard = threading.Lock()
        self._customer_locks: dict[tuple[str, str], threading.Lock] = {}
        self._writer_lock = threading.Lock()
        self._held: set[str] = set()
        self._share = 0
        self._share_at = -math.inf
        self._beating = threading.Event()
        self._leasing = threading.Lock()
        """Held across each lease change and its note in ``_held`` (heartbeat, shed, acquire,
        release), so that a heartbeat's answer never brings back a lease given back meanwhile."""
        self._leases_valid_until = -math.inf
        self._unvouched = False
        """Until when the leases in ``_held`` are certainly alive (the last heartbeat that
        succeeded, plus the lease, less a heartbeat's margin); past it nothing is claimed."""
        self._unreleased: set[int] = set()
        self._followers_due = 0.0
        self.facts = XeroFacts()
        """What this relay knows of each Xero organisation's settings (currencies, taxes)."""

    # shared state ------------------------------------------------------------------------------

    def window(self, org: str) -> SlidingWindow:
        """The organisation's call window (created on first use)."""
        with self._guard:
            found = self._windows.get(org)
            if found is None:
                found = SlidingWindow(
                    Budget(self.settings.org_minute_budget, self.settings.minute_window)
                )
                self._windows[org] = found
            return found

    @property
    def app_budget(self) -> int:
        """Calls this relay allows itself per minute window across all organisations."""
        return self._app.budget.calls

    @contextmanager
    def customer_lock(self, org: str, customer: CustomerFields) -> Iterator[None]:
        """One contact lookup or creation at a time per customer (no duplicate contacts)."""
        key = (org, customer_key(customer))
        with self._guard:
            lock = self._customer_locks.setdefault(key, threading.Lock())
        with lock:
            yield

    def parked_orgs(self) -> tuple[str, ...]:
        """Organisations that wait (daily limit) until a moment has passed."""
        now = self.clock()
        with self._guard:
            for org, (until, _reason) in list(self.parked.items()):
                if until <= now:
                    del self.parked[org]
                    if self.org_state is not None:
                        self.org_state.unpark(org)
            return tuple(sorted(self.parked))

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
        with self._guard:
            seen, self._limits = self._limits, {}
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
        if self.org_state is not None:
            self.parked.update(self.org_state.parked(self.clock()))
        in_flight: dict[Future[None], Message] = {}
        per_org: dict[str, int] = {}
        heartbeats = self._start_heartbeats()
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
                self._beating.set()
                if heartbeats is not None:
                    heartbeats.join(5.0)  # a heartbeat stuck on a lost database must not hold us
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

    def _start_heartbeats(self) -> threading.Thread | None:
        """Heartbeat once now, then on a thread of its own, so that leases stay alive however
        long one turn of the loop takes (a large catch-up, a slow database)."""
        if self.leases is None:
            return None
        self._beating = stopping = threading.Event()  # this run's own: an old thread keeps its
        self._beat(stopping)
        thread = threading.Thread(
            target=self._heartbeats, args=(stopping,), name="relay-heartbeat", daemon=True
        )
        thread.start()
        return thread

    def _heartbeats(self, stopping: threading.Event) -> None:
        while not stopping.wait(self.settings.heartbeat_seconds):
            self._beat(stopping)

    def _beat(self, stopping: threading.Event) -> None:
        """One heartbeat on the heartbeat thread's boundary: a failure is logged and the next
        one tried; meanwhile ``_leases_valid_until`` runs out and nothing new is claimed."""
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
                self._leases_valid_until = now + lease - self.settings.heartbeat_seconds
        live = max(1, len(self.leases.live(now, lease)))
        self._app.resize(self.settings.app_minute_budget // live)

    def leases_alive(self) -> bool:
        """True while the last successful heartbeat vouches for this relay's leases."""
        with self._guard:
            return self.leases is None or self.clock() < self._leases_valid_until

    def _rebalance(self) -> None:
        """Work out this relay's fair share of the organisations with work (at most once a
        second when it is at its share, once a heartbeat otherwise), and give back leases
        beyond it on organisations with nothing in flight here, so a relay that joins gets
        work."""
        if self.leases is None:
            return
        now = self.clock()
        with self._guard:
            held = len(self._held)
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
            if self.leases is not None:
                with self._leasing:
                    self.leases.release(self.owner)
        except (StorageError, PersistenceError) as exc:
            log.warning("could not release claims and leases on stop (%s); they lapse", exc)

    def _dispatch(
        self,
        pool: ThreadPoolExecutor,
        in_flight: dict[Future[None], Message],
        per_org: dict[str, int],
    ) -> int:
        done = [f for f in in_flight if f.done()]
        self._reap(done, in_flight, per_org)
        self.catch_up()
        if not self.leases_alive():
            if not self._unvouched:
                log.warning("no heartbeat has succeeded lately; claiming nothing until one does")
            self._unvouched = True
            return 0
        self._unvouched = False
        self._rebalance()
        refused: set[str] = set()
        others = self.leases.others(self.owner, self.clock()) if self.leases else set()
        launched = 0
        while len(in_flight) < self.settings.workers and not self.stop.is_set():
            full = {o for o, n in per_org.items() if n >= self.settings.org_concurrency}
            excluded = tuple(sorted(set(self.parked_orgs()) | full | others | refused))
            only = None
            with self._guard:
                held = set(self._held)
            if self.leases is not None and len(held) >= self._share:
                self._rebalance()
                with self._guard:
                    held = set(self._held)
                if len(held) >= self._share:
                    only = tuple(sorted(held - set(excluded)))
            message = self.store.claim(
                self.owner, self.clock(), self.settings.lease_seconds, excluded, only
            )
            if message is None:
                break
            if not self._lease(message.org):
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

    def _lease(self, org: str) -> bool:
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

    def _reap(
        self,
        done: Any,
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

    # one message ------------------------------------------------------------------------------

    def _deliver(self, messages: list[Message]) -> None:
        calls: list[CallRecord] = []
        started = time.perf_counter()
        first = messages[0]
        references: dict[int, str] = {m.id: m.doc_id for m in messages}
        tenant: str | None = None
        try:
            items = []
            for message in messages:
                document = self.ledger.document(UUID(message.doc_id))
                references[message.id] = document.reference
                items.append(Item(message, document))
            org = self.ledger.organisation(items[0].document.org_id)
            connection = org.connection if org is not None else None
            if org is None or connection is None:
                for message in messages:
                    self._defer(message, NOT_CONNECTED_RETRY_SECONDS, "organisation not connected")
                self.report.reach.not_connected(first.org, len(messages))
                return
            self.report.reach.connected_again(first.org)
            tenant = connection.tenant_id
            pacer = Pacer(self.window(first.org), self._app, self.stop)

            def observe(seen: Limits) -> None:
                with self._guard:
                    self._limits[first.org] = (seen, self.clock())
                pacer.observe(seen)

            client = self.clients(org, calls.append, on_limits=observe, pace=pacer)
            delivery = Delivery(
                self.ledger,
                client,
                connection.tenant_id,
                numbers=self.store.number_users,
                contact_lock=self.customer_lock,
                facts=self.facts,
            )
            outcomes = delivery.run_many(items, org)
            if self.settings.pause_after_answer > 0 and calls:
                # a test aid (SYNCLEDGER_TEST_PAUSE_AFTER_ANSWER_MS): widens the window between
                # "Xero answered" and "outcome recorded" so crash tests can kill a relay in it
                time.sleep(self.settings.pause_after_answer)
        except PacingStoppedError:
            log.info("stopping: %d deliveries left for the next run", len(messages))
            return
        except XeroError as exc:
            category, retry_after = category_of(exc)
            self.report.reach.note(first.org, calls, category, str(exc))
            for message in messages:
                self._failed(message, category, str(exc), retry_after, calls)
        except (DomainError, ValueError, KeyError, TypeError, LookupError) as exc:
            log.exception(
                "internal error delivering %s (%s)", references[first.id], first.operation
            )
            for message in messages:
                self._failed(message, INTERNAL, f"internal error: {exc}", None, calls)
        except Exception as exc:
            log.exception(
                "unexpected error delivering %s (%s)", references[first.id], first.operation
            )
            error = f"internal error: {type(exc).__name__}: {exc}"
            for message in messages:
                self._failed(message, INTERNAL, error, None, calls)
        else:
            self.report.reach.note(first.org, calls)
            self._done(messages, outcomes, calls, tenant)
        finally:
            elapsed = time.perf_counter() - started
            for message in messages:
                self._log(message, references[message.id], calls, elapsed)

    def _done(
        self,
        messages: list[Message],
        outcomes: dict[int, Outcome],
        calls: list[CallRecord],
        tenant: str | None,
    ) -> None:
        resolutions: list[Resolution] = []
        settled: list[tuple[int, str]] = []
        for message in messages:
            outcome = outcomes.get(message.id)
            records = calls_for(calls, message.doc_id)
            base = Resolution(
                UUID(message.doc_id), message.operation, message.request_version, records
            )
            if isinstance(outcome, Succeeded):
                resolutions.append(
                    dataclasses.replace(
                        base,
                        xero_id=outcome.xero_id,
                        sent=outcome.sent,
                        detail=outcome.detail,
                        tenant_id=tenant,
                        xero=outcome.xero,
                    )
                )
                settled.append((message.id, DONE))
                self.report.count("delivered")
            elif isinstance(outcome, Refused):
                resolutions.append(
                    dataclasses.replace(
                        base,
                        error=redact_text(outcome.error),
                        category=outcome.category,
                        action=outcome.action,
                    )
                )
                settled.append((message.id, FAILED))
                self.report.count("failed")
            elif isinstance(outcome, Skipped):
                resolutions.append(dataclasses.replace(base, skipped=outcome.reason))
                settled.append((message.id, DROPPED))
                self.report.count("skipped")
                log.info("skipped %s (%s): %s", message.doc_id, message.operation, outcome.reason)
            elif isinstance(outcome, Waiting):
                if records:
                    self.ledger.record_deferral(
                        UUID(message.doc_id),
                        message.operation,
                        message.request_version,
                        outcome.reason,
                        records,
                    )
                if outcome.on is None:
                    self._defer(message, outcome.seconds or WAIT_RETRY_SECONDS, outcome.reason)
                elif self.store.wait_for(message.id, outcome.on):
                    self.report.count("deferred")
                    log.info("%s (%s) %s", message.doc_id, message.operation, outcome.reason)
                else:  # what it waited for arrived meanwhile: look again at once
                    self._defer(message, AGAIN_SECONDS, outcome.reason)
            elif isinstance(outcome, Stale) or outcome is None:
                self.store.drop(message.id)
                self.report.count("skipped")
        if resolutions:
            self.ledger.record_resolutions(resolutions)
            self.store.settle_many(settled)

    def _failed(
        self,
        message: Message,
        category: str,
        error: str,
        retry_after: float | None,
        calls: list[CallRecord],
    ) -> None:
        attempt = message.attempts + 1
        error = redact_text(error)
        decision = self.policy.decide(category, error, attempt, self.rng.random(), retry_after)
        now = self.clock()
        records = calls_for(calls, message.doc_id)
        doc_id = UUID(message.doc_id)
        if not decision.record:
            if calls:
                self.ledger.record_deferral(
                    doc_id, message.operation, message.request_version, error, records
                )
            if decision.park:
                until = self._park(message.org, category, decision.delay, error)
                self._defer(message, max(1.0, until - now), error)
            else:
                delay = decision.delay or 1.0
                self.window(message.org).pause(delay)
                self._defer(message, delay, error)
            return
        retry_at = None
        if not decision.final and decision.delay is not None:
            retry_at = datetime.fromtimestamp(now, UTC) + timedelta(seconds=decision.delay)
        self.ledger.record_failure(
            doc_id,
            message.operation,
            message.request_version,
            decision.error,
            category,
            final=decision.final,
            retry_at=retry_at,
            calls=records,
        )
        if decision.final:
            self.store.settle(message.id, FAILED)
        elif retry_at is not None:
            self.store.settle(
                message.id, None, retry_at.timestamp(), uncertain=category == UNCERTAIN
            )
        self.report.count("failed" if decision.final else "retrying")

    def _park(self, org: str, category: str, delay: float | None, error: str) -> float:
        if category == AUTHENTICATION:
            delay = AUTH_PARK_SECONDS
        until = self.clock() + (delay if delay is not None else DEFAULT_PARK_SECONDS)
        if category == AUTHENTICATION:
            reason = f"{LOST}: {error}"
            self._connection_lost(org, error)
        else:
            resumes = datetime.fromtimestamp(until, UTC).strftime("%H:%M UTC")
            reason = f"Xero daily limit reached; resumes at {resumes}"
            log.warning("organisation %s: %s", org, reason)
        with self._guard:
            self.parked[org] = (until, reason)
        if self.org_state is not None and category != AUTHENTICATION:
            self.org_state.park(org, until, reason)
        return until

    def _connection_lost(self, org: str, error: str) -> None:
        """Record that Xero no longer accepts this organisation's connection; its documents
        wait (Pending) until someone runs ``syncledger connect`` again."""
        try:
            self.ledger.disconnect(org, f"{LOST}: {error}")
        except DomainError:
            return
        log.error(
            "organisation %s: Xero connection lost (%s); run `syncledger connect %s`",
            org,
            error,
            org,
        )

    def _defer(self, message: Message, seconds: float, reason: str) -> None:
        self.store.defer(message.id, self.clock() + seconds)
        self.report.count("deferred")
        log.info("deferred %s (%s) %.0f s: %s", message.doc_id, message.operation, seconds, reason)

    def _log(
        self, message: Message, reference: str, calls: list[CallRecord], seconds: float
    ) -> None:
        last = calls[-1] if calls else None
        log.info(
            "delivery org=%s doc=%s op=%s calls=%d xero_status=%s duration_ms=%.0f",
            message.org,
            reference,
            message.operation,
            len(calls),
            last.status if last else "-",
            seconds * 1000,
        )


def calls_for(calls: list[CallRecord], doc: str) -> list[dict[str, Any]]:
    """The calls as one document's history records them: only calls that carried something of
    it, each with only its own part of the request and of Xero's answer (and the batch's size);
    secrets are redacted."""
    return [redact(record) for record in views(calls, doc)]
