"""What the audit index's queries take and return: a time window, an event filter, failure
groups, delivery timings and the documents the index knows.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Window:
    """A time window ``[since, until)`` as stamps (None: unbounded)."""

    since: str | None = None
    until: str | None = None


@dataclass(frozen=True)
class EventFilter:
    """Which events a query returns."""

    org: str | None = None
    aggregate_id: str | None = None
    kinds: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    email: str | None = None
    window: Window = field(default_factory=Window)


@dataclass(frozen=True)
class FailureGroup:
    """Failures sharing one message."""

    message: str
    category: str
    failures: int
    final: int
    documents: int
    first_seen: str
    last_seen: str


@dataclass(frozen=True)
class TimingStats:
    """Durations (milliseconds) of one kind of delivery."""

    operation: str
    count: int
    median: float | None
    p95: int | None
    max: int | None


@dataclass(frozen=True)
class DocumentRef:
    """A document of the ledger, as the audit index knows it."""

    aggregate_id: str
    kind: str
    org: str | None
    document: str | None
    number: str
    invoice_doc: str | None
    group_key: str
