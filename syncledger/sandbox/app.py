"""The sandbox application: its state, wired together, and the router from paths to services.

`SandboxApp` owns the organisations, the identity service, the rate limiter, the idempotency
store, the fault injector and the request log, and answers any `Request` without knowing about
sockets: `/api.xro/2.0/...` goes through the API gateway, `/identity/...`, `/connect/...` and
`/connections` to the identity service, `/sandbox/...` to the control endpoints.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from syncledger.sandbox import control, oauth, orgsettings
from syncledger.sandbox.config import SandboxConfig
from syncledger.sandbox.dump import state_json
from syncledger.sandbox.errors import SandboxConfigError, UnknownTenantError
from syncledger.sandbox.exchange import Request, Response, not_found, text_response
from syncledger.sandbox.faults import FaultInjector, FaultSettings
from syncledger.sandbox.gateway import Gateway
from syncledger.sandbox.idempotency import IdempotencyStore
from syncledger.sandbox.identity import Identity
from syncledger.sandbox.limits import LimitSettings, RateLimiter
from syncledger.sandbox.reqlog import RequestLog
from syncledger.sandbox.routes import API_PREFIX
from syncledger.sandbox.tenants import Tenants


class SandboxApp:
    """Everything the sandbox serves, independent of the HTTP transport."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.started_at = time.time()
        self.stop_event = threading.Event()
        self.tenants = Tenants(config.base_currency, config.currencies)
        for _ in range(config.tenants):
            self.tenants.add()
        self.identity = Identity(config, self.tenants)
        self.limiter = RateLimiter(
            LimitSettings(
                minute_limit=config.minute_limit,
                concurrent_limit=config.concurrent_limit,
                day_limit=config.day_limit,
                app_minute_limit=config.app_minute_limit,
                minute_window_s=config.minute_window_s,
                day_window_s=config.day_window_s,
            )
        )
        self.idempotency = IdempotencyStore(config.idempotency_window_s, self.stop_event)
        self.faults = FaultInjector(
            FaultSettings(
                rates=config.fault_rates,
                latency_ms=config.latency_ms,
                timeout_s=config.fault_timeout_s,
                methods=config.fault_methods,
                seed=config.seed,
            )
        )
        self.log = RequestLog()
        self.gateway = Gateway(
            self.tenants,
            self.identity,
            self.limiter,
            self.idempotency,
            self.faults,
            self.log,
            self.stop_event,
        )

    # routing -------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        """Answer any request."""
        path = request.path
        lowered = path.lower()
        if lowered.startswith(API_PREFIX):
            return self.gateway.handle(request)
        if lowered == control.PREFIX or lowered.startswith(control.PREFIX + "/"):
            return control.handle(self, request)
        if lowered in {oauth.AUTHORIZE_PATH, oauth.TOKEN_PATH, oauth.REVOCATION_PATH} or (
            lowered == oauth.CONNECTIONS_PATH or lowered.startswith(oauth.CONNECTIONS_PATH + "/")
        ):
            return self._identity_request(request, lowered)
        return not_found()

    def _identity_request(self, request: Request, lowered: str) -> Response:
        entry = self.log.start(
            request.method, request.path, request.query, None, request.received_at
        )
        if lowered == oauth.AUTHORIZE_PATH and request.method == "GET":
            response = oauth.authorize(self.identity, self.tenants, request)
        elif lowered == oauth.TOKEN_PATH and request.method == "POST":
            response = oauth.token(self.identity, request)
        elif lowered == oauth.REVOCATION_PATH and request.method == "POST":
            response = oauth.revocation(self.identity, request)
        elif lowered.startswith(oauth.CONNECTIONS_PATH):
            response = oauth.connections(self.identity, request, lowered)
        else:
            response = text_response(405, "Method not allowed")
        entry.status = response.status
        return response

    # in-process control --------------------------------------------------------------------
    def add_tenant(self, name: str | None = None) -> str:
        """Create an organisation and return its tenant id."""
        return self.tenants.add(name).tenant_id

    def tenant_list(self) -> list[dict[str, str]]:
        """Tenant ids and names in creation order."""
        return [{"tenant_id": org.tenant_id, "name": org.name} for org in self.tenants.all()]

    def state(self, tenant_id: str) -> dict[str, Any]:
        """The state dump of one tenant."""
        org = self.tenants.get(tenant_id)
        if org is None:
            raise UnknownTenantError(tenant_id)
        with org.lock:
            return state_json(org)

    def settings(self, tenant_id: str) -> dict[str, Any]:
        """A tenant's base currency, enabled currencies and period lock date."""
        org = self.tenants.get(tenant_id)
        if org is None:
            raise UnknownTenantError(tenant_id)
        with org.lock:
            return orgsettings.settings_json(org)

    def set_settings(self, tenant_id: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """Change a tenant's settings (keys of `orgsettings.KEYS`); returns them all."""
        change = orgsettings.parse(values)
        org = self.tenants.get(tenant_id)
        if org is None:
            raise UnknownTenantError(tenant_id)
        with org.lock:
            orgsettings.apply(org, change)
            return orgsettings.settings_json(org)

    def requests(self, tenant_id: str | None = None) -> list[dict[str, Any]]:
        """The request log, optionally of one tenant."""
        return self.log.entries(tenant_id.strip().lower() if tenant_id else None)

    def set_faults(
        self,
        *,
        fault_rates: Mapping[str, float] | None = None,
        latency_ms: float | None = None,
        fault_timeout_s: float | None = None,
        fault_methods: tuple[str, ...] | list[str] | None = None,
        seed: int | None = None,
    ) -> dict[str, Any]:
        """Change fault settings; returns them all."""
        settings = self.faults.configure(
            fault_rates=fault_rates,
            latency_ms=latency_ms,
            fault_timeout_s=fault_timeout_s,
            fault_methods=fault_methods,
            seed=seed,
        )
        return settings.as_json()

    def set_limits(
        self,
        *,
        minute_limit: int | None = None,
        concurrent_limit: int | None = None,
        day_limit: int | None = None,
        app_minute_limit: int | None = None,
        minute_window_s: float | None = None,
        day_window_s: float | None = None,
        idempotency_window_s: float | None = None,
    ) -> dict[str, Any]:
        """Change limits and windows; returns them all."""
        changes: dict[str, float] = {
            name: value
            for name, value in (
                ("minute_limit", minute_limit),
                ("concurrent_limit", concurrent_limit),
                ("day_limit", day_limit),
                ("app_minute_limit", app_minute_limit),
                ("minute_window_s", minute_window_s),
                ("day_window_s", day_window_s),
            )
            if value is not None
        }
        if idempotency_window_s is not None and (
            isinstance(idempotency_window_s, bool)
            or not isinstance(idempotency_window_s, int | float)
            or idempotency_window_s <= 0
        ):
            raise SandboxConfigError(
                f"idempotency_window_s must be > 0, got {idempotency_window_s!r}"
            )
        if changes:
            self.limiter.update(**changes)
        if idempotency_window_s is not None:
            self.idempotency.window_s = float(idempotency_window_s)
        return self.limits_json()

    def limits_json(self) -> dict[str, Any]:
        """Limits, windows and the idempotency window in force."""
        s = self.limiter.settings
        return {
            "minute_limit": s.minute_limit,
            "concurrent_limit": s.concurrent_limit,
            "day_limit": s.day_limit,
            "app_minute_limit": s.app_minute_limit,
            "minute_window_s": s.minute_window_s,
            "day_window_s": s.day_window_s,
            "idempotency_window_s": self.idempotency.window_s,
        }

    def reset(self) -> None:
        """Clear documents, logs, idempotency keys and rate counters; keep tenants, charts and
        settings."""
        for org in self.tenants.all():
            with org.lock:
                org.clear_documents()
        self.log.clear()
        self.idempotency.clear()
        self.limiter.reset()

    def health(self) -> dict[str, Any]:
        """A liveness summary."""
        return {
            "status": "ok",
            "tenants": len(self.tenants.ids()),
            "open_mode": self.config.open_mode,
            "uptime_s": round(time.time() - self.started_at, 3),
        }
