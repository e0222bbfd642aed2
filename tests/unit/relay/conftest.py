"""A relay with nothing real under it: the ledger in memory (eventsourcing's POPO), the outbox,
leases and organisation state in memory, a clock the test moves, and Xero answering as a dry
run does unless told to fail. Everything runs in milliseconds."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from domain.ledger import SyncLedger
from domain.opensolar import parse_change_object
from domain.organisation import Organisation
from outbox.dryrun import DryRunXero
from outbox.memory import MemoryLeases, MemoryOrgStates, MemoryOutboxStore
from outbox.relay import Relay, RelaySettings
from outbox.retry import RetryPolicy
from outbox.store import Message
from outbox.writer import OutboxWriter
from outbox.xero import CallRecord
from projections.base import LedgerLog, Projection, catch_up

START = 1_800_000_000.0  # 2027-01-15 08:00 UTC


class FakeClock:
    """Epoch seconds that move only when the test says so."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class FakeXero:
    """A client factory: its clients answer as the dry run does (nothing found, every create
    accepted), after raising the failures scripted for their organisation, one per call."""

    failures: dict[str, list[Exception]] = field(default_factory=dict)
    calls: list[tuple[str, str, str]] = field(default_factory=list)

    def fail(self, org: str, *errors: Exception) -> None:
        self.failures.setdefault(org, []).extend(errors)

    def __call__(self, org: Organisation, on_call: Any, on_limits: Any = None, pace: Any = None):
        assert org.connection is not None
        return _Client(self, org.org_id, org.connection.tenant_id, on_call)


class _Client(DryRunXero):
    def __init__(self, xero: FakeXero, org: str, tenant: str, on_call: Any) -> None:
        super().__init__(tenant, lambda _line: None)
        self.xero, self.org, self.on_call = xero, org, on_call

    def _call(self, operation: str, method: str, path: str, **kwargs: Any) -> Any:
        self.xero.calls.append((self.org, method, path))
        failures = self.xero.failures.get(self.org)
        if failures:
            error = failures.pop(0)
            self.on_call(
                CallRecord(operation, method, path, None, {}, status=getattr(error, "status", None))
            )
            raise error
        answer = super()._call(operation, method, path, **kwargs)
        self.on_call(CallRecord(operation, method, path, None, {}, status=200))
        return answer


@dataclass
class World:
    """The ledger, the in-memory outbox and its neighbours, and relays built over them."""

    clock: FakeClock = field(default_factory=FakeClock)
    ledger: SyncLedger = field(default_factory=SyncLedger)
    store: MemoryOutboxStore = field(default_factory=MemoryOutboxStore)
    org_states: MemoryOrgStates = field(default_factory=MemoryOrgStates)
    xero: FakeXero = field(default_factory=FakeXero)
    leases: MemoryLeases = field(init=False)

    def __post_init__(self) -> None:
        self.leases = MemoryLeases(self.store)
        self.writer = OutboxWriter(self.store)
        self.log = LedgerLog(self.ledger)

    def connect(self, org: str = "42") -> None:
        """Connect ``org`` to Xero, with every mapping its documents need."""
        self.ledger.connect(
            org, "http://xero.invalid", f"tenant-{org}", datetime(2026, 11, 1, tzinfo=UTC), "manual"
        )
        for category in ("sales", "discounts"):
            self.ledger.map_account(org, category, "200")
        self.ledger.map_tax(org, "GST", "OUTPUT")
        self.ledger.set_payment_account(org, "090")

    def ingest(self, *changes: Mapping[str, Any]) -> None:
        self.ledger.ingest([parse_change_object(dict(c)) for c in changes])
        catch_up(self.writer, self.log)

    def relay(
        self,
        owner: str = "relay",
        *,
        leased: bool = False,
        writer: Projection | None = None,
        xero: FakeXero | None = None,
        **settings: Any,
    ) -> Relay:
        return Relay(
            self.ledger,
            self.store,
            writer or self.writer,
            self.log,
            xero or self.xero,
            org_state=self.org_states,
            leases=self.leases if leased else None,
            exclusive=not leased,
            policy=RetryPolicy(max_attempts=3, base_delay=10.0, max_delay=60.0, jitter=0.0),
            settings=RelaySettings(**{"workers": 2, "idle_max_wait": 0.0, **settings}),
            owner=owner,
            clock=self.clock,
            rng=random.Random(7),
        )

    def messages(self, org: str | None = None) -> list[Message]:
        return [m for m in self.store.messages() if org in (None, m.org)]

    def document(self, message: Message) -> Any:
        return self.ledger.document(UUID(message.doc_id))


@pytest.fixture
def world() -> World:
    return World()
