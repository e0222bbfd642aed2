"""Connecting an organisation to Xero through OAuth 2.0, and disconnecting it.

``authorize`` runs the authorization-code flow: it listens on ``http://localhost:PORT/callback``,
shows the authorize URL (and opens a browser if asked), checks ``state`` on the way back,
exchanges the code for tokens, lists the tenants the user connected and picks one.
``custom_connection`` uses client credentials instead (a Xero custom connection: one tenant, no
tenant header). The caller stores the tokens sealed and records the connection in the ledger.
"""

from __future__ import annotations

import http.server
import secrets
import threading
import webbrowser
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from outbox.tokens import CUSTOM, OAUTH, StoredConnection
from outbox.xero import (
    BROAD_SCOPES,
    CUSTOM_BROAD_SCOPES,
    CUSTOM_GRANULAR_SCOPES,
    GRANULAR_SCOPES,
    IdentityUrls,
    Tenant,
    TokenSet,
    XeroConnections,
)
from syncledger.errors import SyncledgerError

CALLBACK_PATH = "/callback"
PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>syncledger</title></head>"
    "<body style='font-family:sans-serif;margin:3em'><h1>{title}</h1><p>{text}</p></body></html>"
)


class ConnectError(SyncledgerError):
    """The connection could not be made (the message says why and what to do)."""


@dataclass(frozen=True)
class OAuthRequest:
    """What a user asked ``syncledger connect`` for."""

    urls: IdentityUrls
    client_id: str
    client_secret: str
    broad_scopes: bool = False
    port: int = 8765
    tenant_id: str | None = None
    tenant_name: str | None = None
    open_browser: bool = True
    timeout: float = 300.0

    def __repr__(self) -> str:
        return f"OAuthRequest(client_id={self.client_id!r}, urls={self.urls!r}, secret=<hidden>)"

    @property
    def scope(self) -> str:
        return BROAD_SCOPES if self.broad_scopes else GRANULAR_SCOPES

    @property
    def custom_scope(self) -> str:
        return CUSTOM_BROAD_SCOPES if self.broad_scopes else CUSTOM_GRANULAR_SCOPES


class _Callback:
    """A one-shot local HTTP server that receives the redirect from Xero."""

    def __init__(self, port: int) -> None:
        self.params: dict[str, str] | None = None
        self.received = threading.Event()
        callback = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != CALLBACK_PATH:
                    self.send_error(404)
                    return
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                ok = "code" in query
                body = PAGE.format(
                    title="Connected" if ok else "Not connected",
                    text="You can close this tab and return to the terminal."
                    if ok
                    else "Xero did not grant access; see the terminal.",
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                callback.params = query
                callback.received.set()

            def log_message(self, format: str, *args: Any) -> None:
                return

        try:
            self.server = http.server.HTTPServer(("127.0.0.1", port), Handler)
        except OSError as exc:
            raise ConnectError(
                f"cannot listen on localhost:{port} for Xero's redirect ({exc}); choose another "
                "--port (it must match a redirect URI registered for your Xero app)"
            ) from exc
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def redirect_uri(self) -> str:
        return f"http://localhost:{self.port}{CALLBACK_PATH}"

    def wait(self, timeout: float) -> dict[str, str]:
        try:
            if not self.received.wait(timeout) or self.params is None:
                raise ConnectError(
                    f"no answer from Xero within {timeout:.0f} seconds; run the command again"
                )
            return self.params
        finally:
            self.server.shutdown()
            self.server.server_close()


def choose_tenant(
    tenants: Sequence[Tenant],
    tenant_id: str | None,
    tenant_name: str | None,
    choose: Callable[[Sequence[Tenant]], Tenant] | None,
) -> Tenant:
    """The tenant to connect: the one named, the only one, or the user's choice."""
    organisations = [t for t in tenants if t.tenant_type in ("ORGANISATION", "")] or list(tenants)
    if not organisations:
        raise ConnectError("the Xero consent connected no organisation; run the command again")
    if tenant_id is not None:
        for tenant in organisations:
            if tenant.tenant_id == tenant_id:
                return tenant
        raise ConnectError(f"tenant {tenant_id} is not among the organisations connected")
    if tenant_name is not None:
        named = [t for t in organisations if t.tenant_name.casefold() == tenant_name.casefold()]
        if len(named) == 1:
            return named[0]
        raise ConnectError(f"no single connected organisation is named {tenant_name!r}")
    if len(organisations) == 1:
        return organisations[0]
    if choose is None:
        names = ", ".join(f"{t.tenant_name} ({t.tenant_id})" for t in organisations)
        raise ConnectError(f"several organisations were connected ({names}): add --tenant-id")
    return choose(organisations)


def authorize(
    request: OAuthRequest,
    connections: XeroConnections,
    echo: Callable[[str], Any],
    choose: Callable[[Sequence[Tenant]], Tenant] | None,
) -> tuple[TokenSet, Tenant]:
    """Run the authorization-code flow; return the tokens and the chosen tenant."""
    identity = connections.identity(request.urls, request.client_id, request.client_secret)
    callback = _Callback(request.port)
    state = secrets.token_urlsafe(24)
    url = identity.authorize_url(callback.redirect_uri, request.scope, state)
    echo("Open this address in a browser and allow access to your Xero organisation:")
    echo(url)
    if request.open_browser:
        webbrowser.open(url)
    params = callback.wait(request.timeout)
    if params.get("state") != state:
        raise ConnectError(
            "the answer from Xero does not carry the state this command sent; it was not accepted"
        )
    if "error" in params:
        raise ConnectError(f"Xero did not grant access: {params['error']}")
    if "code" not in params:
        raise ConnectError("Xero's answer has no authorization code")
    tokens = identity.exchange_code(params["code"], callback.redirect_uri)
    tenants = identity.connections(tokens.access_token)
    return tokens, choose_tenant(tenants, request.tenant_id, request.tenant_name, choose)


def custom_connection(
    request: OAuthRequest, connections: XeroConnections
) -> tuple[TokenSet, Tenant]:
    """A custom connection (client credentials): tokens and its one tenant."""
    identity = connections.identity(request.urls, request.client_id, request.client_secret)
    tokens = identity.client_credentials(request.custom_scope, request.tenant_id)
    tenants = identity.connections(tokens.access_token)
    return tokens, choose_tenant(tenants, request.tenant_id, request.tenant_name, None)


def stored(
    org: str,
    request: OAuthRequest,
    tokens: TokenSet,
    tenant: Tenant,
    *,
    custom: bool,
    now: datetime,
) -> StoredConnection:
    """The connection to store for an organisation."""
    return StoredConnection(
        org=org,
        method=CUSTOM if custom else OAUTH,
        tenant_id=tenant.tenant_id,
        connection_id=tenant.connection_id or None,
        urls=request.urls,
        client_id=request.client_id,
        client_secret=request.client_secret,
        scope=request.custom_scope if custom else request.scope,
        access_token=tokens.access_token,
        access_expires_at=tokens.expires_at,
        refresh_token=tokens.refresh_token,
        updated_at=now.timestamp(),
    )
