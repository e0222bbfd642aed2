"""The outbox in memory: ``MemoryOutboxStore`` implements the ``OutboxStore`` port (messages,
the writer's document index and position, claims) over ``Tables`` under one lock, following the
SQL store's rules claim for claim, so that unit tests drive the writer and the relay in
milliseconds. A writer batch that raises leaves nothing behind, as a rolled-back transaction.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from typing import Any

from outbox.memory.batch import Claim, MemoryWriteBatch, Tables, change
from outbox.store import OPEN_STATES, Message, MessageState, OutboxStore, OutboxWriteBatch


class MemoryOutboxStore(OutboxStore):
    """Outbox messages and claims in memory (thread-safe)."""

    def __init__(self) -> None:
        self.tables = Tables()
        self.lock = threading.RLock()
        """Held by every operation, as a database would serialise them."""

    @contextmanager
    def batch(self) -> Iterator[OutboxWriteBatch]:
        with self.lock:
            before = copy.deepcopy(self.tables)
            try:
                yield MemoryWriteBatch(self.tables)
            except BaseException:
                self.tables = before
                raise

    def position(self) -> int:
        with self.lock:
            return self.tables.position

    def reset(self) -> None:
        with self.lock:
            self.tables = Tables(next_id=self.tables.next_id)

    # claims -----------------------------------------------------------------------------------

    def _due(
        self,
        m: Message,
        orgs_excluded: Collection[str] = (),
        now: float | None = None,
        allow_group: str | None = None,
    ) -> bool:
        """The SQL store's rule: ready, the first open message of its document, of a connected
        organisation, and (with ``now``) of no group another claim holds but ``allow_group``."""
        others = self.tables.messages.values()
        if m.state != MessageState.READY or m.org in orgs_excluded:
            return False
        if any(
            e.doc_id == m.doc_id and e.position < m.position and e.state in OPEN_STATES
            for e in others
        ):
            return False
        if any(
            org == m.org and not connected for org, connected in self.tables.organisations.values()
        ):
            return False
        if now is None or m.group == (allow_group or ""):
            return True
        return not any(
            g.group == m.group
            and g.id != m.id
            and g.state in OPEN_STATES
            and (claim := self.tables.claims.get(g.id)) is not None
            and claim.until >= now
            for g in others
        )

    def _claimable(self, m: Message, now: float) -> bool:
        claim = self.tables.claims.get(m.id)
        return (m.not_before is None or m.not_before <= now) and (
            claim is None or claim.until < now
        )

    def _ordered(self) -> list[Message]:
        return sorted(self.tables.messages.values(), key=lambda m: (m.position, m.id))

    def _take(self, found: list[Message], owner: str, until: float) -> list[Message]:
        taken = []
        for m in found:
            self.tables.claims[m.id] = Claim(owner, until)
            taken.append(dataclasses.replace(m, claims=m.claims + 1))
            self.tables.messages[m.id] = taken[-1]
        return taken

    def claim(
        self,
        owner: str,
        now: float,
        lease: float,
        orgs_excluded: tuple[str, ...] = (),
        orgs_only: tuple[str, ...] | None = None,
    ) -> Message | None:
        if orgs_only is not None and not orgs_only:
            return None
        with self.lock:
            for m in self._ordered():
                if orgs_only is not None and m.org not in orgs_only:
                    continue
                if self._due(m, orgs_excluded, now) and self._claimable(m, now):
                    return self._take([m], owner, now + lease)[0]
        return None

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
        if limit <= 0:
            return []
        with self.lock:
            found = [
                m
                for m in self._ordered()
                if m.org == org
                and m.operation == operation
                and self._due(m, (), now, group)
                and self._claimable(m, now)
            ][:limit]
            return self._take(found, owner, now + lease)

    def release(self, message_id: int, owner: str) -> None:
        with self.lock:
            claim = self.tables.claims.get(message_id)
            if claim is not None and claim.owner == owner:
                del self.tables.claims[message_id]

    def release_all(self, owner: str | None = None) -> int:
        with self.lock:
            mine = [i for i, c in self.tables.claims.items() if owner is None or c.owner == owner]
            for message_id in mine:
                del self.tables.claims[message_id]
            return len(mine)

    def free_claims(self, owners: Callable[[str], bool], org: str | None = None) -> int:
        """Release the claims of the ``owners`` (on one organisation's messages when given);
        return how many (what the lease store does to the claims of a relay that died)."""
        with self.lock:
            freed = [
                i
                for i, c in self.tables.claims.items()
                if owners(c.owner) and org in (None, self.tables.messages[i].org)
            ]
            for message_id in freed:
                del self.tables.claims[message_id]
            return len(freed)

    def claimed_orgs(self, owner: str) -> set[str]:
        """Organisations with a message ``owner`` has claimed."""
        with self.lock:
            return {
                self.tables.messages[i].org
                for i, c in self.tables.claims.items()
                if c.owner == owner
            }

    # outcomes ---------------------------------------------------------------------------------

    def _set(self, message_id: int, **changes: Any) -> None:
        with self.lock:
            found = self.tables.messages.get(message_id)
            if found is not None:
                change(self.tables, [found], **changes)

    def defer(self, message_id: int, not_before: float) -> None:
        self._set(message_id, not_before=not_before)

    def settle(
        self,
        message_id: int,
        state: str | None,
        not_before: float | None = None,
        uncertain: bool = False,
    ) -> None:
        with self.lock:
            found = self.tables.messages.get(message_id)
            if found is not None and state is not None:
                self._set(message_id, state=MessageState(state), not_before=None)
            elif found is not None and found.state in OPEN_STATES:
                look_first = found.look_first or uncertain
                self._set(message_id, not_before=not_before, look_first=look_first)

    def drop(self, message_id: int) -> None:
        with self.lock:
            found = self.tables.messages.get(message_id)
            if found is not None and found.state in OPEN_STATES:
                self._set(message_id, state=MessageState.DROPPED)

    def wait_for(self, message_id: int, doc_id: str) -> bool:
        with self.lock:
            document = self.tables.documents.get(doc_id)
            if document is not None and document[2]:
                return False
            found = self.tables.messages.get(message_id)
            if found is not None and found.state == MessageState.READY:
                self._set(message_id, state=MessageState.WAITING, waits_for=doc_id, not_before=None)
            return True

    # reads ------------------------------------------------------------------------------------

    def number_users(self, org: str, number_keys: Collection[str]) -> dict[str, list[str]]:
        keys = sorted(set(number_keys))
        users: dict[str, list[str]] = {key: [] for key in keys}
        with self.lock:
            found = sorted(
                (position, doc_id, key)
                for (org_, key, doc_id), position in self.tables.numbers.items()
                if org_ == org and key in users
            )
        for _position, doc_id, key in found:
            users[key].append(doc_id)
        return users

    def next_due(self, orgs_excluded: tuple[str, ...] = ()) -> float | None:
        with self.lock:
            due = [
                m.not_before or 0.0
                for m in self.tables.messages.values()
                if self._due(m, orgs_excluded)
            ]
        return min(due) if due else None

    def messages(self, doc_id: str | None = None, state: str | None = None) -> list[Message]:
        with self.lock:
            return [
                m
                for m in self._ordered()
                if (doc_id is None or m.doc_id == doc_id) and (state is None or m.state == state)
            ]

    def depth(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for m in self.messages():
            counts[str(m.state)] = counts.get(str(m.state), 0) + 1
        return counts

    def claimed(self) -> int:
        with self.lock:
            return len(self.tables.claims)

    def oldest_open(self) -> float | None:
        opened = [m.requested_at for m in self.messages() if m.state in OPEN_STATES]
        return min(opened) if opened else None

    def open_by_org(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for m in self.messages():
            if m.state in OPEN_STATES:
                counts[m.org] = counts.get(m.org, 0) + 1
        return counts
