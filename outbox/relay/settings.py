"""What the relay is given and what it reports: its pacing settings, the factory of Xero
clients it calls through, the report of one run, and the fixed waits it applies."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from domain.organisation import Organisation
from outbox.reach import Reach
from outbox.xero import CallRecord, Limits, XeroClient

WAIT_RETRY_SECONDS = 30.0
"""How long a delivery that waits for something else is put off, when it names no time."""
AGAIN_SECONDS = 0.5
"""How soon a delivery is looked at again when what it waited for arrived meanwhile."""
NOT_CONNECTED_RETRY_SECONDS = 60.0
DEFAULT_PARK_SECONDS = 3600.0
AUTH_PARK_SECONDS = 30.0
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
