"""The client survives Xero: a full OAuth-connected run with every exchange checked against the
spec, look-before-create after each kind of uncertain outcome, the idempotency window expiring,
tokens expiring, refreshes lost or raced, and a connection lost."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from outbox.delivery import Delivery
from outbox.tokens import TokenManager
from outbox.xero import XeroConnections
from projections.base import catch_up
from syncledger import organisations
from syncledger.samples import invoice_change, payment_change
from syncledger.sandbox import SandboxConfig
from tests.integration.xero_fixtures import CLIENT_ID, CLIENT_SECRET, World


def test_a_connected_run_sends_only_what_the_spec_allows(world: World):
    world.ingest(invoice_change(1), payment_change(31, invoice_id=1), invoice_change(2))
    world.relay()
    world.ingest(invoice_change(2, status="cancelled", timestamp="2026-11-25T00:00:00Z"))
    world.relay()

    assert [world.status(d)["status"] for d in ("invoice:1", "invoice:2", "payment:31")] == [
        "Synced"
    ] * 3
    state = world.state()
    assert (len(state["invoices"]), len(state["credit_notes"]), len(state["payments"])) == (2, 1, 1)
    assert world.spec.exchanges >= 8
    assert world.spec.found == []


def _uncertain_once(world: World, kind: str) -> None:
    world.sandbox.set_faults(fault_rates={kind: 1.0}, fault_timeout_s=3.0, seed=1)
    world.system.relay(owner="test").deliver_one()
    world.sandbox.set_faults(fault_rates={})


@pytest.mark.parametrize("fault", ["drop_after_commit", "500", "timeout"])
def test_after_an_uncertain_invoice_push_the_next_attempt_looks_first_and_never_duplicates(
    world: World, fault
):
    world.ingest(invoice_change(1042))

    _uncertain_once(world, fault)
    first = world.status("invoice:1042")
    world.relay()

    assert first["status"] == "Pending" and "will retry" in (first["reason"] or "")
    assert len(world.state()["invoices"]) == 1
    assert world.status("invoice:1042")["status"] == "Synced"
    lookups = world.api_requests("GET", "/Invoices")
    assert lookups, "the attempt after an uncertain outcome looks the invoice up first"


@pytest.mark.parametrize("fault", ["drop_after_commit", "500"])
def test_after_an_uncertain_payment_the_next_attempt_adopts_instead_of_paying_twice(
    world: World, fault
):
    world.ingest(invoice_change(1042))
    world.relay()
    world.ingest(payment_change(3001, invoice_id=1042))

    _uncertain_once(world, fault)
    world.relay()

    assert len(world.state()["payments"]) == 1
    assert world.status("payment:3001")["status"] == "Synced"


def test_a_crash_between_xeros_answer_and_the_recorded_outcome_is_adopted_on_restart(world: World):
    system = world.system
    world.ingest(invoice_change(1042))
    catch_up(system.outbox, system.log)
    message = system.outbox_store.claim("crashed-relay", time.time(), 300)
    document = system.ledger.document(UUID(message.doc_id))
    org = system.ledger.organisation("42")
    client = system.xero_client(org, lambda call: None)
    delivery = Delivery(
        system.ledger, client, world.tenant_id, numbers=system.outbox_store.number_users
    )
    delivery.run(message, document, org)  # then "crash"
    assert len(world.state()["invoices"]) == 1

    system.outbox_store.release_all("crashed-relay")
    world.relay()

    assert len(world.state()["invoices"]) == 1
    assert world.status("invoice:1042")["status"] == "Synced"
    assert "adopted" in world.status("invoice:1042")["reason"]


@pytest.mark.parametrize(
    "sandbox_config",
    [SandboxConfig(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, idempotency_window_s=0.2)],
)
def test_a_retry_after_the_idempotency_window_never_creates_a_second_document(world: World):
    world.ingest(invoice_change(1042), payment_change(3001, invoice_id=1042))
    world.sandbox.set_faults(fault_rates={"drop_after_commit": 1.0}, seed=3)
    world.system.relay(owner="test").deliver_one()
    world.sandbox.set_faults(fault_rates={})
    time.sleep(0.5)  # the key has expired on Xero's side before the retry

    world.relay()

    state = world.state()
    assert (len(state["invoices"]), len(state["payments"])) == (1, 1)


@pytest.mark.parametrize(
    "sandbox_config",
    [SandboxConfig(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, access_token_ttl_s=1.0)],
)
def test_an_access_token_that_expires_mid_run_is_refreshed_and_the_call_repeated(world: World):
    system = world.system
    stored = system.tokens.load("42")
    from outbox.xero import TokenSet

    # our clock thinks the token is good for an hour; Xero expires it after one second
    system.tokens.update_tokens(
        "42", TokenSet(stored.access_token, time.time() + 3600, None, stored.scope), time.time()
    )
    time.sleep(1.2)
    world.ingest(invoice_change(1042))

    world.relay()

    assert world.status("invoice:1042")["status"] == "Synced"
    assert any(r["status"] == 401 for r in world.sandbox.requests())
    assert system.tokens.load("42").access_token != stored.access_token


class _LoseTokenAnswers(httpx.BaseTransport):
    """Passes every request to the real server, but loses the answer of the first refresh."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.lost = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if (
            request.url.path == "/connect/token"
            and b"refresh_token" in request.content
            and not self.lost
        ):
            response.read()
            response.close()
            self.lost += 1
            raise httpx.ReadError("connection reset while reading the answer", request=request)
        return response

    def close(self) -> None:
        self.inner.close()


def _expire(world: World) -> None:
    stored = world.system.tokens.load("42")
    from outbox.xero import TokenSet

    world.system.tokens.update_tokens(
        "42", TokenSet(stored.access_token, time.time() - 1, None, stored.scope), time.time()
    )


def test_a_refresh_whose_answer_is_lost_is_retried_with_the_same_refresh_token(world: World):
    _expire(world)
    before = world.system.tokens.load("42").refresh_token
    lossy = XeroConnections(timeout=2.0)
    lossy._http = httpx.Client(transport=_LoseTokenAnswers())
    manager = TokenManager(world.system.tokens, lossy, "worker-a")
    try:
        with pytest.raises(Exception, match="did not answer"):
            manager.access_token("42")
        assert world.system.tokens.load("42").refresh_token == before  # nothing lost

        token = manager.access_token("42")
    finally:
        lossy.close()

    assert token and world.system.tokens.load("42").refresh_token != before
    world.ingest(invoice_change(1042))
    world.relay()
    assert world.status("invoice:1042")["status"] == "Synced"


def test_two_workers_refreshing_at_once_both_get_a_token_and_none_is_lost(world: World):
    _expire(world)
    managers = [
        TokenManager(world.system.tokens, XeroConnections(timeout=2.0), f"worker-{i}")
        for i in range(2)
    ]
    results: list[str] = []
    errors: list[BaseException] = []

    def work(manager: TokenManager) -> None:
        try:
            results.append(manager.access_token("42"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(m,)) for m in managers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)

    assert errors == [] and len(results) == 2
    refreshes = [r for r in world.sandbox.requests() if r["path"] == "/connect/token"]
    assert len([r for r in refreshes if r["status"] == 200]) >= 1
    _expire(world)
    assert managers[0].access_token("42"), "the stored refresh token still works afterwards"
    for manager in managers:
        manager.connections.close()


def test_a_connection_revoked_in_xero_marks_the_organisation_disconnected(world: World):
    stored = world.system.tokens.load("42")
    httpx.delete(
        f"{world.sandbox.url}/connections/{stored.connection_id}",
        headers={"Authorization": f"Bearer {stored.access_token}"},
    ).raise_for_status()
    world.ingest(invoice_change(1042))

    world.relay()

    status = world.status("invoice:1042")
    assert status["status"] == "Pending"
    assert status["reason"] == "Xero connection lost: run `syncledger connect 42`"
    assert world.system.ledger.organisation("42").connection is None
    assert world.state()["invoices"] == []


def test_tokens_are_stored_sealed(world: World, db_location: str):
    stored = world.system.tokens.load("42")
    with world.system.database.read() as tx:
        rows = repr(tx.all("SELECT * FROM xero_connections"))
    raw = b"" if db_location.startswith("postgresql") else Path(db_location).read_bytes()

    for secret in (stored.access_token, stored.refresh_token, CLIENT_SECRET):
        assert secret not in rows
        assert secret.encode() not in raw


@pytest.mark.parametrize(
    ("code", "purpose", "words"),
    [
        ("999", "sales", "not in the Xero organisation's chart"),
        ("250", "sales", "archived"),
        ("090", "sales", "bank account"),
        ("820", "sales", "system account"),
        ("200", "payment", "cannot receive payments"),
    ],
)
def test_account_codes_xero_would_refuse_are_refused_with_the_reason(
    world: World, code, purpose, words
):
    from domain.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match=words):
        organisations.check_account(world.system, "42", code, purpose)


@pytest.mark.parametrize(
    ("tax_type", "words"),
    [
        ("INPUT", "cannot be used on sales"),
        ("GSTONIMPORTS", "cannot be used on sales"),
        ("NOSUCHTAX", "not one of the Xero organisation's tax rates"),
    ],
)
def test_tax_types_xero_would_refuse_on_sales_are_refused_with_the_reason(
    world: World, tax_type, words
):
    from domain.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match=words):
        organisations.check_tax_type(world.system, "42", tax_type)
    assert "GST on Income" in organisations.check_tax_type(world.system, "42", "output")


def test_good_account_codes_are_accepted(world: World):
    assert "Sales" in organisations.check_account(world.system, "42", "200", "sales")
    assert "Business Bank" in organisations.check_account(world.system, "42", "090", "payment")
