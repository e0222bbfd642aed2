"""The Starlette application: its routes, the handlers behind them, the answer to a database
failure, and the security headers on every answer.

Routes::

    POST /opensolar/changes            changes in (per-organisation secret or HMAC signature)
    GET  /login, POST /login, POST /logout
    GET  /                             the Payment Requests page (?status, ?project, ?org, ?doc)
    GET  /documents/{id}/panel         the details panel (HTML fragment)
    POST /documents/{id}/retry         retry a Failed document        (CSRF)
    POST /documents/{id}/sync          send a Not Attempted document  (CSRF)
    POST /documents/retry-failed       retry every Failed document in scope (CSRF)
    GET  /api/documents[/{id}]         the same data as JSON
    GET  /api/events                   server-sent events: the table whenever it changes
    GET  /healthz, GET /metrics
    GET  /static/app.css, /static/app.js

The handlers share one ``Context`` (``syncledger.web.context``): every database call runs on its
one worker thread (``backend.Worker``). Who may see and do what is in ``syncledger.web.access``.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from eventsourcing.persistence import PersistenceError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from projections.storage.errors import StorageError
from syncledger.config import Settings
from syncledger.web.actions import Actions
from syncledger.web.context import Context, NoRelay, RelayState
from syncledger.web.forms import error
from syncledger.web.headers import SecurityHeaders
from syncledger.web.health import Health
from syncledger.web.intake import Intake
from syncledger.web.live import Live
from syncledger.web.login import Login
from syncledger.web.settings import WebSettings
from syncledger.web.views import Views

__all__ = ["Context", "NoRelay", "RelayState", "WebApp", "create_app"]

log = logging.getLogger("syncledger.web")


@dataclass
class WebApp:
    """The application: one shared context and the handlers that answer its routes."""

    ctx: Context

    def routes(self) -> list[Route]:
        """Every route, in the order Starlette matches them."""
        intake, login, views = Intake(self.ctx), Login(self.ctx), Views(self.ctx)
        actions, live, health = Actions(self.ctx), Live(self.ctx), Health(self.ctx)
        return [
            Route("/opensolar/changes", intake.changes, methods=["POST"]),
            Route("/login", login.login_form, methods=["GET"]),
            Route("/login", login.login, methods=["POST"]),
            Route("/logout", login.logout, methods=["POST"]),
            Route("/", views.page, methods=["GET"]),
            Route("/documents/retry-failed", actions.retry_failed, methods=["POST"]),
            Route("/documents/{doc_id}/panel", views.panel, methods=["GET"]),
            Route("/documents/{doc_id}/retry", actions.retry, methods=["POST"]),
            Route("/documents/{doc_id}/sync", actions.sync, methods=["POST"]),
            Route("/api/documents", views.documents_json, methods=["GET"]),
            Route("/api/documents/{doc_id}", views.document_json, methods=["GET"]),
            Route("/api/events", live.events, methods=["GET"]),
            Route("/healthz", health.healthz, methods=["GET"]),
            Route("/metrics", health.metrics, methods=["GET"]),
            Route("/static/{name}", health.static, methods=["GET"]),
        ]

    def app(self) -> ASGIApp:
        """The ASGI application."""
        starlette = Starlette(
            routes=self.routes(),
            lifespan=self.ctx.lifespan,
            exception_handlers={
                StorageError: _storage_failed,
                PersistenceError: _storage_failed,
            },
        )
        return SecurityHeaders(starlette)


async def _storage_failed(request: Request, exc: Exception) -> Response:
    log.error("database error on %s %s: %s", request.method, request.url.path, exc)
    return error(503, f"the ledger database is unavailable: {exc}")


def create_app(
    settings: Settings,
    web: WebSettings | None = None,
    relay: RelayState | None = None,
    stopping: threading.Event | None = None,
) -> ASGIApp:
    """The web application for one ledger database."""
    context = Context(
        settings,
        web or WebSettings(),
        relay or NoRelay(),
        stopping or threading.Event(),
    )
    return WebApp(context).app()
