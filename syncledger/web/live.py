"""Live updates (``GET /api/events``): server-sent events that carry the table, its summary and
filters whenever what the viewer sees changes, a keep-alive when nothing does, and ``expired``
when the session ends. The stream polls the log's head and the status projection's position,
and stops when the app stops."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import PersistenceError
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from domain.vocabulary import Status
from projections.storage.errors import StorageError
from syncledger.web import access, pages
from syncledger.web.backend import Backend, Snapshot
from syncledger.web.context import Context
from syncledger.web.pages import Filters
from syncledger.web.store import Session
from syncledger.web.views import document_entry, snapshot_for

log = logging.getLogger("syncledger.web")


@dataclass
class Live:
    """``GET /api/events``."""

    ctx: Context

    async def events(self, request: Request) -> Response:
        found = await access.current(self.ctx, request)
        if found is None:
            return access.not_logged_in()
        token, session = found
        filters = access.filters_for(request.query_params, session)
        return StreamingResponse(
            self._stream(token, session, filters),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    async def _stream(self, token: str, session: Session, filters: Filters) -> AsyncIterator[str]:
        ctx = self.ctx
        yield "retry: 2000\n\n"
        last_version: tuple[int, int] | None = None
        last_digest = ""
        quiet = 0.0
        while not ctx.stopping.is_set():
            try:
                current = await ctx.db(lambda backend: backend.session(token, ctx.now()))
                if current is None:
                    yield "event: expired\ndata: {}\n\n"
                    return
                version: tuple[int, int] = await ctx.db(Backend.version)
                if version != last_version:
                    snapshot = await snapshot_for(ctx, session, filters)
                    text = json.dumps(_payload(snapshot, session, filters, version[0]))
                    digest = hashlib.sha256(text.encode()).hexdigest()
                    last_version = version
                    if digest != last_digest:
                        last_digest = digest
                        quiet = 0.0
                        yield f"event: documents\ndata: {text}\n\n"
            except (StorageError, PersistenceError) as exc:
                log.warning("live updates paused: %s", exc)
            if quiet >= ctx.web.heartbeat_seconds:
                quiet = 0.0
                yield ": keep-alive\n\n"
            await asyncio.sleep(ctx.web.live_interval)
            quiet += ctx.web.live_interval


def _payload(
    snapshot: Snapshot, session: Session, filters: Filters, version: int
) -> dict[str, Any]:
    return {
        "version": version,
        "rows": pages.rows_html(snapshot, session, filters),
        "summary": pages.summary_html(snapshot, filters),
        "failed": snapshot.counts.get(Status.FAILED, 0),
        "projects": snapshot.projects,
        "orgs": snapshot.orgs,
        "documents": [document_entry(v) for v in snapshot.views[: pages.ROW_LIMIT]],
    }
