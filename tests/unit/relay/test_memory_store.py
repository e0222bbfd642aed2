"""The in-memory outbox and leases keep the SQL stores' rules (the same cases as the
integration tests of those stores), so that what the relay's unit tests show holds on a real
database too: claims oldest first, one open message per document at a time, a payment waiting
for its invoice, groups claimed by one relay at a time, batches that roll back, and leases."""

from __future__ import annotations

from uuid import UUID

import pytest

from outbox.leases import ALONE
from outbox.store import MessageState
from syncledger.samples import invoice_change, payment_change
from tests.unit.relay.conftest import START

LEASE = 15.0


def backlog(world, orgs: int) -> None:
    for index in range(orgs):
        world.connect(f"org{index}")
    world.ingest(*[invoice_change(100 + i, org_id=f"org{i}") for i in range(orgs)])


def synced(world, message) -> None:
    document = world.ledger.document(UUID(message.doc_id))
    world.ledger.record_success(
        document.id, "invoice", document.open_request.version, "x-1", document.fields, "ok", []
    )
    world.ingest()


def test_a_payment_waits_for_its_invoice_and_is_released_when_it_syncs(world):
    world.connect()
    world.ingest(payment_change(3001, invoice_id=1042), invoice_change(1042))
    invoice, payment = sorted(world.messages(), key=lambda m: m.kind)
    assert (invoice.state, payment.state, payment.waits_for) == (
        MessageState.READY,
        MessageState.WAITING,
        invoice.doc_id,
    )

    synced(world, invoice)

    assert [m.state for m in world.store.messages(invoice.doc_id)] == [MessageState.DONE]
    assert [m.state for m in world.store.messages(payment.doc_id)] == [MessageState.READY]


def test_cancel_before_sync_drops_the_pending_push(world):
    world.connect()
    world.ingest(
        invoice_change(1042),
        invoice_change(1042, status="cancelled", timestamp="2026-11-21T00:00:00Z"),
    )

    assert [m.state for m in world.messages()] == [MessageState.DROPPED]
    assert world.store.claim("t", now=1e12, lease=60) is None


def test_claims_go_oldest_first_and_skip_claimed_and_excluded(world):
    world.connect("42")
    world.connect("43")
    world.ingest(invoice_change(1), invoice_change(2), invoice_change(3, org_id=43))
    store = world.store

    first = store.claim("a", now=1000.0, lease=60)
    second = store.claim("a", now=1000.0, lease=60, orgs_excluded=("43",))
    third = store.claim("a", now=1000.0, lease=60, orgs_excluded=("43",))

    assert (first.doc_id != second.doc_id, first.org, second.org, third) == (True, "42", "42", None)
    assert store.claim("a", now=1000.0, lease=60, orgs_only=()) is None
    assert store.claim("a", now=1061.0, lease=60, orgs_only=("42",)).claims == 2


def test_messages_of_an_invoice_and_its_payments_are_claimed_by_one_relay_at_a_time(world):
    world.connect()
    world.ingest(invoice_change(1042))
    [invoice] = world.messages()
    synced(world, invoice)
    world.ingest(
        payment_change(3001, invoice_id=1042), payment_change(3002, invoice_id=1042, amount="10")
    )

    first = world.store.claim("a", 1000.0, 60.0)
    other = world.store.claim("b", 1000.0, 60.0)
    more = world.store.claim_more("a", 1000.0, 60.0, "42", "payment", 5, first.group)

    assert (first.group, other) == (invoice.doc_id, None)
    assert [m.state for m in more] == [MessageState.READY]


def test_a_deferred_message_is_due_again_at_its_time_and_an_unconnected_org_never(world):
    world.connect()
    world.ingest(invoice_change(1))
    [message] = world.messages()

    world.store.defer(message.id, 2000.0)
    world.ledger.disconnect("42", "by hand")
    due_before = world.store.next_due()
    world.ingest()

    assert due_before == 2000.0
    assert world.store.next_due() is None
    assert world.store.claim("a", 3000.0, 60.0) is None


def test_a_writer_batch_that_fails_leaves_the_outbox_as_it_was(world):
    world.connect()
    world.ingest(invoice_change(1))
    position = world.store.position()

    def failing_batch() -> None:
        with world.store.batch() as batch:
            batch.add_document("doc", "42", "invoice")
            batch.advance(position + 10)
            raise RuntimeError("the writer fell over")

    with pytest.raises(RuntimeError):
        failing_batch()

    assert world.store.position() == position
    assert len(world.messages()) == 1


def test_a_heartbeat_keeps_leases_with_work_and_frees_the_claims_of_a_dead_relay(world):
    backlog(world, 2)
    leases, store = world.leases, world.store
    leases.heartbeat("dead", 100.0, LEASE)
    message = store.claim("dead", 100.0, 300.0)
    leases.acquire("dead", message.org, 100.0, LEASE)

    held = leases.heartbeat("alive", 100.0 + LEASE + 1, LEASE)

    assert held == set()
    assert store.claimed() == 0, "the dead relay's claim was freed once it missed its lease"
    assert leases.acquire("alive", message.org, 100.0 + LEASE + 1, LEASE).previous_owner == "dead"
    assert leases.heartbeat("alive", 100.0 + LEASE + 2, LEASE) == {message.org}


def test_a_heartbeat_gives_back_leases_on_organisations_with_nothing_left(world):
    world.leases.acquire("a", "idle-org", 100.0, LEASE)

    assert world.leases.heartbeat("a", 101.0, LEASE) == set()
    assert world.leases.leases() == {}


def test_a_takeover_frees_the_previous_holders_claims_on_that_organisation(world):
    backlog(world, 2)
    claimed = world.store.claim("dead", START, 300.0)
    world.leases.acquire("dead", claimed.org, START, LEASE)

    taken = world.leases.acquire("b", claimed.org, START + LEASE + 1, LEASE)

    assert (taken.acquired, taken.previous_owner, taken.released_claims) == (True, "dead", 1)
    assert world.store.claimed() == 0


def test_shedding_gives_back_only_organisations_with_nothing_in_flight(world):
    backlog(world, 4)
    leases, store = world.leases, world.store
    busy = store.claim("a", 100.0, 300.0)
    for index in range(4):
        leases.acquire("a", f"org{index}", 100.0, LEASE)

    shed = leases.shed("a", 10)

    assert busy.org not in shed
    assert shed == {f"org{i}" for i in range(4)} - {busy.org}
    assert set(leases.leases()) == {busy.org}


def test_a_relay_alone_has_no_limit_on_its_share(world):
    backlog(world, 3)
    world.leases.heartbeat("a", 100.0, LEASE)

    assert world.leases.fair_share(100.0, LEASE) == ALONE
