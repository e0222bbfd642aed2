"""The process's shared HTTP connection pool to Xero, handing out a ``XeroClient`` per tenant and
a ``XeroIdentity`` per app, all over the one pool."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypedDict, Unpack

import httpx

from outbox.xero.client import XeroClient
from outbox.xero.identity import IdentityUrls, XeroIdentity
from outbox.xero.records import CallRecord
from outbox.xero.transport import Limits, TokenProvider


class ClientHooks(TypedDict, total=False):
    """What a client is given beside its tenant (see ``XeroTransport``)."""

    token: TokenProvider | None
    on_call: Callable[[CallRecord], None] | None
    on_limits: Callable[[Limits], None] | None
    pace: Callable[[], None] | None


class XeroConnections:
    """The process's shared HTTP connection pool to Xero, and a ``XeroClient`` per tenant."""

    def __init__(
        self,
        timeout: float = 30.0,
        event_hooks: Mapping[str, list[Callable[..., Any]]] | None = None,
    ) -> None:
        self.timeout = timeout
        self.event_hooks = dict(event_hooks or {})
        self._http: httpx.Client | None = None

    def http(self) -> httpx.Client:
        """The shared pool (opened on first use)."""
        if self._http is None:
            self._http = httpx.Client(
                timeout=httpx.Timeout(self.timeout),
                limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
                event_hooks=self.event_hooks,
            )
        return self._http

    def client(
        self, base_url: str, tenant_id: str | None, **hooks: Unpack[ClientHooks]
    ) -> XeroClient:
        """A client for one tenant, sharing the pool."""
        return XeroClient(self.http(), base_url, tenant_id, **hooks)

    def identity(self, urls: IdentityUrls, client_id: str, client_secret: str) -> XeroIdentity:
        """The identity service for one app, sharing the pool."""
        return XeroIdentity(self.http(), urls, client_id, client_secret)

    def close(self) -> None:
        """Close the pool (a later ``client`` opens a new one)."""
        if self._http is not None:
            self._http.close()
            self._http = None
