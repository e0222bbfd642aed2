"""The in-memory outbox's tables, and the writer's batch over them (what ``outbox/batch.py``
does in SQL): organisations, documents, messages and invoice numbers, and the writer's position.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from outbox.store import OPEN_STATES, Message, MessageState, OutboxWriteBatch
from projections.storage.errors import StorageError


@dataclass
class Claim:
    """Who holds a message, and until when."""

    owner: str
    until: float


@dataclass
class Tables:
    """Everything the outbox holds (what the SQL store keeps in its tables)."""

    messages: dict[int, Message] = field(default_factory=dict)
    claims: dict[int, Claim] = field(default_factory=dict)
    documents: dict[str, tuple[str, str, bool]] = field(default_factory=dict)
    """Per document: organisation, kind, and whether its invoice is in Xero."""
    organisations: dict[str, tuple[str, bool]] = field(default_factory=dict)
    """Per organisation aggregate (key): its OpenSolar org id, and whether it is connected."""
    numbers: dict[tuple[str, str, str], int] = field(default_factory=dict)
    """(org, number key, invoice) → the log position of the number's first use."""
    position: int = 0
    next_id: int = 1


def change(tables: Tables, messages: Iterable[Message], **changes: Any) -> None:
    """Replace ``messages`` in ``tables`` by copies with ``changes``."""
    for message in messages:
        tables.messages[message.id] = dataclasses.replace(message, **changes)


class MemoryWriteBatch(OutboxWriteBatch):
    """One writer batch, applied to the store's tables as it goes."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables
        self.position = tables.position

    def set_organisation(self, key: str, org: str | None, *, connected: bool | None) -> None:
        known = self.tables.organisations.get(key)
        if org is not None:
            self.tables.organisations[key] = (org, known[1] if known else False)
        known = self.tables.organisations.get(key)
        if connected is not None and known is not None:
            self.tables.organisations[key] = (known[0], connected)

    def add_document(self, doc_id: str, org: str, kind: str) -> None:
        self.tables.documents.setdefault(doc_id, (org, kind, False))

    def document_org(self, doc_id: str) -> tuple[str, str] | None:
        found = self.tables.documents.get(doc_id)
        return (found[0], found[1]) if found else None

    def is_synced(self, doc_id: str) -> bool:
        found = self.tables.documents.get(doc_id)
        return bool(found and found[2])

    def mark_synced(self, doc_id: str) -> None:
        found = self.tables.documents.get(doc_id)
        if found is not None:
            self.tables.documents[doc_id] = (found[0], found[1], True)

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
        if self._find(doc_id, request_version):
            return
        id_ = self.tables.next_id
        self.tables.next_id += 1
        self.tables.messages[id_] = Message(
            id=id_,
            doc_id=doc_id,
            org=org,
            kind=kind,
            operation=operation,
            request_version=request_version,
            position=position,
            state=MessageState.WAITING if waits_for else MessageState.READY,
            waits_for=waits_for,
            not_before=None,
            attempts=0,
            look_first=False,
            last_error=None,
            claims=0,
            requested_at=requested_at,
            group=group or doc_id,
        )

    def _find(self, doc_id: str, request_version: int) -> list[Message]:
        return [
            m
            for m in self.tables.messages.values()
            if m.doc_id == doc_id and m.request_version == request_version
        ]

    def _change(self, messages: Iterable[Message], **changes: Any) -> None:
        change(self.tables, messages, **changes)

    def finish(self, doc_id: str, request_version: int, state: str, error: str | None) -> None:
        found = self._find(doc_id, request_version)
        self._change(found, state=MessageState(state), last_error=error, not_before=None)

    def reschedule(
        self, doc_id: str, request_version: int, not_before: float, error: str, uncertain: bool
    ) -> None:
        for m in self._find(doc_id, request_version):
            if m.state in OPEN_STATES:
                self._change(
                    [m],
                    not_before=not_before,
                    last_error=error,
                    attempts=m.attempts + 1,
                    look_first=m.look_first or uncertain,
                )

    def release_waiting(self, doc_id: str) -> None:
        waiting = [
            m
            for m in self.tables.messages.values()
            if m.waits_for == doc_id and m.state == MessageState.WAITING
        ]
        self._change(waiting, state=MessageState.READY, waits_for=None)

    def use_number(self, org: str, number_key: str, doc_id: str, position: int) -> None:
        self.tables.numbers.setdefault((org, number_key, doc_id), position)

    def advance(self, position: int) -> None:
        if position <= self.position or self.tables.position != self.position:
            raise StorageError(f"outbox: position would move from {self.position} to {position}")
        self.tables.position = self.position = position
