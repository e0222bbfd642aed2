"""Web fixtures: the web app on a real uvicorn server in a thread (127.0.0.1, ephemeral port),
users and webhook secrets, OpenSolar changes to post, and a logged-in HTTP client."""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from outbox.secrets import SecretBox
from projections.status import StatusFilter, StatusView
from syncledger import service
from syncledger.bootstrap import System
from syncledger.config import Settings
from syncledger.web.auth import hash_password
from syncledger.web.server import WebServer, bind, url_of
from syncledger.web.settings import WebSettings
from syncledger.web.store import WebStore

SECRET_KEY = "test-secret-key-0123456789abcdef"
PASSWORD = "correct horse battery"
JANE = "jane@example.com"  # organisation 42
OLLY = "olly@example.com"  # organisation 43
ADMIN = "admin@example.com"  # administrator
XERO_DOWN = "http://127.0.0.1:9"


def invoice(
    event_id: str,
    org: int | str,
    model_id: int,
    number: str,
    *,
    timestamp: str = "2026-11-20T09:30:00Z",
    categories: tuple[str, ...] = ("sales",),
    project: int | None = 777,
    customer: str = "Jane Citizen",
    status: str = "sent",
) -> dict[str, Any]:
    """One OpenSolar invoice change in the format of the README."""
    return {
        "event_id": event_id,
        "timestamp": timestamp,
        "org_id": org,
        "model": "Invoice",
        "model_id": model_id,
        "event": "UPDATE",
        "fields": {
            "invoice_number": number,
            "status": status,
            "project_id": project,
            "issued_date": timestamp[:10],
            "due_date": "2026-12-04",
            "currency": "AUD",
            "amounts_include_tax": True,
            "customer": {"id": 555, "name": customer, "email": "jane@example.com"},
            "line_items": [
                {
                    "category": category,
                    "description": f"{category} line",
                    "quantity": 1,
                    "unit_amount": "1000.00" if category == "sales" else "-100.00",
                }
                for category in categories
            ],
        },
    }


def payment(
    event_id: str,
    org: int | str,
    model_id: int,
    invoice_id: int,
    *,
    timestamp: str = "2026-11-22T10:00:00Z",
    amount: str = "200.00",
) -> dict[str, Any]:
    """One OpenSolar payment change (paid)."""
    return {
        "event_id": event_id,
        "timestamp": timestamp,
        "org_id": org,
        "model": "Payment",
        "model_id": model_id,
        "event": "UPDATE",
        "fields": {
            "invoice_id": invoice_id,
            "amount": amount,
            "currency": "AUD",
            "status": "paid",
            "paid_date": timestamp[:10],
            "reference": "Card 4242",
        },
    }


@dataclass
class Running:
    """A web server running in a thread of the test process."""

    url: str
    settings: Settings
    server: WebServer
    thread: threading.Thread
    secrets: dict[str, str]

    def open(self) -> System:
        return System.open(self.settings)

    def statuses(self, org: str | None = None) -> list[StatusView]:
        with self.open() as system:
            return service.statuses(system, StatusFilter(org=org, include_hidden=True))

    def numbers(self, org: str | None = None) -> list[str]:
        return sorted(v.row.number for v in self.statuses(org))

    def view(self, number: str) -> StatusView:
        found = [v for v in self.statuses() if v.row.number == number]
        assert len(found) == 1, found
        return found[0]

    def history_length(self, number: str) -> int:
        row = self.view(number).row
        with self.open() as system:
            return len(service.history(system, row.doc_id, row.org)[1])

    def ingest(self, *changes: dict[str, Any]) -> None:
        with self.open() as system:
            report = service.ingest_objects(system, changes)
        assert not report.rejected, report.rejected

    def relay_until_idle(self) -> None:
        with self.open() as system:
            system.relay().run(until_idle=True)
            service.refresh(system)


def start_server(settings: Settings, web: WebSettings) -> Running:
    """The web app on uvicorn in a thread (no relay), listening on an ephemeral port."""
    started = threading.Event()
    server = WebServer(settings, web)
    sock = bind("127.0.0.1", 0)
    thread = threading.Thread(
        target=server.run, args=(sock, started.set), name="web-under-test", daemon=True
    )
    thread.start()
    if not started.wait(15):
        server.stop()
        raise RuntimeError("the web server did not start")
    return Running(url_of(sock), settings, server, thread, {})


def stop_server(running: Running) -> None:
    running.server.stop()
    running.thread.join(15)
    assert not running.thread.is_alive(), "the web server did not stop"


def add_accounts(settings: Settings) -> dict[str, str]:
    """Users of organisations 42 and 43, an administrator, and webhook secrets for 42 and 43."""
    with System.open(settings) as system:
        assert system.database is not None
        store = WebStore(system.database)
        hashed = hash_password(PASSWORD)
        store.add_user("42", JANE, hashed, is_admin=False)
        store.add_user("43", OLLY, hashed, is_admin=False)
        store.add_user("42", ADMIN, hashed, is_admin=True)
        box = SecretBox(settings.secret_key)
        return {org: store.create_webhook_secret(org, box, rotate=False) for org in ("42", "43")}


@pytest.fixture
def web_settings() -> WebSettings:
    """Web settings for tests: a small body limit and quick live updates."""
    return WebSettings(max_body_bytes=64 * 1024, live_interval=0.05)


@pytest.fixture
def keyed(settings: Settings) -> Settings:
    """The test ledger's settings with a secret key for webhook secrets."""
    return dataclasses.replace(settings, secret_key=SECRET_KEY)


@pytest.fixture
def web(keyed: Settings, web_settings: WebSettings) -> Iterator[Running]:
    """The web app on a fresh ledger with users and webhook secrets for organisations 42, 43."""
    secrets = add_accounts(keyed)
    running = start_server(keyed, web_settings)
    running.secrets = secrets
    try:
        yield running
    finally:
        stop_server(running)


def login(url: str, email: str, password: str = PASSWORD) -> tuple[httpx.Client, str]:
    """An HTTP client logged in as ``email``, and the page's CSRF token."""
    client = httpx.Client(base_url=url, timeout=10)
    form = client.get("/login")
    assert form.status_code == 200
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    answer = client.post(
        "/login",
        data={"email": email, "password": password, "csrf": csrf.group(1), "next": "/"},
    )
    assert answer.status_code == 303, answer.text
    page = client.get("/")
    assert page.status_code == 200
    token = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)
    assert token is not None
    return client, token.group(1)


@pytest.fixture
def as_jane(web: Running) -> Iterator[tuple[httpx.Client, str]]:
    client, csrf = login(web.url, JANE)
    try:
        yield client, csrf
    finally:
        client.close()


@pytest.fixture
def as_admin(web: Running) -> Iterator[tuple[httpx.Client, str]]:
    client, csrf = login(web.url, ADMIN)
    try:
        yield client, csrf
    finally:
        client.close()


@pytest.fixture
def artifacts() -> Path:
    """Where tests leave screenshots (git-ignored)."""
    path = Path(__file__).resolve().parents[1] / "artifacts"
    path.mkdir(exist_ok=True)
    return path
