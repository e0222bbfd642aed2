"""The relay: claims due outbox messages, delivers them to Xero, and records each outcome back
into the ledger as an event. The ledger, not the outbox, is the record: a message is finished by
the outbox writer when it sees the outcome in the log.

The per-message boundary in ``deliver_one`` is the one place that catches broadly: whatever goes
wrong with one document is logged with its id, recorded as a failure where it belongs to the
document, and the relay moves on to the next.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from domain.errors import DomainError
from domain.ledger import SyncLedger
from domain.organisation import Organisation
from outbox.delivery import Delivery, Refused, Skipped, Succeeded, Waiting
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
from outbox.store import Message, OutboxStore
from outbox.xero import (
    CallRecord,
    XeroAuthError,
    XeroClient,
    XeroError,
    XeroRateLimitError,
    XeroTransientError,
)
from projections.base import LogReader, Projection, catch_up

log = logging.getLogger("syncledger.relay")

ClientFactory = Callable[[Organisation, Callable[[CallRecord], None]], XeroClient]
"""Builds a Xero client for an organisation's connection, reporting each call to a callback."""

WAIT_RETRY_SECONDS = 30.0
NOT_CONNECTED_RETRY_SECONDS = 60.0


@dataclass(frozen=True)
class RelaySettings:
    """How the relay paces itself."""

    lease_seconds: float = 300.0
    poll_interval: float = 0.25
    idle_max_wait: float = 900.0


@dataclass
class RelayReport:
    """What one run of the relay did."""

    delivered: int = 0
    failed: int = 0
    retrying: int = 0
    skipped: int = 0
    deferred: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


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
    """Delivers the outbox to Xero, one message at a time."""

    def __init__(
        self,
        ledger: SyncLedger,
        store: OutboxStore,
        writer: Projection,
        log_reader: LogReader,
        clients: ClientFactory,
        *,
        followers: Sequence[Projection] = (),
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
        self.policy = policy or RetryPolicy()
        self.settings = settings or RelaySettings()
        self.owner = owner
        self.clock = clock
        self.rng = rng or random.Random()
        self.parked: dict[str, tuple[float, str]] = {}
        self.report = RelayReport()

    # loop -------------------------------------------------------------------------------------

    def catch_up(self) -> None:
        """Bring the outbox (and the other projections this process keeps fresh) up to date."""
        catch_up(self.writer, self.log_reader)
        for follower in self.followers:
            catch_up(follower, self.log_reader)

    def parked_orgs(self) -> tuple[str, ...]:
        """Organisations that wait (daily limit, lost connection) until a moment has passed."""
        now = self.clock()
        for org, (until, _reason) in list(self.parked.items()):
            if until <= now:
                del self.parked[org]
        return tuple(sorted(self.parked))

    def run(self, *, until_idle: bool = False, stop: threading.Event | None = None) -> RelayReport:
        """Deliver until stopped (or, with ``until_idle``, until nothing is left to do now)."""
        stop = stop or threading.Event()
        self.report = RelayReport()
        released = self.store.release_all(self.owner)
        if released:
            log.info("released %d claims left by an earlier run of %s", released, self.owner)
        while not stop.is_set():
            if self.deliver_one():
                continue
            wait = self.settings.poll_interval
            if until_idle:
                due = self.store.next_due(self.parked_orgs())
                if due is None:
                    break
                wait = due - self.clock()
                if wait > self.settings.idle_max_wait:
                    log.info("next retry is due in %.0f s; stopping (until idle)", wait)
                    break
                wait = max(0.0, min(wait, 5.0))
            stop.wait(wait)
        return self.report

    def deliver_one(self) -> bool:
        """Claim and deliver one due message; False if none is due."""
        self.catch_up()
        message = self.store.claim(
            self.owner, self.clock(), self.settings.lease_seconds, self.parked_orgs()
        )
        if message is None:
            return False
        try:
            self._deliver(message)
        finally:
            self.store.release(message.id, self.owner)
        catch_up(self.writer, self.log_reader)
        return True

    # one message ------------------------------------------------------------------------------

    def _deliver(self, message: Message) -> None:
        calls: list[CallRecord] = []
        started = time.perf_counter()
        delivery: Delivery | None = None
        try:
            document = self.ledger.document(UUID(message.doc_id))
            org = self.ledger.organisation(document.org_id)
            connection = org.connection if org is not None else None
            if org is None or connection is None:
                self._defer(message, NOT_CONNECTED_RETRY_SECONDS, "organisation not connected")
                return
            client = self.clients(org, calls.append)
            delivery = Delivery(self.ledger, client, connection.tenant_id)
            outcome = delivery.run(message, document, org)
        except XeroError as exc:
            category, retry_after = category_of(exc)
            self._failed(message, category, str(exc), retry_after, calls, delivery)
        except (DomainError, ValueError, KeyError, TypeError, LookupError) as exc:
            log.exception("internal error delivering %s (%s)", message.doc_id, message.operation)
            self._failed(message, INTERNAL, f"internal error: {exc}", None, calls, delivery)
        except Exception as exc:
            log.exception("unexpected error delivering %s (%s)", message.doc_id, message.operation)
            self._failed(
                message,
                INTERNAL,
                f"internal error: {type(exc).__name__}: {exc}",
                None,
                calls,
                delivery,
            )
        else:
            self._done(message, outcome, calls)
        finally:
            self._log(message, calls, time.perf_counter() - started)

    def _done(self, message: Message, outcome: Any, calls: list[CallRecord]) -> None:
        doc_id = UUID(message.doc_id)
        records = [c.as_dict() for c in calls]
        if isinstance(outcome, Succeeded):
            self.ledger.record_success(
                doc_id,
                message.operation,
                message.request_version,
                outcome.xero_id,
                outcome.sent,
                outcome.detail,
                records,
                contact=outcome.contact,
            )
            self.report.delivered += 1
            self.report.count("synced")
        elif isinstance(outcome, Refused):
            self.ledger.record_failure(
                doc_id,
                message.operation,
                message.request_version,
                outcome.error,
                outcome.category,
                final=True,
                retry_at=None,
                calls=records,
            )
            self.report.failed += 1
            self.report.count("failed")
        elif isinstance(outcome, Waiting):
            self._defer(message, WAIT_RETRY_SECONDS, outcome.reason)
        elif isinstance(outcome, Skipped):
            catch_up(self.writer, self.log_reader)
            self.store.drop(message.id)
            self.report.skipped += 1
            self.report.count("skipped")
            log.info("skipped %s (%s): %s", message.doc_id, message.operation, outcome.reason)

    def _failed(
        self,
        message: Message,
        category: str,
        error: str,
        retry_after: float | None,
        calls: list[CallRecord],
        delivery: Delivery | None,
    ) -> None:
        attempt = message.attempts + 1
        decision = self.policy.decide(category, error, attempt, self.rng.random(), retry_after)
        now = self.clock()
        if decision.park:
            until = now + (decision.delay if decision.delay is not None else 3600.0)
            org = message.org
            self.parked[org] = (until, error)
            self._defer(message, until - now, error)
            if category == AUTHENTICATION:
                self._connection_lost(org, error)
            else:
                log.warning("organisation %s parked until %s: %s", org, _utc(until), error)
            return
        if not decision.record:
            self._defer(message, decision.delay or 1.0, error)
            return
        retry_at = None
        if not decision.final and decision.delay is not None:
            retry_at = datetime.fromtimestamp(now, UTC) + timedelta(seconds=decision.delay)
        self.ledger.record_failure(
            UUID(message.doc_id),
            message.operation,
            message.request_version,
            decision.error,
            category,
            final=decision.final,
            retry_at=retry_at,
            calls=[c.as_dict() for c in calls],
            contact=delivery.contact if delivery is not None else None,
        )
        if decision.final:
            self.report.failed += 1
            self.report.count("failed")
        else:
            self.report.retrying += 1
            self.report.count("retrying")

    def _connection_lost(self, org: str, error: str) -> None:
        """Record that Xero no longer accepts this organisation's connection; its documents
        wait (Pending) until someone runs ``syncledger connect`` again."""
        try:
            self.ledger.disconnect(org, f"Xero connection lost: {error}")
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
        self.report.deferred += 1
        log.info("deferred %s (%s) %.0f s: %s", message.doc_id, message.operation, seconds, reason)

    def _log(self, message: Message, calls: list[CallRecord], seconds: float) -> None:
        last = calls[-1] if calls else None
        log.info(
            "delivery org=%s doc=%s op=%s calls=%d xero_status=%s duration_ms=%.0f",
            message.org,
            message.doc_id,
            message.operation,
            len(calls),
            last.status if last else "-",
            seconds * 1000,
        )


def _utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")
