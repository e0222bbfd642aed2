"""The relay's courier: delivers one batch of messages (one organisation, one operation) to
Xero. It loads the documents and their organisation, calls Xero at the organisation's and the
app's pace (one contact lookup at a time per customer), and passes what came of it to the
outcome recorder; each delivery is logged with its calls, Xero's last status and its duration.

``deliver`` is the relay's per-message boundary, the one place that catches broadly: whatever
goes wrong with one document is logged with its id, recorded as a failure where it belongs to the
document, and the relay moves on to the next.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from uuid import UUID

from domain.customer import customer_key
from domain.errors import DomainError
from domain.ledger import SyncLedger
from domain.opensolar import Customer as CustomerFields
from domain.vocabulary import FailureCategory
from outbox.delivery import Delivery, Item, Outcome, XeroFacts
from outbox.limits import Budgets, PacingStoppedError
from outbox.relay.outcomes import OutcomeRecorder
from outbox.relay.settings import NOT_CONNECTED_RETRY_SECONDS, ClientFactory, RelaySettings
from outbox.retry import category_of
from outbox.store import Message, OutboxStore
from outbox.xero import CallRecord, Limits, XeroError

log = logging.getLogger("syncledger.relay")

Done = Callable[[list[Message], dict[int, Outcome], list[CallRecord], str | None], None]
"""Records the outcomes of a delivery that ran to its end (messages, outcomes, calls, tenant)."""


class Courier:
    """Delivers batches of messages to Xero, one batch per call of ``deliver``."""

    def __init__(
        self,
        ledger: SyncLedger,
        store: OutboxStore,
        clients: ClientFactory,
        budgets: Budgets,
        recorder: OutcomeRecorder,
        settings: RelaySettings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.ledger = ledger
        self.store = store
        self.clients = clients
        self.budgets = budgets
        self.recorder = recorder
        self.settings = settings
        self.clock = clock
        self.stop = threading.Event()
        """Set when the relay stops: calls not yet made are not made."""
        self.facts = XeroFacts()
        """What this relay knows of each Xero organisation's settings (currencies, taxes)."""
        self._guard = threading.Lock()
        self._customer_locks: dict[tuple[str, str], threading.Lock] = {}

    @contextmanager
    def customer_lock(self, org: str, customer: CustomerFields) -> Iterator[None]:
        """One contact lookup or creation at a time per customer (no duplicate contacts)."""
        key = (org, customer_key(customer))
        with self._guard:
            lock = self._customer_locks.setdefault(key, threading.Lock())
        with lock:
            yield

    def deliver(self, messages: list[Message], done: Done) -> None:
        """Deliver ``messages`` (the first one's organisation and operation); failures are
        recorded here, and the outcomes of a delivery that ran to its end are given to ``done``."""
        calls: list[CallRecord] = []
        started = time.perf_counter()
        first = messages[0]
        references: dict[int, str] = {m.id: m.doc_id for m in messages}
        tenant: str | None = None
        reach = self.recorder.report.reach
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
                    self.recorder.defer(
                        message, NOT_CONNECTED_RETRY_SECONDS, "organisation not connected"
                    )
                reach.not_connected(first.org, len(messages))
                return
            reach.connected_again(first.org)
            tenant = connection.tenant_id
            pacer = self.budgets.pacer(first.org, self.stop)

            def observe(seen: Limits) -> None:
                self.budgets.seen(first.org, seen, self.clock())
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
            reach.note(first.org, calls, category, str(exc))
            for message in messages:
                self.recorder.failed(message, category, str(exc), retry_after, calls)
        except (DomainError, ValueError, KeyError, TypeError, LookupError) as exc:
            log.exception(
                "internal error delivering %s (%s)", references[first.id], first.operation
            )
            self._failed_inside(messages, f"internal error: {exc}", calls)
        except Exception as exc:
            log.exception(
                "unexpected error delivering %s (%s)", references[first.id], first.operation
            )
            self._failed_inside(messages, f"internal error: {type(exc).__name__}: {exc}", calls)
        else:
            reach.note(first.org, calls)
            done(messages, outcomes, calls, tenant)
        finally:
            elapsed = time.perf_counter() - started
            for message in messages:
                _log(message, references[message.id], calls, elapsed)

    def _failed_inside(self, messages: list[Message], error: str, calls: list[CallRecord]) -> None:
        for message in messages:
            self.recorder.failed(message, FailureCategory.INTERNAL, error, None, calls)


def _log(message: Message, reference: str, calls: list[CallRecord], seconds: float) -> None:
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
