"""The Accounting API's request pipeline, in the order Xero applies its checks.

route (404) → body size (413) → authentication and tenant (401/403) → rate limits (429: not
counted, nothing stored) → Idempotency-Key (length, conflict, replay, or wait for a concurrent
first use) → added latency → injected fault (502/503/429/timeout answer in front of the API and
store nothing; 500 is stored like any answer) → the handler, under the tenant's lock → store the
answer under the key → for drop_after_commit, close the connection instead of answering. Every
answer carries Xero's `X-*Limit-Remaining` headers. The concurrency slot is held from admission
to answer, including the added latency, while the tenant's lock is held only for the handler
itself, so slow calls never serialise other tenants.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid

from syncledger.sandbox import routes
from syncledger.sandbox.call import Call
from syncledger.sandbox.errors import ApiError
from syncledger.sandbox.exchange import (
    Request,
    Response,
    bad_gateway,
    drop,
    internal_error,
    maintenance,
    message_error,
    not_found,
    text_response,
)
from syncledger.sandbox.faults import FaultInjector
from syncledger.sandbox.idempotency import (
    MAX_KEY_LENGTH,
    Claim,
    Conflict,
    IdempotencyStore,
    Replay,
    fingerprint,
)
from syncledger.sandbox.identity import Identity, Principal
from syncledger.sandbox.limits import RateLimiter
from syncledger.sandbox.model import Organisation
from syncledger.sandbox.reqlog import LogEntry, RequestLog
from syncledger.sandbox.tenants import Tenants

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 3_670_016
"""3.5 MB, Xero's limit on a request body (notes §1.6)."""

IDEMPOTENT_METHODS = frozenset({"PUT", "POST", "PATCH"})


def rate_limited(problem: str, retry_after: int) -> Response:
    """Xero's 429 with `Retry-After` and `X-Rate-Limit-Problem`."""
    return text_response(
        429,
        f"Rate limit exceeded: {problem}",
        [("Retry-After", str(retry_after)), ("X-Rate-Limit-Problem", problem)],
    )


class Gateway:
    """Runs Accounting API requests through the pipeline described in the module docstring."""

    def __init__(
        self,
        tenants: Tenants,
        identity: Identity,
        limiter: RateLimiter,
        idempotency: IdempotencyStore,
        faults: FaultInjector,
        log: RequestLog,
        stop: threading.Event,
    ) -> None:
        self._tenants = tenants
        self._identity = identity
        self._limiter = limiter
        self._idempotency = idempotency
        self._faults = faults
        self._log = log
        self._stop = stop

    def handle(self, request: Request) -> Response:
        """Answer one Accounting API request (or drop its connection)."""
        entry = self._log.start(
            request.method,
            request.path,
            request.query,
            request.header("Idempotency-Key"),
            request.received_at,
        )
        try:
            response = self._handle(request, entry)
        except Exception:  # the per-request boundary: a sandbox bug answers Xero's 500
            logger.exception("sandbox failed on %s %s", request.method, request.path)
            response = internal_error()
        # measured from the arrival `at` stamps, on the clock objects' `created_at` uses, so that
        # [at, at + duration] holds every object the request made however long it queued
        entry.duration_ms = round((time.time() - request.received_at) * 1000, 3)
        if response.drop:
            return response
        entry.status = response.status
        remaining = self._limiter.remaining(entry.tenant, time.time())
        return response.with_headers(
            [*remaining.headers(), ("Xero-Correlation-Id", str(uuid.uuid4()))]
        )

    def _handle(self, request: Request, entry: LogEntry) -> Response:
        matched = routes.match(request.method, request.path)
        if matched is None:
            return not_found()
        route, args = matched
        if len(request.body) > MAX_BODY_BYTES:
            return message_error(
                413,
                413,
                "RequestEntityTooLarge",
                "The request body is larger than the 3.5 MB Xero accepts.",
            )
        principal = self._identity.authenticate(request, route.scopes, time.time())
        if isinstance(principal, Response):
            return principal
        entry.tenant = principal.tenant_id
        entry.client_id = principal.client_id
        org = self._tenants.get(principal.tenant_id)
        if org is None:
            return not_found()
        admission = self._limiter.acquire(principal.tenant_id, time.time())
        if not admission.admitted:
            return rate_limited(admission.problem or "minute", admission.retry_after)
        try:
            return self._admitted(request, route, args, org, principal, entry)
        finally:
            self._limiter.release(principal.tenant_id)

    def _admitted(
        self,
        request: Request,
        route: routes.Route,
        args: list[str],
        org: Organisation,
        principal: Principal,
        entry: LogEntry,
    ) -> Response:
        key = request.header("Idempotency-Key") if request.method in IDEMPOTENT_METHODS else None
        if key is not None and len(key) > MAX_KEY_LENGTH:
            return message_error(
                400,
                10,
                "ValidationException",
                f"Idempotency Key must be at most {MAX_KEY_LENGTH} characters long.",
            )
        claim: Claim | None = None
        if key is not None:
            print_ = fingerprint(
                principal.tenant_id, request.method, request.path, request.query, request.body
            )
            outcome = self._idempotency.begin(principal.client_key, key, print_, time.time())
            if isinstance(outcome, Conflict):
                return message_error(
                    400,
                    10,
                    "ValidationException",
                    f"Idempotency Key: {key} is used with a different request.",
                )
            if isinstance(outcome, Replay):
                entry.replayed = True
                self._delay()
                stored = outcome.response
                return Response(
                    stored.status, stored.body, stored.content_type, list(stored.headers)
                )
            claim = outcome
        try:
            response = self._run(request, route, args, org, principal, entry)
        except BaseException:
            if claim is not None:
                self._idempotency.abandon(claim)
            raise
        if claim is not None:
            if response.drop or entry.fault in {"429", "502", "503", "timeout"}:
                # Answered in front of the API (or never): nothing ran, nothing is remembered.
                self._idempotency.abandon(claim)
            else:
                self._idempotency.complete(claim, response)
        if entry.fault == "drop_after_commit":
            entry.status = response.status
            return drop()
        return response

    def _delay(self) -> bool:
        """Sleep the added latency; True when the sandbox is stopping meanwhile."""
        latency = self._faults.settings.latency_ms
        return latency > 0 and self._stop.wait(latency / 1000.0)

    def _run(
        self,
        request: Request,
        route: routes.Route,
        args: list[str],
        org: Organisation,
        principal: Principal,
        entry: LogEntry,
    ) -> Response:
        if self._delay():
            return drop()
        fault = self._faults.draw(request.method)
        entry.fault = fault
        if fault == "502":
            return bad_gateway()
        if fault == "503":
            return maintenance()
        if fault == "429":
            return rate_limited("minute", 1)
        if fault == "timeout":
            self._stop.wait(self._faults.settings.timeout_s)
            return drop()
        if fault == "500":
            return internal_error()
        # A drop_after_commit fault runs the call; the caller drops the connection afterwards.
        return self._execute(route, args, org, request, principal)

    def _execute(
        self,
        route: routes.Route,
        args: list[str],
        org: Organisation,
        request: Request,
        principal: Principal,
    ) -> Response:
        with org.lock:
            call = Call(org, request, time.time(), principal.client_key)
            try:
                return route.handler(call, args)
            except ApiError as exc:
                return exc.response
            except Exception:  # a sandbox bug: Xero answers (and caches) a 500
                logger.exception("sandbox handler failed on %s %s", request.method, request.path)
                return internal_error()
