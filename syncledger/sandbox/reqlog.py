"""The request log: every API and identity request in arrival order, for tests to inspect.

Entries are appended when a request arrives (so `at` and the order are arrival order) and
completed when it is answered: status (None when the connection was closed without an answer),
idempotency key, tenant, whether the answer was an idempotent replay, and any injected fault.
The log keeps the most recent `capacity` entries.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

DEFAULT_CAPACITY = 200_000


@dataclass(slots=True)
class LogEntry:
    """One logged request."""

    seq: int
    at: float
    method: str
    path: str
    query: str
    idempotency_key: str | None
    tenant: str | None = None
    client_id: str | None = None
    status: int | None = None
    replayed: bool = False
    fault: str | None = None
    duration_ms: float | None = None

    def as_json(self) -> dict[str, Any]:
        """The entry as the requests endpoint returns it."""
        return {
            "seq": self.seq,
            "at": self.at,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "idempotency_key": self.idempotency_key,
            "tenant": self.tenant,
            "client_id": self.client_id,
            "replayed": self.replayed,
            "fault": self.fault,
            "duration_ms": self.duration_ms,
        }


class RequestLog:
    """A bounded, thread-safe log of requests."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._lock = threading.Lock()
        self._entries: deque[LogEntry] = deque(maxlen=capacity)
        self._seq = 0

    def start(
        self, method: str, path: str, query: str, idempotency_key: str | None, at: float
    ) -> LogEntry:
        """Append an entry for an arriving request."""
        with self._lock:
            self._seq += 1
            entry = LogEntry(self._seq, at, method, path, query, idempotency_key)
            self._entries.append(entry)
            return entry

    def entries(self, tenant: str | None = None) -> list[dict[str, Any]]:
        """Logged requests, oldest first, optionally only those of one tenant."""
        with self._lock:
            chosen = [e for e in self._entries if tenant is None or e.tenant == tenant]
            return [e.as_json() for e in chosen]

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()
