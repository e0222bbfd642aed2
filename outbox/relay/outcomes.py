"""The relay's outcome recorder: what became of each delivery, recorded in the ledger (done,
failed, skipped, waiting) and noted in the outbox so the relay need not wait for the writer;
failures decided by the retry policy (retry later, give up, pause the organisation for a rate
limit, or park it: daily limit reached, connection lost); deliveries put off (deferred).

``Parking`` holds the organisations that wait until a moment has passed, shared by the loop
(which claims nothing of theirs) and the recorder (which parks them).
"""

from __future__ import annotations

import dataclasses
import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from domain.errors import DomainError
from domain.ledger import Resolution, SyncLedger
from domain.redaction import redact, redact_text
from domain.vocabulary import FailureCategory
from outbox.delivery import Outcome, Refused, Skipped, Stale, Succeeded, Waiting
from outbox.limits import SlidingWindow
from outbox.orgstate import OrgStates
from outbox.reach import LOST
from outbox.relay.settings import (
    AGAIN_SECONDS,
    AUTH_PARK_SECONDS,
    DEFAULT_PARK_SECONDS,
    WAIT_RETRY_SECONDS,
    RelayReport,
)
from outbox.retry import RetryPolicy
from outbox.store import Message, MessageState, OutboxStore
from outbox.xero import CallRecord, views

log = logging.getLogger("syncledger.relay")


def calls_for(calls: list[CallRecord], doc: str) -> list[dict[str, Any]]:
    """The calls as one document's history records them: only calls that carried something of
    it, each with only its own part of the request and of Xero's answer (and the batch's size);
    secrets are redacted."""
    return [redact(record) for record in views(calls, doc)]


class Parking:
    """Organisations that wait until a moment has passed (kept in the org state too, but for
    a lost connection, which waits for ``syncledger connect``)."""

    def __init__(self, org_state: OrgStates | None, clock: Callable[[], float] = time.time) -> None:
        self.org_state = org_state
        self.clock = clock
        self.parked: dict[str, tuple[float, str]] = {}
        """Per organisation: until when it waits, and why."""
        self._lock = threading.Lock()

    def restore(self) -> None:
        """Take up the organisations parked by earlier runs (or other relays)."""
        if self.org_state is not None:
            self.parked.update(self.org_state.parked(self.clock()))

    def park(self, org: str, until: float, reason: str, *, shared: bool) -> None:
        """``org`` waits until ``until``; ``shared`` also tells the other relays and ``status``."""
        with self._lock:
            self.parked[org] = (until, reason)
        if shared and self.org_state is not None:
            self.org_state.park(org, until, reason)

    def orgs(self) -> tuple[str, ...]:
        """Organisations that wait now (those whose moment has passed no longer do)."""
        now = self.clock()
        with self._lock:
            for org, (until, _reason) in list(self.parked.items()):
                if until <= now:
                    del self.parked[org]
                    if self.org_state is not None:
                        self.org_state.unpark(org)
            return tuple(sorted(self.parked))


class OutcomeRecorder:
    """Records the outcome of each delivery in the ledger and the outbox, and counts it."""

    def __init__(
        self,
        ledger: SyncLedger,
        store: OutboxStore,
        parking: Parking,
        window: Callable[[str], SlidingWindow],
        *,
        policy: RetryPolicy | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.ledger = ledger
        self.store = store
        self.parking = parking
        self.window = window
        """The organisation's call window, paused for a rate limit."""
        self.policy = policy or RetryPolicy()
        self.rng = rng or random.Random()
        self.clock = clock
        self.report = RelayReport()

    def done(
        self,
        messages: list[Message],
        outcomes: dict[int, Outcome],
        calls: list[CallRecord],
        tenant: str | None,
    ) -> None:
        """Record what the delivery of ``messages`` came to, message by message (the final
        ones in one ledger transaction)."""
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
                settled.append((message.id, MessageState.DONE))
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
                settled.append((message.id, MessageState.FAILED))
                self.report.count("failed")
            elif isinstance(outcome, Skipped):
                resolutions.append(dataclasses.replace(base, skipped=outcome.reason))
                settled.append((message.id, MessageState.DROPPED))
                self.report.count("skipped")
                log.info("skipped %s (%s): %s", message.doc_id, message.operation, outcome.reason)
            elif isinstance(outcome, Waiting):
                self._waiting(message, outcome, records)
            elif isinstance(outcome, Stale) or outcome is None:
                self.store.drop(message.id)
                self.report.count("skipped")
        if resolutions:
            self.ledger.record_resolutions(resolutions)
            self.store.settle_many(settled)

    def _waiting(self, message: Message, outcome: Waiting, records: list[dict[str, Any]]) -> None:
        if records:
            self.ledger.record_deferral(
                UUID(message.doc_id),
                message.operation,
                message.request_version,
                outcome.reason,
                records,
            )
        if outcome.on is None:
            self.defer(message, outcome.seconds or WAIT_RETRY_SECONDS, outcome.reason)
        elif self.store.wait_for(message.id, outcome.on):
            self.report.count("deferred")
            log.info("%s (%s) %s", message.doc_id, message.operation, outcome.reason)
        else:  # what it waited for arrived meanwhile: look again at once
            self.defer(message, AGAIN_SECONDS, outcome.reason)

    def failed(
        self,
        message: Message,
        category: FailureCategory,
        error: str,
        retry_after: float | None,
        calls: list[CallRecord],
    ) -> None:
        """Record a failed attempt as the retry policy decides: on the document (to retry at
        a time, or final), or, when it is not the document's doing, only put off."""
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
                until = self.park(message.org, category, decision.delay, error)
                self.defer(message, max(1.0, until - now), error)
            else:
                delay = decision.delay or 1.0
                self.window(message.org).pause(delay)
                self.defer(message, delay, error)
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
            self.store.settle(message.id, MessageState.FAILED)
        elif retry_at is not None:
            uncertain = category == FailureCategory.UNCERTAIN
            self.store.settle(message.id, None, retry_at.timestamp(), uncertain=uncertain)
        self.report.count("failed" if decision.final else "retrying")

    def park(self, org: str, category: FailureCategory, delay: float | None, error: str) -> float:
        """Park the whole organisation (daily limit reached, or Xero refused the connection:
        then also record it disconnected); return until when."""
        lost = category == FailureCategory.AUTHENTICATION
        if lost:
            delay = AUTH_PARK_SECONDS
        until = self.clock() + (delay if delay is not None else DEFAULT_PARK_SECONDS)
        if lost:
            reason = f"{LOST}: {error}"
            self.connection_lost(org, error)
        else:
            resumes = datetime.fromtimestamp(until, UTC).strftime("%H:%M UTC")
            reason = f"Xero daily limit reached; resumes at {resumes}"
            log.warning("organisation %s: %s", org, reason)
        self.parking.park(org, until, reason, shared=not lost)
        return until

    def connection_lost(self, org: str, error: str) -> None:
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

    def defer(self, message: Message, seconds: float, reason: str) -> None:
        """Do not offer ``message`` again for ``seconds``."""
        self.store.defer(message.id, self.clock() + seconds)
        self.report.count("deferred")
        log.info("deferred %s (%s) %.0f s: %s", message.doc_id, message.operation, seconds, reason)
