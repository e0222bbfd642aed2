"""Xero's identity service (OAuth 2.0): the authorize URL, exchanging a code, refreshing and
revoking tokens, client credentials for custom connections, and the list of connected tenants.

URLs are the only difference between Xero and the sandbox: Xero splits them over three hosts
(login, identity, api); the sandbox serves all three paths on one base URL. Token endpoint
failures are classified like the Accounting API's: a refused grant or client is an
``XeroAuthError``, a timeout or 5xx a ``XeroTransientError`` (a refresh whose answer was lost can
be retried with the same refresh token within Xero's 30-minute grace period).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from outbox.xero.errors import XeroAuthError, XeroError, XeroTransientError, classify_exception
from outbox.xero.wire import loads

GRANULAR_SCOPES = (
    "offline_access accounting.invoices accounting.payments accounting.contacts "
    "accounting.settings.read"
)
BROAD_SCOPES = "offline_access accounting.transactions accounting.contacts accounting.settings.read"
CUSTOM_GRANULAR_SCOPES = (
    "accounting.invoices accounting.payments accounting.contacts accounting.settings.read"
)
CUSTOM_BROAD_SCOPES = "accounting.transactions accounting.contacts accounting.settings.read"


@dataclass(frozen=True)
class IdentityUrls:
    """Where Xero's login, identity and API hosts are."""

    login: str = "https://login.xero.com"
    identity: str = "https://identity.xero.com"
    api: str = "https://api.xero.com"

    @classmethod
    def single(cls, base_url: str) -> IdentityUrls:
        """All three on one base URL (the sandbox)."""
        base = base_url.rstrip("/")
        return cls(login=base, identity=base, api=base)

    @property
    def authorize(self) -> str:
        return self.login.rstrip("/") + "/identity/connect/authorize"

    @property
    def token(self) -> str:
        return self.identity.rstrip("/") + "/connect/token"

    @property
    def revocation(self) -> str:
        return self.identity.rstrip("/") + "/connect/revocation"

    @property
    def connections(self) -> str:
        return self.api.rstrip("/") + "/connections"


@dataclass(frozen=True)
class TokenSet:
    """Tokens from one answer of the token endpoint."""

    access_token: str
    expires_at: float
    refresh_token: str | None
    scope: str

    def __repr__(self) -> str:
        return f"TokenSet(expires_at={self.expires_at}, scope={self.scope!r}, tokens=<hidden>)"


@dataclass(frozen=True)
class Tenant:
    """One organisation the user connected (an entry of ``GET /connections``)."""

    connection_id: str
    tenant_id: str
    tenant_name: str
    tenant_type: str


class XeroIdentity:
    """The identity service for one app (client id and secret)."""

    def __init__(
        self,
        http: httpx.Client,
        urls: IdentityUrls,
        client_id: str,
        client_secret: str,
        clock: Any = time.time,
    ) -> None:
        self.http = http
        self.urls = urls
        self.client_id = client_id
        self._secret = client_secret
        self.clock = clock

    def authorize_url(self, redirect_uri: str, scope: str, state: str) -> str:
        """The page a user opens to consent."""
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": redirect_uri,
                "scope": scope,
                "state": state,
            }
        )
        return f"{self.urls.authorize}?{query}"

    def _token(self, form: Mapping[str, str]) -> TokenSet:
        try:
            response = self.http.post(
                self.urls.token,
                data=dict(form),
                auth=(self.client_id, self._secret),
                headers={"Accept": "application/json"},
            )
        except httpx.HTTPError as exc:
            error = classify_exception(exc, write=True)
            raise XeroTransientError(
                f"Xero's token endpoint did not answer: {error}", uncertain=True
            ) from exc
        body = _json(response)
        if response.status_code in (400, 401, 403):
            code = str(body.get("error", response.status_code))
            raise XeroAuthError(
                f"Xero refused the token request ({code}): reconnect with `syncledger connect`",
                response.status_code,
            )
        if response.status_code != 200 or "access_token" not in body:
            raise XeroTransientError(
                f"Xero's token endpoint answered {response.status_code}",
                response.status_code,
                uncertain=True,
            )
        return TokenSet(
            access_token=str(body["access_token"]),
            expires_at=self.clock() + float(body.get("expires_in", 1800)),
            refresh_token=str(body["refresh_token"]) if body.get("refresh_token") else None,
            scope=str(body.get("scope", "")),
        )

    def exchange_code(self, code: str, redirect_uri: str) -> TokenSet:
        """Tokens for an authorization code."""
        return self._token(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        )

    def refresh(self, refresh_token: str) -> TokenSet:
        """New tokens for a refresh token (which Xero rotates on every use)."""
        return self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def client_credentials(self, scope: str, tenant_id: str | None = None) -> TokenSet:
        """An access token for a custom connection (no refresh token, no tenant header)."""
        form = {"grant_type": "client_credentials", "scope": scope}
        if tenant_id:
            form["tenant_id"] = tenant_id
        return self._token(form)

    def connections(self, access_token: str) -> list[Tenant]:
        """The tenants this token may use."""
        response = self._bearer("GET", self.urls.connections, access_token)
        items = _json_list(response)
        return [
            Tenant(
                connection_id=str(item.get("id", "")),
                tenant_id=str(item.get("tenantId", "")),
                tenant_name=str(item.get("tenantName", "")),
                tenant_type=str(item.get("tenantType", "")),
            )
            for item in items
            if isinstance(item, Mapping)
        ]

    def delete_connection(self, access_token: str, connection_id: str) -> None:
        """Disconnect one tenant from this app."""
        self._bearer("DELETE", f"{self.urls.connections}/{connection_id}", access_token)

    def revoke(self, refresh_token: str) -> None:
        """Revoke a refresh token (and the access tokens issued with it)."""
        try:
            response = self.http.post(
                self.urls.revocation,
                data={"token": refresh_token},
                auth=(self.client_id, self._secret),
            )
        except httpx.HTTPError as exc:
            raise classify_exception(exc, write=True) from exc
        if response.status_code >= 400:
            raise XeroAuthError(f"Xero refused the revocation ({response.status_code})")

    def _bearer(self, method: str, url: str, access_token: str) -> httpx.Response:
        try:
            response = self.http.request(
                method,
                url,
                headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise classify_exception(exc, write=method != "GET") from exc
        if response.status_code in (401, 403):
            raise XeroAuthError(f"Xero refused the token ({response.status_code})")
        if response.status_code >= 400:
            raise XeroError(f"Xero answered {response.status_code} at {url}", response.status_code)
        return response


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = loads(response.text) if response.text else {}
    except ValueError:
        return {}
    return dict(data) if isinstance(data, Mapping) else {}


def _json_list(response: httpx.Response) -> list[Any]:
    try:
        data = loads(response.text) if response.text else []
    except ValueError:
        return []
    return list(data) if isinstance(data, list) else []
