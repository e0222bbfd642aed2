"""Fixtures for tests that run the relay in-process against a real sandbox server on 127.0.0.1,
connected through OAuth, with every Xero exchange checked against the official spec."""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from outbox.xero import IdentityUrls
from projections.status import StatusFilter
from syncledger import service
from syncledger.bootstrap import System
from syncledger.config import Settings
from syncledger.connect import OAuthRequest
from syncledger.samples import ndjson
from syncledger.sandbox import Sandbox
from tests.support.xero_openapi import violations

CLIENT_ID = "syncledger-test-app"
CLIENT_SECRET = "s3cret-client-secret-value"
SECRET_KEY = "test-secret-key-0123456789abcdef"
CONNECTED_AT = datetime(2026, 11, 1, tzinfo=UTC)


@dataclass
class SpecCheck:
    """Collects spec violations of every exchange (raising inside the relay would be caught by its
    per-message boundary and recorded as a failure, hiding the violation)."""

    found: list[str] = field(default_factory=list)
    exchanges: int = 0

    def hook(self, response: httpx.Response) -> None:
        response.read()
        custom = "xero-tenant-id" not in response.request.headers
        problems = violations(response.request, response, custom_connection=custom)
        if response.request.url.path.startswith("/api.xro/2.0/"):
            self.exchanges += 1
        self.found.extend(
            f"{response.request.method} {response.request.url.path}: {p}" for p in problems
        )


@dataclass
class World:
    """A sandbox, a ledger system connected to it through OAuth, and the spec checker."""

    sandbox: Sandbox
    system: System
    spec: SpecCheck
    tenant_id: str

    def ingest(self, *changes: dict[str, Any]) -> None:
        report = service.ingest(self.system, io.BytesIO(ndjson(*changes).encode()))
        assert not report.rejected, report.rejected

    def relay(self) -> Any:
        return self.system.relay(owner="test").run(until_idle=True)

    def state(self) -> dict[str, Any]:
        return self.sandbox.state(self.tenant_id)

    def status(self, document: str) -> dict[str, Any]:
        [row] = [
            v.as_json()
            for v in service.statuses(self.system, StatusFilter(include_hidden=True))
            if v.row.document == document
        ]
        return row

    def api_requests(
        self, method: str | None = None, suffix: str | None = None
    ) -> list[dict[str, Any]]:
        return [
            r
            for r in self.sandbox.requests(self.tenant_id)
            if (method is None or r["method"] == method)
            and (suffix is None or r["path"].endswith(suffix))
        ]


def visit_authorize_url(url: str) -> None:
    """Act as the user's browser: consent at the sandbox and follow its redirect to the callback."""
    consent = httpx.get(url, follow_redirects=False)
    assert consent.status_code in (302, 303), consent.text
    httpx.get(consent.headers["location"])


def oauth_connect(
    system: System, sandbox: Sandbox, org: str = "42", tenant_id: str | None = None
) -> str:
    """Connect ``org`` through the authorization-code flow against the sandbox."""
    request = OAuthRequest(
        urls=IdentityUrls.single(sandbox.url),
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        port=0,
        tenant_id=tenant_id or sandbox.tenant_ids[0],
        open_browser=False,
        timeout=20,
    )
    browsers: list[threading.Thread] = []

    def echo(line: str) -> None:
        if line.startswith("http"):
            browser = threading.Thread(target=visit_authorize_url, args=(line,))
            browser.start()
            browsers.append(browser)

    _, _, tenant = service.connect_oauth(
        system, org, request, CONNECTED_AT, custom=False, echo=echo, choose=None
    )
    for browser in browsers:
        browser.join(10)
    return tenant.tenant_id


def make_settings(db: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(
        db=db,
        retry_base_seconds=0.05,
        retry_max_seconds=0.2,
        relay_poll_seconds=0.05,
        xero_timeout=5.0,
        secret_key=SECRET_KEY,
        idle_max_wait_seconds=30.0,
    )
    values.update(overrides)
    return Settings(**values)


def configure(system: System, org: str = "42") -> None:
    system.ledger.map_account(org, "sales", "200")
    system.ledger.map_account(org, "discounts", "200")
    system.ledger.map_tax(org, "GST", "OUTPUT")
    system.ledger.set_payment_account(org, "090")
