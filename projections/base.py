"""Following the ledger's log: a reader over the notification log, the shell every projection
shares (``StoredProjection`` over a ``ProjectionStore``) and the catch-up loop.

Every projection (the status table, the audit index, the outbox writer) keeps its own position in
its own tracking table, written in the same transaction as its rows, so a crash between two
batches re-applies nothing and skips nothing. A batch is read after the stored position with
``inclusive_of_start=False``: notification ids may have gaps (PostgreSQL) and are never assumed
contiguous. A projection itself is only its fold: how one batch of events changes its rows.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from eventsourcing.application import Application

DEFAULT_BATCH = 1000


@dataclass(frozen=True)
class Recorded:
    """One event from the log with its position (notification id)."""

    position: int
    topic: str
    event: Any


class LogReader(Protocol):
    """Reads the ledger's totally ordered log."""

    def read(
        self, after: int, limit: int, wanted: Callable[[str], bool] | None = None
    ) -> Sequence[Recorded]:
        """Up to ``limit`` events after position ``after`` (events whose topic is not
        ``wanted`` come back with ``event=None``, so positions still advance)."""

    def head(self) -> int:
        """The position of the newest event in the log (0 when empty)."""


class LedgerLog:
    """A ``LogReader`` over an eventsourcing application's notification log."""

    def __init__(self, app: Application[Any]) -> None:
        self.app = app

    def read(
        self, after: int, limit: int, wanted: Callable[[str], bool] | None = None
    ) -> Sequence[Recorded]:
        notifications = self.app.recorder.select_notifications(
            start=after, limit=limit, inclusive_of_start=False
        )
        to_event = self.app.mapper.to_domain_event
        return [
            Recorded(
                n.id,
                n.topic,
                to_event(n) if wanted is None or wanted(n.topic) else None,
            )
            for n in notifications
        ]

    def head(self) -> int:
        return self.app.recorder.max_notification_id() or 0


class Projection(ABC):
    """A projection of the log into tables of its own, with its own tracked position."""

    name: str = ""

    @abstractmethod
    def process_batch(self, log: LogReader, limit: int) -> int:
        """Apply the next batch after the stored position, in one transaction; return its size."""

    @abstractmethod
    def position(self) -> int:
        """The position this projection has applied up to (0 when empty)."""

    @abstractmethod
    def reset(self) -> None:
        """Drop every row and the position, ready for a rebuild from the start of the log."""


class PositionedBatch(Protocol):
    """A projection transaction that knows the position it holds."""

    position: int


B = TypeVar("B", bound=PositionedBatch)


def apply_next_batch(
    position: Callable[[], int],
    batch: Callable[[], AbstractContextManager[B]],
    log: LogReader,
    limit: int,
    apply: Callable[[B, Sequence[Recorded]], None],
    wanted: Callable[[str], bool] | None = None,
) -> int:
    """Read the next batch of the log, then apply it in one write transaction; return its size.

    The log is read before the transaction starts: holding our write lock while waiting on the
    ledger's own connections could deadlock with a ledger writer waiting on ours. If another
    process moved the position meanwhile, the batch is read again from there."""
    while True:
        start = position()
        recorded = log.read(start, limit, wanted)
        if not recorded:
            return 0
        with batch() as held:
            if held.position != start:
                continue
            apply(held, recorded)
            return len(recorded)


class ProjectionStore(ABC, Generic[B]):
    """Where a projection's rows and position live (one implementation per backend)."""

    @abstractmethod
    def batch(self) -> AbstractContextManager[B]:
        """A transaction that holds the projection's position exclusively."""

    @abstractmethod
    def position(self) -> int:
        """The position the stored rows are up to (0 when empty)."""

    @abstractmethod
    def reset(self) -> None:
        """Delete every row and the position."""


S = TypeVar("S", bound=ProjectionStore[Any])


class StoredProjection(Projection, Generic[S, B]):
    """A projection whose rows and position live in a ``ProjectionStore`` (``S``, whose batches
    are ``B``): a subclass gives only its ``fold`` (and ``wanted``, to leave the events it
    ignores undecoded)."""

    wanted: Callable[[str], bool] | None = None
    """Which event topics the fold reads (None: every one)."""

    def __init__(self, store: S) -> None:
        self.store = store

    def position(self) -> int:
        return self.store.position()

    def reset(self) -> None:
        self.store.reset()

    def process_batch(self, log: LogReader, limit: int) -> int:
        return apply_next_batch(
            self.store.position, self.store.batch, log, limit, self.fold, self.wanted
        )

    @abstractmethod
    def fold(self, batch: B, recorded: Sequence[Recorded]) -> None:
        """Apply a batch of the log inside ``batch`` and move the position to its last event."""


def catch_up(
    projection: Projection,
    log: LogReader,
    *,
    batch: int = DEFAULT_BATCH,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Bring ``projection`` up to the end of the log; return how many events it applied."""
    applied = 0
    while True:
        count = projection.process_batch(log, batch)
        if count == 0:
            return applied
        applied += count
        if progress is not None:
            progress(count)
