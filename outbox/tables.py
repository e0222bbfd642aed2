"""The outbox's tables, in portable SQL over any ``Database`` backend: messages, the writer's
document index, its tracking row, and claims. A claim selects the oldest due message with the
backend's row lock (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several relays never take the
same message; on SQLite the write transaction itself is exclusive).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import Any

from outbox.batch import OPEN_SQL, SQLWriteBatch
from outbox.store import OPEN_STATES, Message, MessageState, OutboxStore, OutboxWriteBatch
from projections.storage.database import Database, TrackedTables, tracking_ddl

TRACKING = "outbox_tracking"
TABLES: tuple[str, ...] = (
    "outbox_messages",
    "outbox_documents",
    "outbox_organisations",
    "outbox_numbers",
    TRACKING,
)


def _ddl(db: Database) -> list[str]:
    return [
        f"""CREATE TABLE IF NOT EXISTS outbox_messages (
            {db.dialect.id_column},
            doc_id TEXT NOT NULL,
            org TEXT NOT NULL,
            kind TEXT NOT NULL,
            operation TEXT NOT NULL,
            request_version INTEGER NOT NULL,
            position BIGINT NOT NULL,
            state TEXT NOT NULL,
            waits_for TEXT,
            not_before DOUBLE PRECISION,
            attempts INTEGER NOT NULL DEFAULT 0,
            look_first INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            claimed_by TEXT,
            claimed_until DOUBLE PRECISION,
            claims INTEGER NOT NULL DEFAULT 0,
            requested_at DOUBLE PRECISION NOT NULL,
            group_id TEXT NOT NULL,
            UNIQUE (doc_id, request_version)
        )""",
        "CREATE INDEX IF NOT EXISTS outbox_messages_group ON outbox_messages (group_id, state)",
        "CREATE INDEX IF NOT EXISTS outbox_messages_open ON outbox_messages (state, position)",
        "CREATE INDEX IF NOT EXISTS outbox_messages_doc ON outbox_messages (doc_id, position)",
        "CREATE INDEX IF NOT EXISTS outbox_messages_waits ON outbox_messages (waits_for)",
        """CREATE TABLE IF NOT EXISTS outbox_documents (
            doc_id TEXT PRIMARY KEY, org TEXT NOT NULL, kind TEXT NOT NULL, synced INTEGER NOT NULL
        )""",
        """CREATE TABLE IF NOT EXISTS outbox_organisations (
            key TEXT PRIMARY KEY, org TEXT NOT NULL, connected INTEGER NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS outbox_organisations_org ON outbox_organisations (org)",
        """CREATE TABLE IF NOT EXISTS outbox_numbers (
            org TEXT NOT NULL, number_key TEXT NOT NULL, doc_id TEXT NOT NULL,
            position BIGINT NOT NULL, PRIMARY KEY (org, number_key, doc_id)
        )""",
        *tracking_ddl(TRACKING),
    ]


_COLUMNS = (
    "id, doc_id, org, kind, operation, request_version, position, state, waits_for, not_before, "
    "attempts, look_first, last_error, claims, requested_at, group_id"
)


def _message(values: Any) -> Message:
    """A message from a row of ``_COLUMNS`` (which follow ``Message``'s fields in order)."""
    row = list(values)
    row[7] = MessageState(row[7])
    row[11] = bool(row[11])
    return Message(*row)


class SQLOutboxStore(TrackedTables, OutboxStore):
    """Outbox messages and claims on any ``Database``."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.upgrade(
            "SELECT n.org, n.number_key, n.doc_id, n.position, m.group_id "
            "FROM outbox_numbers n, outbox_messages m WHERE 1=0"
        )
        db.script(_ddl(db))

    tracking = TRACKING
    TABLES = TABLES
    """Every table this store creates, its tracking table included."""

    @contextmanager
    def batch(self) -> Iterator[OutboxWriteBatch]:
        with self.held() as (tx, position):
            yield SQLWriteBatch(tx, position, TRACKING)

    @staticmethod
    def _due_clause(
        orgs_excluded: tuple[str, ...], now: float | None = None, allow_group: str | None = None
    ) -> tuple[str, list[Any]]:
        """Messages that may be claimed: ready, the first open one of their document, of a
        connected organisation, and (with ``now``) of no group another claim holds (deliveries
        of one invoice and its payments never run at the same time) but ``allow_group``."""
        sql = (
            f"m.state='{MessageState.READY}' AND NOT EXISTS (SELECT 1 FROM outbox_messages e "
            f"WHERE e.doc_id=m.doc_id AND e.position<m.position AND e.state IN {OPEN_SQL}) "
            "AND NOT EXISTS (SELECT 1 FROM outbox_organisations o "
            "WHERE o.org=m.org AND o.connected=0)"
        )
        params: list[Any] = []
        if now is not None:
            sql += (
                " AND (m.group_id=? OR NOT EXISTS (SELECT 1 FROM outbox_messages g "
                f"WHERE g.group_id=m.group_id AND g.id<>m.id AND g.state IN {OPEN_SQL} "
                "AND g.claimed_until IS NOT NULL AND g.claimed_until>=?))"
            )
            params.extend([allow_group or "", now])
        if orgs_excluded:
            sql += f" AND m.org NOT IN ({', '.join('?' for _ in orgs_excluded)})"
            params.extend(orgs_excluded)
        return sql, params

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
        due, params = self._due_clause(orgs_excluded, now)
        if orgs_only is not None:
            due += f" AND m.org IN ({', '.join('?' for _ in orgs_only)})"
            params = [*params, *orgs_only]
        with self.db.write() as conn:
            found = conn.one(
                f"SELECT {_COLUMNS} FROM outbox_messages m WHERE {due} "
                "AND (m.not_before IS NULL OR m.not_before<=?) "
                "AND (m.claimed_until IS NULL OR m.claimed_until<?) ORDER BY m.position LIMIT 1"
                + self.db.dialect.skip_locked,
                [*params, now, now],
            )
            if found is None:
                return None
            message = _message(found)
            conn.execute(
                "UPDATE outbox_messages SET claimed_by=?, claimed_until=?, claims=claims+1 "
                "WHERE id=?",
                (owner, now + lease, message.id),
            )
        return dataclasses.replace(message, claims=message.claims + 1)

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
        due, params = self._due_clause((), now, group)
        with self.db.write() as conn:
            found = conn.all(
                f"SELECT {_COLUMNS} FROM outbox_messages m WHERE {due} "
                "AND m.org=? AND m.operation=? "
                "AND (m.not_before IS NULL OR m.not_before<=?) "
                "AND (m.claimed_until IS NULL OR m.claimed_until<?) "
                "ORDER BY m.position LIMIT ?" + self.db.dialect.skip_locked,
                [*params, org, operation, now, now, limit],
            )
            if not found:
                return []
            conn.many(
                "UPDATE outbox_messages SET claimed_by=?, claimed_until=?, claims=claims+1 "
                "WHERE id=?",
                [(owner, now + lease, row[0]) for row in found],
            )
        return [
            dataclasses.replace(message, claims=message.claims + 1)
            for message in map(_message, found)
        ]

    def release(self, message_id: int, owner: str) -> None:
        with self.db.write() as conn:
            conn.execute(
                "UPDATE outbox_messages SET claimed_by=NULL, claimed_until=NULL "
                "WHERE id=? AND claimed_by=?",
                (message_id, owner),
            )

    def defer(self, message_id: int, not_before: float) -> None:
        with self.db.write() as conn:
            conn.execute(
                "UPDATE outbox_messages SET not_before=? WHERE id=?", (not_before, message_id)
            )

    def settle(
        self,
        message_id: int,
        state: str | None,
        not_before: float | None = None,
        uncertain: bool = False,
    ) -> None:
        with self.db.write() as conn:
            if state is not None:
                conn.execute(
                    "UPDATE outbox_messages SET state=?, not_before=NULL WHERE id=?",
                    (state, message_id),
                )
            else:
                conn.execute(
                    "UPDATE outbox_messages SET not_before=?, "
                    "look_first=CASE WHEN ? = 1 THEN 1 ELSE look_first END "
                    f"WHERE id=? AND state IN {OPEN_SQL}",
                    (not_before, int(uncertain), message_id),
                )

    def settle_many(self, settled: list[tuple[int, str]]) -> None:
        if not settled:
            return
        with self.db.write() as conn:
            conn.many(
                "UPDATE outbox_messages SET state=?, not_before=NULL WHERE id=?",
                [(state, message_id) for message_id, state in settled],
            )

    def drop(self, message_id: int) -> None:
        with self.db.write() as conn:
            conn.execute(
                f"UPDATE outbox_messages SET state=? WHERE id=? AND state IN {OPEN_SQL}",
                (MessageState.DROPPED, message_id),
            )

    def wait_for(self, message_id: int, doc_id: str) -> bool:
        with self.db.write() as conn:
            # the awaited row is locked so that the writer marking it synced (and releasing
            # its waiters) runs wholly before or wholly after this
            found = conn.one(
                "SELECT synced FROM outbox_documents WHERE doc_id=?" + self.db.dialect.for_update,
                (doc_id,),
            )
            if found is not None and found[0]:
                return False
            conn.execute(
                f"UPDATE outbox_messages SET state='{MessageState.WAITING}', waits_for=?, "
                f"not_before=NULL WHERE id=? AND state='{MessageState.READY}'",
                (doc_id, message_id),
            )
        return True

    def number_users(self, org: str, number_keys: Collection[str]) -> dict[str, list[str]]:
        keys = sorted(set(number_keys))
        users: dict[str, list[str]] = {key: [] for key in keys}
        if not keys:
            return users
        marks = ", ".join("?" for _ in keys)
        with self.db.read() as conn:
            found = conn.all(
                "SELECT number_key, doc_id FROM outbox_numbers "
                f"WHERE org=? AND number_key IN ({marks}) ORDER BY position, doc_id",
                (org, *keys),
            )
        for key, doc_id in found:
            users[str(key)].append(str(doc_id))
        return users

    def release_all(self, owner: str | None = None) -> int:
        with self.db.write() as conn:
            if owner is None:
                return conn.execute(
                    "UPDATE outbox_messages SET claimed_by=NULL, claimed_until=NULL "
                    "WHERE claimed_by IS NOT NULL"
                )
            return conn.execute(
                "UPDATE outbox_messages SET claimed_by=NULL, claimed_until=NULL WHERE claimed_by=?",
                (owner,),
            )

    def next_due(self, orgs_excluded: tuple[str, ...] = ()) -> float | None:
        due, params = self._due_clause(orgs_excluded)
        with self.db.read() as conn:
            found = conn.one(
                f"SELECT MIN(COALESCE(m.not_before, 0)) FROM outbox_messages m WHERE {due}",
                params,
            )
        return None if found is None or found[0] is None else float(found[0])

    def messages(self, doc_id: str | None = None, state: str | None = None) -> list[Message]:
        clauses, params = [], []
        if doc_id is not None:
            clauses.append("doc_id=?")
            params.append(doc_id)
        if state is not None:
            clauses.append("state=?")
            params.append(state)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        with self.db.read() as conn:
            found = conn.all(
                f"SELECT {_COLUMNS} FROM outbox_messages{where} ORDER BY position", params
            )
        return [_message(r) for r in found]

    def depth(self) -> dict[str, int]:
        with self.db.read() as conn:
            found = conn.all("SELECT state, COUNT(*) FROM outbox_messages GROUP BY state")
        return {str(state): int(count) for state, count in found}

    def claimed(self) -> int:
        with self.db.read() as conn:
            found = conn.one("SELECT COUNT(*) FROM outbox_messages WHERE claimed_by IS NOT NULL")
        return int(found[0]) if found else 0

    def oldest_open(self) -> float | None:
        with self.db.read() as conn:
            found = conn.one(
                f"SELECT MIN(requested_at) FROM outbox_messages WHERE state IN {OPEN_SQL}"
            )
        return float(found[0]) if found and found[0] is not None else None

    def open_by_org(self) -> dict[str, int]:
        with self.db.read() as conn:
            found = conn.all(
                f"SELECT org, COUNT(*) FROM outbox_messages WHERE state IN {OPEN_SQL} GROUP BY org"
            )
        return {str(org): int(count) for org, count in found}


__all__ = ["OPEN_STATES", "SQLOutboxStore"]
