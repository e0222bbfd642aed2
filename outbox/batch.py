"""The outbox writer's side of the outbox tables, in portable SQL: one batch of the writer
inside its projection transaction (organisations, documents, messages, invoice numbers, and the
tracked position), sending its writes without waiting for each.
"""

from __future__ import annotations

from outbox.store import OPEN_STATES, MessageState, OutboxWriteBatch
from projections.storage.database import Transaction, move_position

OPEN_SQL = "(" + ", ".join(f"'{state}'" for state in OPEN_STATES) + ")"
"""The open states as an SQL list (``('ready', 'waiting')``)."""


class SQLWriteBatch(OutboxWriteBatch):
    """One batch of the writer: writes are sent without waiting for each (``send``), and what
    the batch itself wrote about documents is remembered, so most events need no read."""

    def __init__(self, tx: Transaction, position: int, tracking: str) -> None:
        self.conn = tx
        self.position = position
        self.tracking = tracking
        self._documents: dict[str, tuple[str, str] | None] = {}
        self._synced: dict[str, bool] = {}

    def set_organisation(self, key: str, org: str | None, *, connected: bool | None) -> None:
        if org is not None:
            self.conn.send(
                "INSERT INTO outbox_organisations (key, org, connected) VALUES (?, ?, 0) "
                "ON CONFLICT (key) DO UPDATE SET org=excluded.org",
                (key, org),
            )
        if connected is not None:
            self.conn.send(
                "UPDATE outbox_organisations SET connected=? WHERE key=?", (int(connected), key)
            )

    def add_document(self, doc_id: str, org: str, kind: str) -> None:
        self.conn.send(
            "INSERT INTO outbox_documents (doc_id, org, kind, synced) VALUES (?,?,?,0) "
            "ON CONFLICT (doc_id) DO NOTHING",
            (doc_id, org, kind),
        )
        # a document id is derived from its organisation and kind, so an existing row (which
        # DO NOTHING keeps) says the same
        self._documents[doc_id] = (org, kind)

    def document_org(self, doc_id: str) -> tuple[str, str] | None:
        if doc_id not in self._documents:
            found = self.conn.one(
                "SELECT org, kind, synced FROM outbox_documents WHERE doc_id=?", (doc_id,)
            )
            self._documents[doc_id] = (found[0], found[1]) if found else None
            if found:
                self._synced[doc_id] = bool(found[2])
        return self._documents[doc_id]

    def is_synced(self, doc_id: str) -> bool:
        if doc_id not in self._synced:
            found = self.conn.one("SELECT synced FROM outbox_documents WHERE doc_id=?", (doc_id,))
            self._synced[doc_id] = bool(found and found[0])
        return self._synced[doc_id]

    def mark_synced(self, doc_id: str) -> None:
        self.conn.send("UPDATE outbox_documents SET synced=1 WHERE doc_id=?", (doc_id,))
        self._synced[doc_id] = True

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
        self.conn.send(
            "INSERT INTO outbox_messages (doc_id, org, kind, operation, "
            "request_version, position, state, waits_for, requested_at, group_id) "
            "VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT (doc_id, request_version) DO NOTHING",
            (
                doc_id,
                org,
                kind,
                operation,
                request_version,
                position,
                MessageState.WAITING if waits_for else MessageState.READY,
                waits_for,
                requested_at,
                group or doc_id,
            ),
        )

    def finish(self, doc_id: str, request_version: int, state: str, error: str | None) -> None:
        self.conn.send(
            "UPDATE outbox_messages SET state=?, last_error=?, not_before=NULL "
            "WHERE doc_id=? AND request_version=?",
            (state, error, doc_id, request_version),
        )

    def reschedule(
        self, doc_id: str, request_version: int, not_before: float, error: str, uncertain: bool
    ) -> None:
        self.conn.send(
            "UPDATE outbox_messages SET not_before=?, last_error=?, attempts=attempts+1, "
            "look_first=CASE WHEN ? = 1 THEN 1 ELSE look_first END "
            f"WHERE doc_id=? AND request_version=? AND state IN {OPEN_SQL}",
            (not_before, error, int(uncertain), doc_id, request_version),
        )

    def release_waiting(self, doc_id: str) -> None:
        self.conn.send(
            f"UPDATE outbox_messages SET state='{MessageState.READY}', waits_for=NULL "
            f"WHERE waits_for=? AND state='{MessageState.WAITING}'",
            (doc_id,),
        )

    def use_number(self, org: str, number_key: str, doc_id: str, position: int) -> None:
        self.conn.send(
            "INSERT INTO outbox_numbers (org, number_key, doc_id, position) VALUES (?,?,?,?) "
            "ON CONFLICT (org, number_key, doc_id) DO NOTHING",
            (org, number_key, doc_id, position),
        )

    def advance(self, position: int) -> None:
        move_position(self.conn, self.tracking, self.position, position)
