"""The outbox's port: messages (one per requested Xero delivery) and the claims on them.

A message is written by the outbox writer from the log and finished by the log too (an outcome
event for its request), so the outbox can be dropped and rebuilt at any time. The writer also
keeps which invoices used which number, in log order (Xero numbers are unique, so a later user
may have to wait, fail or be suffixed). The only state the
relay writes directly is its claim on a message (who, until when), which is operational and is
never needed to rebuild anything.

Message states are ``MessageState`` members (see its docstring).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from enum import StrEnum

from projections.base import ProjectionStore


class MessageState(StrEnum):
    """Where an outbox message stands (the values are the strings stored in ``state``)."""

    READY = "ready"
    """May be claimed once ``not_before`` has passed."""
    WAITING = "waiting"
    """Waits for another document (``waits_for``) to be synced."""
    DONE = "done"
    FAILED = "failed"
    """A final failure was recorded."""
    DROPPED = "dropped"
    """No longer wanted (e.g. the invoice was cancelled before it was sent)."""


OPEN_STATES: tuple[MessageState, ...] = (MessageState.READY, MessageState.WAITING)


@dataclass(frozen=True)
class Message:
    """One requested delivery to Xero."""

    id: int
    doc_id: str
    org: str
    kind: str
    operation: str
    request_version: int
    position: int
    state: MessageState
    waits_for: str | None
    not_before: float | None
    attempts: int
    look_first: bool
    last_error: str | None
    claims: int
    requested_at: float
    group: str = ""
    """The invoice (ledger id) the delivery belongs with."""

    @property
    def uncertain(self) -> bool:
        """True if an earlier attempt may have reached Xero without its outcome being recorded
        (a crash after a claim, or a timeout, 5xx or lost response): look before creating."""
        return self.look_first or self.claims > self.attempts + 1


class OutboxWriteBatch(ABC):
    """Writer operations inside one projection transaction (per backend)."""

    position: int

    @abstractmethod
    def set_organisation(self, key: str, org: str | None, *, connected: bool | None) -> None:
        """Record an organisation (by aggregate id) and whether it is connected to Xero."""

    @abstractmethod
    def add_document(self, doc_id: str, org: str, kind: str) -> None: ...

    @abstractmethod
    def document_org(self, doc_id: str) -> tuple[str, str] | None:
        """(org, kind) of a document, if known."""

    @abstractmethod
    def is_synced(self, doc_id: str) -> bool: ...

    @abstractmethod
    def mark_synced(self, doc_id: str) -> None: ...

    @abstractmethod
    def add_message(
        self,
        doc_id: str,
        org: str,
        kind: str,
        operation: str,
        request_version: int,
        position: int,
        waits_for: str | None,
        requested_at: float,
        group: str | None = None,
    ) -> None:
        """Insert a message (ignored if one exists for the same document and request)."""

    @abstractmethod
    def finish(self, doc_id: str, request_version: int, state: str, error: str | None) -> None:
        """Set a message's final state."""

    @abstractmethod
    def reschedule(
        self, doc_id: str, request_version: int, not_before: float, error: str, uncertain: bool
    ) -> None:
        """Record a failed attempt that will be retried at ``not_before``."""

    @abstractmethod
    def release_waiting(self, doc_id: str) -> None:
        """Messages waiting for ``doc_id`` become ready."""

    @abstractmethod
    def use_number(self, org: str, number_key: str, doc_id: str, position: int) -> None:
        """Record that an invoice was issued with a number (first use kept)."""

    @abstractmethod
    def advance(self, position: int) -> None:
        """Move the writer's tracked position, in this transaction."""


class OutboxStore(ProjectionStore[OutboxWriteBatch]):
    """Storage of outbox messages and claims (one implementation per backend); its ``batch`` is
    the writer's transaction, holding the writer's position exclusively."""

    @abstractmethod
    def claim(
        self,
        owner: str,
        now: float,
        lease: float,
        orgs_excluded: tuple[str, ...] = (),
        orgs_only: tuple[str, ...] | None = None,
    ) -> Message | None:
        """Claim the next due message (oldest first; never a document's later message while an
        earlier one is open; never one of an organisation whose connection is lost; never one
        whose group, an invoice and its payments, another claim holds; only of ``orgs_only``
        when given), or None."""

    @abstractmethod
    def claim_more(
        self,
        owner: str,
        now: float,
        lease: float,
        org: str,
        operation: str,
        limit: int,
        group: str | None = None,
    ) -> list[Message]:
        """Claim up to ``limit`` more due messages of one organisation and operation (to send
        together in one batch), oldest first; never one of a group another claim holds, but
        ``group`` (the first message's)."""

    @abstractmethod
    def release(self, message_id: int, owner: str) -> None:
        """Give up a claim (after the outcome was recorded, or to try later)."""

    @abstractmethod
    def defer(self, message_id: int, not_before: float) -> None:
        """Do not offer a message again before ``not_before`` (rate limits, waits)."""

    @abstractmethod
    def settle(
        self,
        message_id: int,
        state: str | None,
        not_before: float | None = None,
        uncertain: bool = False,
    ) -> None:
        """Set what the outbox writer will set when it reads the outcome from the log (a final
        state, or when to try again and whether to look first), so the relay need not wait for
        it. Attempts are counted by the writer alone."""

    def settle_many(self, settled: list[tuple[int, str]]) -> None:
        """Set final states of several messages (see ``settle``)."""
        for message_id, state in settled:
            self.settle(message_id, state)

    @abstractmethod
    def drop(self, message_id: int) -> None:
        """Drop a message whose request was resolved meanwhile."""

    @abstractmethod
    def wait_for(self, message_id: int, doc_id: str) -> bool:
        """Park a message until ``doc_id`` (an invoice) is in Xero; False (and the message stays
        ready) if it already is."""

    @abstractmethod
    def number_users(self, org: str, number_keys: Collection[str]) -> dict[str, list[str]]:
        """The invoices (ledger ids) of an organisation issued with each number (by key), in the
        order the ledger recorded their first use of it (one query)."""

    @abstractmethod
    def release_all(self, owner: str | None = None) -> int:
        """Release claims (of one owner, or all of them); return how many."""

    @abstractmethod
    def next_due(self, orgs_excluded: tuple[str, ...] = ()) -> float | None:
        """When the earliest ready message becomes due (epoch seconds), or None."""

    @abstractmethod
    def messages(self, doc_id: str | None = None, state: str | None = None) -> list[Message]:
        """Messages, optionally of one document or in one state, oldest first."""

    @abstractmethod
    def depth(self) -> dict[str, int]:
        """How many messages are in each state."""

    @abstractmethod
    def claimed(self) -> int:
        """How many messages a relay has claimed right now."""

    @abstractmethod
    def oldest_open(self) -> float | None:
        """When the oldest open message was requested (epoch seconds), or None."""

    @abstractmethod
    def open_by_org(self) -> dict[str, int]:
        """How many messages are open (ready or waiting) per organisation."""

    def iter_open(self) -> Iterator[Message]:
        """Every open message, oldest first."""
        for state in OPEN_STATES:
            yield from self.messages(state=state)
