"""Xero's identity service, in memory: consent, tokens, refresh rotation, connections (notes §5).

Authorisation codes are single-use and live 5 minutes. Exchanging one creates a grant (Xero's
"auth event") with one connection per consented tenant, an access token (JWT-shaped, lives
`access_token_ttl_s`) and, with `offline_access`, a refresh token. Refresh tokens rotate on every
use; a used one stays usable for `refresh_grace_s` after its first use and then answers with a
new access token and the same successor, so concurrent refreshers all end with a valid pair.
Client-credentials grants are custom connections bound to one tenant. `authenticate` is the
Accounting API's gate: token, expiry, scope, then tenant and connection.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from syncledger.sandbox import scopes
from syncledger.sandbox.config import SandboxConfig
from syncledger.sandbox.errors import GrantError
from syncledger.sandbox.exchange import Request, Response, problem
from syncledger.sandbox.grants import (
    AccessToken,
    Code,
    Connection,
    Grant,
    RefreshToken,
    jwt,
    utc_text,
)
from syncledger.sandbox.tenants import Tenants

__all__ = ["GrantError", "Identity", "Principal"]

CODE_TTL_S = 300.0
REFRESH_TTL_S = 60 * 86400.0
ISSUER = "https://identity.xero.com"


@dataclass(frozen=True)
class Principal:
    """Who is calling the Accounting API, for which tenant."""

    tenant_id: str
    client_key: str
    client_id: str | None


def _unauthorized(detail: str, challenge: str) -> Response:
    return problem(401, "Unauthorized", detail, [("WWW-Authenticate", challenge)])


def _forbidden() -> Response:
    return problem(403, "Forbidden", "AuthenticationUnsuccessful")


class Identity:
    """The identity service's state and rules; thread-safe."""

    def __init__(self, config: SandboxConfig, tenants: Tenants) -> None:
        self._config = config
        self._tenants = tenants
        self._lock = threading.Lock()
        self._codes: dict[str, Code] = {}
        self._grants: dict[str, Grant] = {}
        self._access: dict[str, AccessToken] = {}
        self._refresh: dict[str, RefreshToken] = {}
        self._connections: dict[str, Connection] = {}
        self._current: dict[tuple[str, str], str] = {}

    # clients -------------------------------------------------------------------------------
    @property
    def open_mode(self) -> bool:
        """Whether any client is accepted."""
        return self._config.open_mode

    def known_client(self, client_id: str | None) -> bool:
        """Whether authorisation requests from this client id are accepted."""
        if not client_id:
            return False
        return self.open_mode or client_id == self._config.client_id

    def check_client(self, client_id: str | None, secret: str | None) -> None:
        """Raise `invalid_client` unless the credentials are the configured ones."""
        if not client_id:
            raise GrantError("invalid_client")
        if self.open_mode:
            return
        if client_id != self._config.client_id or secret != self._config.client_secret:
            raise GrantError("invalid_client")

    # codes and tokens ----------------------------------------------------------------------
    def issue_code(
        self,
        client_id: str,
        redirect_uri: str,
        granted: Sequence[str],
        tenant_ids: Sequence[str],
        now: float,
    ) -> str:
        """A single-use authorisation code valid for 5 minutes."""
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._codes[code] = Code(
                code, client_id, redirect_uri, tuple(granted), tuple(tenant_ids), now + CODE_TTL_S
            )
        return code

    def exchange_code(
        self, client_id: str, code: str, redirect_uri: str | None, now: float
    ) -> dict[str, Any]:
        """Trade an authorisation code for tokens."""
        with self._lock:
            record = self._codes.get(code)
            if record is None or record.used or now >= record.expires_at:
                raise GrantError("invalid_grant")
            if record.client_id != client_id or record.redirect_uri != redirect_uri:
                raise GrantError("invalid_grant")
            record.used = True
            grant = self._new_grant(client_id, "authorization_code", record.scopes, now)
            for tenant_id in record.tenant_ids:
                self._connect(grant, tenant_id, now)
            return self._issue(grant, now, with_refresh="offline_access" in grant.scopes)

    def client_credentials(
        self, client_id: str, requested: str | None, tenant_id: str | None, now: float
    ) -> dict[str, Any]:
        """A custom-connection token bound to one tenant (the first unless one is named)."""
        wanted = scopes.parse(requested or scopes.CUSTOM_CONNECTION_DEFAULT)
        if any(scope not in scopes.KNOWN for scope in wanted):
            raise GrantError("invalid_scope")
        tenants = self._tenants.ids()
        target = (tenant_id or "").strip().lower() or (tenants[0] if tenants else None)
        if target is None or target not in tenants:
            raise GrantError("invalid_request", "unknown tenant")
        with self._lock:
            grant = self._new_grant(client_id, "client_credentials", tuple(wanted), now)
            self._connect(grant, target, now)
            return self._issue(grant, now, with_refresh=False)

    def refresh(self, client_id: str, token: str, now: float) -> dict[str, Any]:
        """Rotate a refresh token, honouring the grace period of an already-used one."""
        with self._lock:
            record = self._refresh.get(token)
            if record is None:
                raise GrantError("invalid_grant")
            grant = self._grants.get(record.grant_id)
            if grant is None or grant.revoked or grant.client_id != client_id:
                raise GrantError("invalid_grant")
            if record.used_at is None:
                if now - record.issued_at > REFRESH_TTL_S:
                    raise GrantError("invalid_grant")
                successor = self._new_refresh(grant, now)
                record.used_at = now
                record.successor = successor
            elif now - record.used_at <= self._config.refresh_grace_s and record.successor:
                successor = record.successor
            else:
                raise GrantError("invalid_grant")
            payload = self._issue(grant, now, with_refresh=False)
            payload["refresh_token"] = successor
            return payload

    def revoke(self, client_id: str, token: str) -> None:
        """Revoke the grant behind a refresh (or access) token: its tokens and connections."""
        with self._lock:
            record = self._refresh.get(token) or self._access.get(token)
            if record is None:
                return
            grant = self._grants.get(record.grant_id)
            if grant is None or grant.client_id != client_id:
                return
            grant.revoked = True
            for connection_id in grant.connections.values():
                connection = self._connections.get(connection_id)
                if connection is not None:
                    connection.active = False

    def _new_grant(self, client_id: str, kind: str, granted: tuple[str, ...], now: float) -> Grant:
        grant = Grant(str(uuid.uuid4()), client_id, kind, granted, {})
        self._grants[grant.grant_id] = grant
        return grant

    def _connect(self, grant: Grant, tenant_id: str, now: float) -> None:
        key = (grant.client_id, tenant_id)
        existing = self._connections.get(self._current.get(key, ""))
        if existing is not None and existing.active:
            existing.updated_at = now
            existing.auth_event_id = grant.grant_id
            connection = existing
        else:
            connection = Connection(
                str(uuid.uuid4()), grant.client_id, tenant_id, grant.grant_id, now, now
            )
            self._connections[connection.connection_id] = connection
            self._current[key] = connection.connection_id
        grant.connections[tenant_id] = connection.connection_id

    def _new_refresh(self, grant: Grant, now: float) -> str:
        token = secrets.token_urlsafe(48)
        self._refresh[token] = RefreshToken(token, grant.grant_id, now)
        return token

    def _issue(self, grant: Grant, now: float, *, with_refresh: bool) -> dict[str, Any]:
        ttl = self._config.access_token_ttl_s
        claims = {
            "nbf": int(now),
            "exp": int(now + ttl),
            "iss": ISSUER,
            "aud": f"{ISSUER}/resources",
            "client_id": grant.client_id,
            "sub": grant.user_id,
            "auth_time": int(now),
            "xero_userid": grant.user_id,
            "authentication_event_id": grant.grant_id,
            "jti": secrets.token_hex(16),
            "scope": list(grant.scopes),
        }
        access = jwt(claims)
        self._access[access] = AccessToken(access, grant.grant_id, now + ttl)
        payload: dict[str, Any] = {}
        if "openid" in grant.scopes:
            payload["id_token"] = jwt(
                {"iss": ISSUER, "aud": grant.client_id, "sub": grant.user_id, "exp": int(now + 300)}
            )
        payload["access_token"] = access
        payload["expires_in"] = max(1, math.ceil(ttl))
        payload["token_type"] = "Bearer"  # noqa: S105 - the OAuth token type, not a secret
        if with_refresh:
            payload["refresh_token"] = self._new_refresh(grant, now)
        payload["scope"] = " ".join(grant.scopes)
        return payload

    # bearer tokens -------------------------------------------------------------------------
    def _bearer(self, request: Request) -> str | None:
        header = request.header("Authorization") or ""
        if header[:7].lower() != "bearer ":
            return None
        return header[7:].strip() or None

    def _valid_grant(self, request: Request, now: float) -> Grant | Response:
        token = self._bearer(request)
        if token is None:
            return _unauthorized("AuthenticationUnsuccessful", "Bearer")
        record = self._access.get(token)
        grant = self._grants.get(record.grant_id) if record else None
        if record is None or grant is None or grant.revoked:
            return _unauthorized("AuthenticationUnsuccessful", 'Bearer error="invalid_token"')
        if now >= record.expires_at:
            expired = dt.datetime.fromtimestamp(record.expires_at, tz=dt.UTC)
            return _unauthorized(
                f"TokenExpired: token expired at {expired.strftime('%m/%d/%Y %H:%M:%S')}",
                'Bearer error="invalid_token", error_description="The access token expired"',
            )
        return grant

    def authenticate(
        self, request: Request, needed: frozenset[str], now: float
    ) -> Principal | Response:
        """Admit an Accounting API call, or answer 401/403 as Xero does."""
        header_tenant = (request.header("xero-tenant-id") or "").strip().lower() or None
        with self._lock:
            if self.open_mode:
                return self._open_principal(request, header_tenant)
            checked = self._valid_grant(request, now)
            if isinstance(checked, Response):
                return checked
            grant = checked
            if not needed & set(grant.scopes):
                return _unauthorized(
                    "AuthorizationUnsuccessful", 'Bearer error="insufficient_scope"'
                )
            tenant = header_tenant
            if grant.kind == "client_credentials":
                bound = next(iter(grant.connections))
                if tenant is not None and tenant != bound:
                    return _forbidden()
                tenant = bound
            if tenant is None or not self._tenants.exists(tenant):
                return _forbidden()
            connection = self._connections.get(grant.connections.get(tenant, ""))
            if connection is None or not connection.active:
                return _forbidden()
            return Principal(tenant, grant.client_id, grant.client_id)

    def _open_principal(self, request: Request, tenant: str | None) -> Principal | Response:
        client_id: str | None = None
        token = self._bearer(request)
        record = self._access.get(token) if token else None
        grant = self._grants.get(record.grant_id) if record else None
        if grant is not None:
            client_id = grant.client_id
            if tenant is None and grant.kind == "client_credentials":
                tenant = next(iter(grant.connections))
        if tenant is None or not self._tenants.exists(tenant):
            return _forbidden()
        return Principal(tenant, "", client_id)

    # connections ---------------------------------------------------------------------------
    def connections(
        self, request: Request, now: float, auth_event_id: str | None
    ) -> Response | list[dict[str, Any]]:
        """The caller's active connections (GET /connections)."""
        with self._lock:
            checked = self._valid_grant(request, now)
            if isinstance(checked, Response):
                return checked
            client_id = checked.client_id
            result: list[dict[str, Any]] = []
            for connection in self._connections.values():
                if connection.client_id != client_id or not connection.active:
                    continue
                if auth_event_id and connection.auth_event_id != auth_event_id.lower():
                    continue
                result.append(
                    {
                        "id": connection.connection_id,
                        "authEventId": connection.auth_event_id,
                        "tenantId": connection.tenant_id,
                        "tenantType": "ORGANISATION",
                        "tenantName": self._tenants.name(connection.tenant_id) or "",
                        "createdDateUtc": utc_text(connection.created_at),
                        "updatedDateUtc": utc_text(connection.updated_at),
                    }
                )
            return result

    def disconnect(self, request: Request, connection_id: str, now: float) -> Response | bool:
        """Deactivate one of the caller's connections; False when there is no such connection."""
        with self._lock:
            checked = self._valid_grant(request, now)
            if isinstance(checked, Response):
                return checked
            connection = self._connections.get(connection_id.strip().lower())
            if connection is None or not connection.active:
                return False
            if connection.client_id != checked.client_id:
                return False
            connection.active = False
            connection.updated_at = now
            return True
