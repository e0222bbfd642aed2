"""The shell every projection shares (``StoredProjection``), driven with an in-memory store and
log: batches are folded in one transaction each, the position only moves forward, a batch read
before another process moved the position is read again, and ignored topics stay undecoded."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from domain.vocabulary import DocumentKind, Status
from projections.audit import KINDS, CallResult
from projections.audit_table import SQLAuditStore
from projections.base import (
    ProjectionStore,
    Recorded,
    StoredProjection,
    catch_up,
)
from projections.status import STATUSES
from projections.status_table import SQLStatusStore


@dataclass
class FakeBatch:
    position: int
    folded: list[Recorded] = field(default_factory=list)


class FakeStore(ProjectionStore[FakeBatch]):
    """Rows are the events folded so far; ``moved_by_other`` moves the position once, as a
    second process would between our read of the log and our transaction."""

    def __init__(self) -> None:
        self.stored = 0
        self.rows: list[Recorded] = []
        self.transactions = 0
        self.moved_by_other: int | None = None

    @contextmanager
    def batch(self) -> Iterator[FakeBatch]:
        self.transactions += 1
        if self.moved_by_other is not None:
            self.stored, self.moved_by_other = self.moved_by_other, None
        held = FakeBatch(self.stored)
        yield held
        self.rows.extend(held.folded)
        self.stored = held.position

    def position(self) -> int:
        return self.stored

    def reset(self) -> None:
        self.stored = 0
        self.rows.clear()


class FakeLog:
    def __init__(self, topics: Sequence[str]) -> None:
        self.topics = list(topics)

    def read(
        self, after: int, limit: int, wanted: Callable[[str], bool] | None = None
    ) -> Sequence[Recorded]:
        chosen = list(enumerate(self.topics, start=1))[after : after + limit]
        return [
            Recorded(p, t, f"event {p}" if wanted is None or wanted(t) else None) for p, t in chosen
        ]

    def head(self) -> int:
        return len(self.topics)


class Folding(StoredProjection[FakeStore, FakeBatch]):
    name = "folding"

    def fold(self, batch: FakeBatch, recorded: Sequence[Recorded]) -> None:
        batch.folded.extend(recorded)
        batch.position = recorded[-1].position


def only_a(topic: str) -> bool:
    return topic.startswith("a")


class Choosy(Folding):
    wanted = staticmethod(only_a)


def test_catch_up_folds_each_batch_in_one_transaction_and_moves_the_position():
    store = FakeStore()
    projection = Folding(store)

    applied = catch_up(projection, FakeLog(["a1", "b2", "a3", "b4", "a5"]), batch=2)

    assert applied == 5
    assert projection.position() == 5
    assert [r.position for r in store.rows] == [1, 2, 3, 4, 5]
    assert store.transactions == 3


def test_a_projection_at_the_end_of_the_log_applies_nothing():
    store = FakeStore()
    projection = Folding(store)
    log = FakeLog(["a1"])
    catch_up(projection, log)

    assert projection.process_batch(log, 10) == 0
    assert store.transactions == 1


def test_a_batch_read_before_another_process_moved_the_position_is_read_again():
    store = FakeStore()
    store.moved_by_other = 2
    projection = Folding(store)

    count = projection.process_batch(FakeLog(["a1", "a2", "a3"]), 10)

    assert count == 1
    assert [r.position for r in store.rows] == [3]
    assert projection.position() == 3


def test_topics_a_projection_does_not_want_come_undecoded_but_still_move_the_position():
    store = FakeStore()
    projection = Choosy(store)

    catch_up(projection, FakeLog(["a1", "b2", "a3"]))

    assert [r.event for r in store.rows] == ["event 1", None, "event 3"]
    assert projection.position() == 3


def test_reset_goes_back_to_the_start_of_the_log():
    store = FakeStore()
    projection = Folding(store)
    log = FakeLog(["a1", "a2"])
    catch_up(projection, log)

    projection.reset()

    assert projection.position() == 0
    assert catch_up(projection, log) == 2


def test_statuses_keep_their_words_and_order_as_plain_text():
    assert STATUSES == ("Synced", "Pending", "Not Attempted", "Failed")
    assert all(type(s) is str for s in STATUSES)
    assert tuple(Status) == (Status.SYNCED, Status.PENDING, Status.NOT_ATTEMPTED, Status.FAILED)


def test_audit_kinds_are_plain_text_for_the_command_line():
    assert KINDS == ("invoice", "payment", "organisation", "customer")
    assert all(type(k) is str for k in KINDS)
    assert KINDS[:2] == tuple(DocumentKind)
    assert [r.value for r in CallResult] == ["synced", "failed", "retrying", "deferred", "skipped"]


def test_each_store_declares_every_table_it_creates_with_its_tracking_table():
    assert SQLStatusStore.TABLES == ("status_documents", "status_organisations", "status_tracking")
    assert SQLAuditStore.TABLES == (
        "audit_aggregates",
        "audit_events",
        "audit_calls",
        "audit_failures",
        "audit_timings",
        "audit_xero_ids",
        "audit_tracking",
    )
    for store in (SQLStatusStore, SQLAuditStore):
        assert store.tracking in store.TABLES
