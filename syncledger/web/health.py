"""Answers that need no login: ``GET /healthz`` (the database and the relay, as JSON),
``GET /metrics`` (Prometheus text, rendered by ``syncledger.web.metrics``) and the page's
static files under ``/static/``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import PersistenceError
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from projections.storage.errors import StorageError
from syncledger.web import metrics
from syncledger.web.assets import ASSETS
from syncledger.web.backend import Backend
from syncledger.web.context import Context

STATIC_CACHE = "public, max-age=31536000, immutable"
"""Static files are served under their content hash, so browsers may keep them for good."""


@dataclass
class Health:
    """``GET /healthz``, ``GET /metrics`` and ``GET /static/{name}``."""

    ctx: Context

    async def healthz(self, request: Request) -> Response:
        relay = self.ctx.relay
        database: dict[str, Any] = {"reachable": True}
        head, lag = 0, dict[str, int]()
        try:
            await self.ctx.db(Backend.ping)
            head, lag = await self.ctx.db(Backend.lag)
        except (StorageError, PersistenceError, OSError) as exc:
            database = {"reachable": False, "error": str(exc)}
        relay_ok = relay.alive() or not relay.enabled
        healthy = database["reachable"] and relay_ok
        return JSONResponse(
            {
                "status": "ok" if healthy else "failing",
                "database": database,
                "relay": {"enabled": relay.enabled, "running": relay.alive()},
                "log_head": head,
                "lag": lag,
            },
            status_code=200 if healthy else 503,
        )

    async def metrics(self, request: Request) -> Response:
        ctx = self.ctx
        data = metrics.MetricsData(database_up=True)
        try:
            await ctx.db(Backend.ping)
            data.status_counts = await ctx.db(Backend.status_counts)
            data.outbox_depth = await ctx.db(Backend.outbox_depth)
            data.log_head, data.lag = await ctx.db(Backend.lag)
            data.limits = await ctx.db(Backend.org_states)
        except (StorageError, PersistenceError, OSError):
            data.database_up = False
        now = ctx.clock()
        data.parked_until = {
            s.org: s.parked_until for s in data.limits if s.parked(now) and s.parked_until
        }
        data.relay_enabled = ctx.relay.enabled
        data.relay_up = ctx.relay.alive()
        relay = ctx.relay.relay
        if relay is not None:
            data.relay_outcomes = dict(relay.report.outcomes)
            for org, (until, _) in dict(relay.parked).items():
                data.parked_until[org] = max(until, data.parked_until.get(org, 0.0))
        return PlainTextResponse(metrics.render(data), media_type=metrics.CONTENT_TYPE)

    async def static(self, request: Request) -> Response:
        asset = ASSETS.get(str(request.path_params["name"]))
        if asset is None:
            return PlainTextResponse("not found", status_code=404)
        return Response(
            asset.body,
            media_type=asset.media_type,
            headers={"Cache-Control": STATIC_CACHE, "ETag": asset.digest},
        )
