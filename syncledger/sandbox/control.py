"""The sandbox-only control and inspection endpoints under `/sandbox/` (never faulted or limited).

```
GET  /sandbox/health                   {"status": "ok", "tenants": N, "open_mode": bool, ...}
GET  /sandbox/tenants                  {"tenants": [{"tenant_id", "name"}, ...]}
POST /sandbox/tenants    {"name": ..}  {"tenant_id": .., "name": ..}
GET  /sandbox/state?tenant=ID          the tenant's base_currency, currencies, period_lock_date,
                                       contacts, invoices, credit_notes, allocations, payments
                                       and accounts (amounts as strings)
GET  /sandbox/settings?tenant=ID       {"tenant", "base_currency", "currencies", "period_lock_date"}
POST /sandbox/settings   {tenant, base_currency, currencies, period_lock_date}
                                       change them (all but tenant optional); answers as GET
GET  /sandbox/requests[?tenant=ID]     the request log, a JSON array
POST /sandbox/faults     {fault_rates, latency_ms, fault_timeout_s, fault_methods, seed}
POST /sandbox/limits     {minute_limit, concurrent_limit, day_limit, app_minute_limit,
                          minute_window_s, day_window_s, idempotency_window_s}
POST /sandbox/reset                    clear documents, logs, keys and counters; keep tenants,
                                       charts and settings
```
`currencies` lists every enabled currency, the base included, sorted; setting it replaces the
enabled set. `period_lock_date` is `YYYY-MM-DD` or null (no lock).
Bad input answers 400 `{"error": ...}`; an unknown tenant 404.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from syncledger.sandbox import orgsettings
from syncledger.sandbox.errors import SandboxConfigError, UnknownTenantError
from syncledger.sandbox.exchange import Request, Response, json_response

if TYPE_CHECKING:
    from syncledger.sandbox.app import SandboxApp

PREFIX = "/sandbox"
FAULT_KEYS = frozenset({"fault_rates", "latency_ms", "fault_timeout_s", "fault_methods", "seed"})
LIMIT_KEYS = frozenset(
    {
        "minute_limit",
        "concurrent_limit",
        "day_limit",
        "app_minute_limit",
        "minute_window_s",
        "day_window_s",
        "idempotency_window_s",
    }
)


def _error(status: int, message: str) -> Response:
    return json_response(status, {"error": message})


def _body(request: Request) -> dict[str, Any]:
    if not request.body.strip():
        return {}
    try:
        value = json.loads(request.body)
    except ValueError as exc:
        raise SandboxConfigError(f"request body is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise SandboxConfigError("request body must be a JSON object")
    return value


def _only(body: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise SandboxConfigError(
            f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )


def _tenant(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SandboxConfigError("tenant is required (a tenant id)")
    return value


def handle(app: SandboxApp, request: Request) -> Response:
    """Answer a `/sandbox/...` request."""
    action = request.path[len(PREFIX) :].strip("/").lower()
    method = request.method
    try:
        if action == "health" and method in {"GET", "HEAD"}:
            return json_response(200, app.health())
        if action == "tenants" and method == "GET":
            return json_response(200, {"tenants": app.tenant_list()})
        if action == "tenants" and method == "POST":
            body = _body(request)
            _only(body, frozenset({"name"}))
            name = body.get("name")
            if name is not None and not isinstance(name, str):
                raise SandboxConfigError("name must be a string")
            tenant_id = app.add_tenant(name)
            return json_response(200, {"tenant_id": tenant_id, "name": app.tenants.name(tenant_id)})
        if action == "state" and method == "GET":
            return json_response(200, app.state(_tenant(request.param("tenant"))))
        if action == "settings" and method == "GET":
            return json_response(200, app.settings(_tenant(request.param("tenant"))))
        if action == "settings" and method == "POST":
            body = _body(request)
            _only(body, orgsettings.KEYS | {"tenant"})
            tenant = _tenant(body.pop("tenant", None))
            return json_response(200, app.set_settings(tenant, body))
        if action == "requests" and method == "GET":
            return json_response(200, app.requests(request.param("tenant")))
        if action == "faults" and method == "POST":
            body = _body(request)
            _only(body, FAULT_KEYS)
            return json_response(200, app.set_faults(**body))
        if action == "faults" and method == "GET":
            return json_response(200, app.faults.settings.as_json())
        if action == "limits" and method == "POST":
            body = _body(request)
            _only(body, LIMIT_KEYS)
            return json_response(200, app.set_limits(**body))
        if action == "limits" and method == "GET":
            return json_response(200, app.limits_json())
        if action == "reset" and method == "POST":
            app.reset()
            return json_response(200, {"status": "reset"})
    except UnknownTenantError as exc:
        return _error(404, str(exc))
    except (SandboxConfigError, TypeError) as exc:
        return _error(400, str(exc))
    return _error(404, f"no sandbox endpoint {method} {request.path}")
