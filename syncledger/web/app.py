"""The Starlette application: the OpenSolar change endpoint, the login, the Payment Requests page
with its actions and live updates, and health and metrics.

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

Every database call runs on one worker thread (``backend.Worker``). Users of an organisation see
and act on that organisation's documents only; administrators on every organisation's.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qs, parse_qsl, quote, urlencode, urlsplit

from eventsourcing.persistence import PersistenceError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.errors import DocumentNotFoundError
from outbox.relay import Relay
from projections.errors import StorageError
from projections.status import STATUSES
from syncledger import service
from syncledger.config import Settings
from syncledger.web import metrics, pages, wording
from syncledger.web.assets import ASSETS
from syncledger.web.auth import (
    new_token,
    normal_email,
    same,
    signature_matches,
    verify_password,
)
from syncledger.web.backend import Backend, Snapshot, Worker
from syncledger.web.changes import (
    ORG_HEADER,
    SECRET_HEADER,
    SIGNATURE_HEADER,
    BodyError,
    Problem,
    check,
    decode_body,
    org_of,
    rejected_count,
)
from syncledger.web.errors import WebhookSecretError
from syncledger.web.pages import Filters
from syncledger.web.settings import WebSettings
from syncledger.web.store import Session

log = logging.getLogger("syncledger.web")
T = TypeVar("T")

SESSION_COOKIE = "syncledger_session"
LOGIN_COOKIE = "syncledger_login"
CSRF_HEADER = "X-CSRF-Token"
_DUMMY_SECRET = new_token()
_MAX_PROJECT = 64
NOT_FOUND_PANEL = pages.not_found_panel("No such document.")
FORM_LIMIT = 64 * 1024
MAX_THROTTLED = 10_000
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


class RelayState(Protocol):
    """What the app may ask of the relay running beside it."""

    @property
    def enabled(self) -> bool: ...

    @property
    def relay(self) -> Relay | None: ...

    def alive(self) -> bool: ...


class NoRelay:
    """No relay in this process (``serve --no-relay``, or tests of the HTTP side alone)."""

    enabled = False
    relay = None

    def alive(self) -> bool:
        return False


class _SecurityHeaders:
    """Adds security headers to every answer (pure ASGI, so streaming is left alone)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                extra = {
                    b"x-content-type-options": b"nosniff",
                    b"referrer-policy": b"same-origin",
                    b"x-frame-options": b"DENY",
                    b"content-security-policy": CSP.encode(),
                }
                if b"cache-control" not in names:
                    extra[b"cache-control"] = b"no-store"
                headers.extend((k, v) for k, v in extra.items() if k not in names)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _safe_next(value: str | None) -> str:
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    return value


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The request body, or None if it is longer than ``limit`` bytes (read no further)."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            return None
    return bytes(body)


async def _form(request: Request) -> dict[str, str] | None:
    """An urlencoded form's fields (the last of each name), or None if the body is too long."""
    body = await _read_body(request, FORM_LIMIT)
    if body is None:
        return None
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def _doc_id(request: Request) -> str | None:
    raw = str(request.path_params.get("doc_id", ""))
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        return None


@dataclass
class WebApp:
    """The application's state and handlers."""

    settings: Settings
    web: WebSettings = field(default_factory=WebSettings)
    relay: RelayState = field(default_factory=NoRelay)
    stopping: threading.Event = field(default_factory=threading.Event)
    clock: Callable[[], float] = time.time
    worker: Worker | None = None
    backend: Backend | None = None
    _failures: dict[str, list[float]] = field(default_factory=dict)

    # plumbing ---------------------------------------------------------------------------------

    async def db(self, func: Callable[[Backend], T]) -> T:
        """Run ``func`` with the ``Backend`` on the worker thread (every database call)."""
        worker, backend = self.worker, self.backend
        if worker is None or backend is None:
            raise StorageError("the web service is not started")
        return await worker.call(func, backend)

    @asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        worker = Worker()
        try:
            self.backend = await worker.call(Backend.open, self.settings)
        except BaseException:
            worker.close()
            raise
        self.worker = worker
        try:
            yield
        finally:
            self.stopping.set()
            backend, self.backend, self.worker = self.backend, None, None
            if backend is not None:
                await worker.call(backend.close)
            worker.close()

    def app(self) -> ASGIApp:
        """The ASGI application."""
        routes = [
            Route("/opensolar/changes", self.changes, methods=["POST"]),
            Route("/login", self.login_form, methods=["GET"]),
            Route("/login", self.login, methods=["POST"]),
            Route("/logout", self.logout, methods=["POST"]),
            Route("/", self.page, methods=["GET"]),
            Route("/documents/retry-failed", self.retry_failed, methods=["POST"]),
            Route("/documents/{doc_id}/panel", self.panel, methods=["GET"]),
            Route("/documents/{doc_id}/retry", self.retry, methods=["POST"]),
            Route("/documents/{doc_id}/sync", self.sync, methods=["POST"]),
            Route("/api/documents", self.documents_json, methods=["GET"]),
            Route("/api/documents/{doc_id}", self.document_json, methods=["GET"]),
            Route("/api/events", self.events, methods=["GET"]),
            Route("/healthz", self.healthz, methods=["GET"]),
            Route("/metrics", self.metrics, methods=["GET"]),
            Route("/static/{name}", self.static, methods=["GET"]),
        ]
        starlette = Starlette(
            routes=routes,
            lifespan=self.lifespan,
            exception_handlers={
                StorageError: self._storage_failed,
                PersistenceError: self._storage_failed,
            },
        )
        return _SecurityHeaders(starlette)

    async def _storage_failed(self, request: Request, exc: Exception) -> Response:
        log.error("database error on %s %s: %s", request.method, request.url.path, exc)
        return _error(503, f"the ledger database is unavailable: {exc}")

    # sessions ---------------------------------------------------------------------------------

    async def _session(self, request: Request) -> tuple[str, Session] | None:
        token = request.cookies.get(SESSION_COOKIE)
        if not token or len(token) > 200:
            return None
        found: Session | None = await self.db(
            lambda backend: backend.session(token, int(self.clock()))
        )
        return (token, found) if found is not None else None

    def _secure(self, request: Request) -> bool:
        return self.web.secure_cookies or request.url.scheme == "https"

    def _filters(self, source: Mapping[str, str], session: Session) -> Filters:
        status = source.get("status") or None
        if status not in STATUSES:
            status = None
        project = (source.get("project") or "").strip()[:_MAX_PROJECT] or None
        org = (source.get("org") or "").strip() or None
        return Filters(status, project, org if session.user.is_admin else None)

    @staticmethod
    def _scope(session: Session, filters: Filters) -> str | None:
        """Whose documents a viewer sees: their organisation, or (administrators) the one
        chosen, or every one."""
        return filters.org if session.user.is_admin else session.user.org

    @staticmethod
    def _origin_ok(request: Request) -> bool:
        """A browser's Origin, when sent, must be this site's host (compared by host and port
        only, so a TLS proxy in front changes nothing)."""
        origin = request.headers.get("origin")
        if origin is None:
            return True
        return urlsplit(origin).netloc.lower() == request.headers.get("host", "").lower()

    async def _authorised_post(
        self, request: Request
    ) -> tuple[tuple[str, Session], dict[str, str]] | Response:
        """The session and form of a state-changing request, or the answer refusing it."""
        found = await self._session(request)
        if found is None:
            if _wants_json(request):
                return _error(401, "log in first")
            return RedirectResponse("/login", status_code=303)
        form = await _form(request)
        if form is None:
            return _error(413, f"the form is larger than {FORM_LIMIT} bytes")
        given = request.headers.get(CSRF_HEADER) or form.get("csrf", "")
        if not same(given, found[1].csrf) or not self._origin_ok(request):
            return _error(403, "the form has expired or did not come from this site; reload")
        return found, form

    # login ------------------------------------------------------------------------------------

    async def login_form(self, request: Request) -> Response:
        if await self._session(request) is not None:
            return RedirectResponse(_safe_next(request.query_params.get("next")), 303)
        return self._login_page(request, request.query_params.get("next") or "/")

    def _login_page(
        self, request: Request, next_url: str, error: str | None = None, email: str = ""
    ) -> Response:
        csrf = new_token()
        status = 200 if error is None else 401
        answer = HTMLResponse(
            pages.login_page(csrf, _safe_next(next_url), error, email), status_code=status
        )
        answer.set_cookie(
            LOGIN_COOKIE,
            csrf,
            max_age=3600,
            httponly=True,
            samesite="strict",
            secure=self._secure(request),
            path="/login",
        )
        return answer

    def _throttled(self, key: str) -> bool:
        now = self.clock()
        window = self.web.login_window_seconds
        if len(self._failures) > MAX_THROTTLED:
            self._failures = {
                k: times for k, times in self._failures.items() if now - times[-1] < window
            }
        recent = [t for t in self._failures.get(key, []) if now - t < window]
        if recent:
            self._failures[key] = recent
        else:
            self._failures.pop(key, None)
        return len(recent) >= self.web.login_attempts

    async def login(self, request: Request) -> Response:
        form = await _form(request)
        if form is None:
            return _error(413, f"the form is larger than {FORM_LIMIT} bytes")
        email = form.get("email", "")[:254]
        password = form.get("password", "")
        next_url = form.get("next") or "/"
        if not same(form.get("csrf", ""), request.cookies.get(LOGIN_COOKIE) or "\0"):
            return self._login_page(request, next_url, "The form expired; try again.", email)
        address = normal_email(email) or email.strip().lower()
        # Throttled per address and client, so guessing at someone's password from one place
        # cannot lock them out everywhere.
        key = f"{address} {request.client.host if request.client else ''}"
        if self._throttled(key):
            answer = self._login_page(
                request, next_url, "Too many failed attempts; wait a few minutes.", email
            )
            answer.status_code = 429
            return answer
        found = (
            await self.db(lambda backend: backend.user_for_login(address))
            if normal_email(email)
            else None
        )
        user, hashed = found if found is not None else (None, None)
        matches = await asyncio.to_thread(verify_password, password, hashed)
        if user is None or not matches:
            self._failures.setdefault(key, []).append(self.clock())
            log.warning("failed login for %r from %s", address, request.client)
            return self._login_page(request, next_url, "Wrong email or password.", email)
        self._failures.pop(key, None)
        token, _ = await self.db(
            lambda backend: backend.start_session(user, int(self.clock()), self.web.session_seconds)
        )
        answer = RedirectResponse(_safe_next(next_url), status_code=303)
        answer.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=self.web.session_seconds,
            httponly=True,
            samesite="lax",
            secure=self._secure(request),
        )
        answer.delete_cookie(LOGIN_COOKIE, path="/login")
        return answer

    async def logout(self, request: Request) -> Response:
        checked = await self._authorised_post(request)
        if isinstance(checked, Response):
            return checked
        (token, _), _ = checked
        await self.db(lambda backend: backend.end_session(token))
        answer = RedirectResponse("/login", status_code=303)
        answer.delete_cookie(SESSION_COOKIE)
        return answer

    # the page ---------------------------------------------------------------------------------

    async def page(self, request: Request) -> Response:
        found = await self._session(request)
        if found is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        _, session = found
        filters = self._filters(request.query_params, session)
        snapshot: Snapshot = await self.db(
            lambda backend: backend.snapshot(
                self._scope(session, filters), filters.status, filters.project
            )
        )
        panel = ""
        doc = request.query_params.get("doc")
        if doc:
            panel = await self._panel_html(doc, session, filters) or NOT_FOUND_PANEL
        notice = (request.query_params.get("notice") or "")[:500]
        return HTMLResponse(pages.documents_page(session, snapshot, filters, panel, notice))

    async def _panel_html(self, doc: str, session: Session, filters: Filters) -> str | None:
        """The details panel of a document the viewer may see, or None."""
        try:
            doc_id = str(uuid.UUID(doc))
            details = await self.db(lambda backend: backend.details(doc_id, _visible_org(session)))
        except (ValueError, DocumentNotFoundError):
            return None
        return pages.panel_html(details, session, filters)

    async def panel(self, request: Request) -> Response:
        found = await self._session(request)
        if found is None:
            return _error(401, "log in first")
        _, session = found
        filters = self._filters(request.query_params, session)
        doc_id = _doc_id(request)
        html = await self._panel_html(doc_id, session, filters) if doc_id else None
        if html is None:
            return HTMLResponse(NOT_FOUND_PANEL, status_code=404)
        return HTMLResponse(html)

    async def documents_json(self, request: Request) -> Response:
        found = await self._session(request)
        if found is None:
            return _error(401, "log in first")
        _, session = found
        filters = self._filters(request.query_params, session)
        snapshot: Snapshot = await self.db(
            lambda backend: backend.snapshot(
                self._scope(session, filters), filters.status, filters.project
            )
        )
        return JSONResponse(
            {"documents": [_document(v) for v in snapshot.views], "counts": snapshot.counts}
        )

    async def document_json(self, request: Request) -> Response:
        found = await self._session(request)
        if found is None:
            return _error(401, "log in first")
        _, session = found
        doc_id = _doc_id(request)
        try:
            if doc_id is None:
                raise DocumentNotFoundError("no such document")
            details = await self.db(lambda backend: backend.details(doc_id, _visible_org(session)))
        except DocumentNotFoundError:
            return _error(404, "no such document")
        return JSONResponse(
            {
                "document": _document(details.view),
                "history": details.events,
                "links": [{"label": link.label, "url": link.url} for link in details.links],
            }
        )

    # actions ----------------------------------------------------------------------------------

    async def retry(self, request: Request) -> Response:
        return await self._act(request, Backend.retry)

    async def sync(self, request: Request) -> Response:
        return await self._act(request, Backend.sync)

    async def _act(
        self,
        request: Request,
        action: Callable[[Backend, str, str | None, str], service.CommandReport],
    ) -> Response:
        checked = await self._authorised_post(request)
        if isinstance(checked, Response):
            return checked
        (_, session), form = checked
        doc_id = _doc_id(request)
        if doc_id is None:
            return _error(404, "no such document")
        within = _visible_org(session)
        try:
            who = session.user.email
            report = await self.db(lambda backend: action(backend, doc_id, within, who))
        except DocumentNotFoundError:
            return _error(404, "no such document")
        log.info(
            "%s of %s by %s: %s",
            action.__name__,
            doc_id,
            session.user.email,
            "; ".join(report.done or report.refused),
        )
        return self._reported(request, form, report)

    async def retry_failed(self, request: Request) -> Response:
        checked = await self._authorised_post(request)
        if isinstance(checked, Response):
            return checked
        (_, session), form = checked
        filters = self._filters({"org": form.get("org", "")}, session)
        who = session.user.email
        report = await self.db(
            lambda backend: backend.retry_failed(self._scope(session, filters), who)
        )
        log.info("retry of every failed document by %s: %d", session.user.email, len(report.done))
        return self._reported(request, form, report)

    @staticmethod
    def _reported(
        request: Request, form: dict[str, str], report: service.CommandReport
    ) -> Response:
        if not report.done and not report.refused:
            report.refused.append("nothing to do")
        status = 409 if report.refused and not report.done else 200
        notice = wording.notice_text(report.done, report.refused)
        if _wants_json(request):
            return JSONResponse(
                {"done": report.done, "refused": report.refused, "notice": notice}, status
            )
        back = _back(form)
        query = (back + "&" if back else "") + urlencode({"notice": notice[:500]})
        return RedirectResponse(f"/?{query}", status_code=303)

    # live updates -----------------------------------------------------------------------------

    async def events(self, request: Request) -> Response:
        found = await self._session(request)
        if found is None:
            return _error(401, "log in first")
        token, session = found
        filters = self._filters(request.query_params, session)
        scope = self._scope(session, filters)

        async def stream() -> AsyncIterator[str]:
            yield "retry: 2000\n\n"
            last_version: tuple[int, int] | None = None
            last_digest = ""
            quiet = 0.0
            while not self.stopping.is_set():
                try:
                    current = await self.db(
                        lambda backend: backend.session(token, int(self.clock()))
                    )
                    if current is None:
                        yield "event: expired\ndata: {}\n\n"
                        return
                    version: tuple[int, int] = await self.db(Backend.version)
                    if version != last_version:
                        snapshot: Snapshot = await self.db(
                            lambda backend: backend.snapshot(scope, filters.status, filters.project)
                        )
                        text = json.dumps(_live_payload(snapshot, session, filters, version[0]))
                        digest = hashlib.sha256(text.encode()).hexdigest()
                        last_version = version
                        if digest != last_digest:
                            last_digest = digest
                            quiet = 0.0
                            yield f"event: documents\ndata: {text}\n\n"
                except (StorageError, PersistenceError) as exc:
                    log.warning("live updates paused: %s", exc)
                if quiet >= self.web.heartbeat_seconds:
                    quiet = 0.0
                    yield ": keep-alive\n\n"
                await asyncio.sleep(self.web.live_interval)
                quiet += self.web.live_interval

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    # the change endpoint ----------------------------------------------------------------------

    async def changes(self, request: Request) -> Response:
        limit = self.web.max_body_bytes
        raw = await _read_body(request, limit)
        if raw is None:
            return _error(
                413, f"the body is larger than {limit} bytes: send fewer changes per request"
            )
        secret = request.headers.get(SECRET_HEADER)
        signed = request.headers.get(SIGNATURE_HEADER)
        if not secret and not signed:
            return _error(
                401,
                f"send the organisation's secret in {SECRET_HEADER}, or sign the "
                f"body with it in {SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256>",
            )
        try:
            items = decode_body(raw)
        except BodyError as exc:
            return JSONResponse(_refusal([exc.problem]), status_code=400)
        org = (request.headers.get(ORG_HEADER) or "").strip() or org_of(items)
        if org is None:
            return _error(
                401, f"the changes name no single organisation: send {ORG_HEADER}: <org id>"
            )
        try:
            stored: str | None = await self.db(lambda backend: backend.webhook_secret(org))
        except WebhookSecretError as exc:
            log.error("change endpoint: %s", exc)
            return _error(503, "the server cannot check webhook secrets; nothing was recorded")
        expected = stored or _DUMMY_SECRET
        valid = True
        if secret:
            valid = same(secret, expected) and valid
        if signed:
            valid = signature_matches(expected, raw, signed) and valid
        if stored is None or not valid:
            log.warning(
                "change endpoint: bad secret for organisation %r from %s", org, request.client
            )
            return _error(401, f"bad secret or signature for organisation {org}")
        checked = check(items, org)
        report = service.IngestReport()
        if checked.valid:
            report = await self.db(lambda backend: backend.ingest(checked.valid))
        problems = list(checked.problems)
        if report.rejected:
            problems.extend(Problem(None, "(change)", r.reason) for r in report.rejected)
        answer = {
            "ingested": report.ingested,
            "duplicates": report.duplicates,
            "rejected": rejected_count(problems),
            "errors": [p.as_json() for p in sorted(problems, key=_problem_order)],
        }
        log.info(
            "change endpoint: organisation %s ingested %d, duplicates %d, rejected %d",
            org,
            report.ingested,
            report.duplicates,
            answer["rejected"],
        )
        return JSONResponse(answer, status_code=400 if problems else 202)

    # health and metrics -----------------------------------------------------------------------

    async def healthz(self, request: Request) -> Response:
        database: dict[str, Any] = {"reachable": True}
        head, lag = 0, dict[str, int]()
        try:
            await self.db(Backend.ping)
            head, lag = await self.db(Backend.lag)
        except (StorageError, PersistenceError, OSError) as exc:
            database = {"reachable": False, "error": str(exc)}
        relay_ok = self.relay.alive() or not self.relay.enabled
        healthy = database["reachable"] and relay_ok
        return JSONResponse(
            {
                "status": "ok" if healthy else "failing",
                "database": database,
                "relay": {"enabled": self.relay.enabled, "running": self.relay.alive()},
                "log_head": head,
                "lag": lag,
            },
            status_code=200 if healthy else 503,
        )

    async def metrics(self, request: Request) -> Response:
        data = metrics.MetricsData(database_up=True)
        try:
            await self.db(Backend.ping)
            data.status_counts = await self.db(Backend.status_counts)
            data.outbox_depth = await self.db(Backend.outbox_depth)
            data.log_head, data.lag = await self.db(Backend.lag)
            data.limits = await self.db(Backend.org_states)
        except (StorageError, PersistenceError, OSError):
            data.database_up = False
        now = self.clock()
        data.parked_until = {
            s.org: s.parked_until for s in data.limits if s.parked(now) and s.parked_until
        }
        data.relay_enabled = self.relay.enabled
        data.relay_up = self.relay.alive()
        relay = self.relay.relay
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
            headers={"Cache-Control": "public, max-age=31536000, immutable", "ETag": asset.digest},
        )


def _visible_org(session: Session) -> str | None:
    """The organisation a viewer may reach documents of (None: every one, for administrators)."""
    return None if session.user.is_admin else session.user.org


def _document(view: Any) -> dict[str, Any]:
    return {"id": view.row.doc_id, **view.as_json()}


def _live_payload(
    snapshot: Snapshot, session: Session, filters: Filters, version: int
) -> dict[str, Any]:
    return {
        "version": version,
        "rows": pages.rows_html(snapshot, session, filters),
        "summary": pages.summary_html(snapshot, filters),
        "failed": snapshot.counts.get("Failed", 0),
        "projects": snapshot.projects,
        "orgs": snapshot.orgs,
        "documents": [_document(v) for v in snapshot.views[: pages.ROW_LIMIT]],
    }


def _refusal(problems: list[Problem]) -> dict[str, Any]:
    return {
        "ingested": 0,
        "duplicates": 0,
        "rejected": rejected_count(problems),
        "errors": [p.as_json() for p in problems],
    }


def _problem_order(problem: Problem) -> int:
    return -1 if problem.index is None else problem.index


def _back(form: dict[str, str]) -> str:
    """The page's filters to go back to after a form post (rebuilt, never echoed)."""
    parsed = parse_qs(form.get("back", ""))
    keep = {k: v[0] for k, v in parsed.items() if k in ("org", "status", "project") and v}
    return Filters(keep.get("status"), keep.get("project"), keep.get("org")).query()


def create_app(
    settings: Settings,
    web: WebSettings | None = None,
    relay: RelayState | None = None,
    stopping: threading.Event | None = None,
) -> ASGIApp:
    """The web application for one ledger database."""
    return WebApp(
        settings,
        web or WebSettings(),
        relay or NoRelay(),
        stopping or threading.Event(),
    ).app()
