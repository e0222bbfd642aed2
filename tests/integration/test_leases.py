"""Organisation leases on a real database (SQLite and PostgreSQL): one relay per organisation,
takeover only after a lease lapses, claims of a dead relay freed, a fair share for each live
relay, and leases given back to relays that join."""

from __future__ import annotations

import io
import threading
import time
from datetime import UTC, datetime

import pytest

from outbox.leases import ALONE
from projections.base import catch_up
from syncledger import service
from syncledger.samples import invoice_change, ndjson

LEASE = 15.0


def backlog(system, orgs: int) -> None:
    """One ready outbox message for each of ``orgs`` connected organisations."""
    for index in range(orgs):
        system.ledger.connect(
            f"org{index}", "http://127.0.0.1:9", f"t{index}", datetime(2026, 11, 1, tzinfo=UTC), "m"
        )
    changes = [invoice_change(100 + i, org_id=f"org{i}") for i in range(orgs)]
    service.ingest(system, io.BytesIO(ndjson(*changes).encode()))
    catch_up(system.outbox, system.log)


def test_an_organisation_is_leased_by_one_relay_until_its_lease_lapses(system):
    leases = system.leases

    assert leases.acquire("a", "org0", 100.0, LEASE).acquired
    refused = leases.acquire("b", "org0", 100.0 + LEASE - 0.1, LEASE)
    taken = leases.acquire("b", "org0", 100.0 + LEASE + 0.1, LEASE)

    assert (refused.acquired, refused.previous_owner) == (False, "a")
    assert (taken.acquired, taken.previous_owner) == (True, "a")
    assert leases.others("a", 100.0 + LEASE + 0.2) == {"org0"}


def test_a_heartbeat_keeps_leases_with_work_and_frees_the_claims_of_a_dead_relay(system):
    backlog(system, 2)
    leases, store = system.leases, system.outbox_store
    leases.heartbeat("dead", 100.0, LEASE)
    message = store.claim("dead", 100.0, 300.0)
    assert message is not None
    leases.acquire("dead", message.org, 100.0, LEASE)

    held = leases.heartbeat("alive", 100.0 + LEASE + 1, LEASE)

    assert held == set()
    assert store.claimed() == 0, "the dead relay's claim was freed once it missed its lease"
    assert leases.acquire("alive", message.org, 100.0 + LEASE + 1, LEASE).previous_owner == "dead"
    assert leases.heartbeat("alive", 100.0 + LEASE + 2, LEASE) == {message.org}


def test_a_heartbeat_gives_back_leases_on_organisations_with_nothing_left(system):
    leases = system.leases
    leases.acquire("a", "idle-org", 100.0, LEASE)

    assert leases.heartbeat("a", 101.0, LEASE) == set()
    assert leases.leases() == {}


def test_each_live_relay_gets_a_fair_share_and_a_relay_alone_takes_everything(system):
    backlog(system, 6)
    leases = system.leases

    leases.heartbeat("a", 100.0, LEASE)
    alone = leases.fair_share(100.0, LEASE)
    leases.heartbeat("b", 100.0, LEASE)
    leases.heartbeat("c", 100.0, LEASE)
    shared = leases.fair_share(100.0, LEASE)
    later = leases.fair_share(100.0 + LEASE + 1, LEASE)

    assert alone == ALONE
    assert shared == 6 // 3 + 1
    assert later == ALONE, "relays that stopped heartbeating do not count"


def test_shedding_gives_back_only_organisations_with_nothing_in_flight(system):
    backlog(system, 4)
    leases, store = system.leases, system.outbox_store
    busy = store.claim("a", 100.0, 300.0)
    assert busy is not None
    for index in range(4):
        leases.acquire("a", f"org{index}", 100.0, LEASE)

    shed = leases.shed("a", 10)

    assert busy.org not in shed
    assert shed == {f"org{i}" for i in range(4)} - {busy.org}
    assert set(leases.leases()) == {busy.org}


@pytest.mark.parametrize("backend", ["postgres"])
def test_relays_side_by_side_share_the_app_wide_budget(system):
    first, second = system.relay(owner="a"), system.relay(owner="b")
    whole = system.settings.app_minute_budget

    first.heartbeat()
    alone = first.app_budget
    second.heartbeat()
    first.heartbeat()

    assert alone == whole
    assert first.app_budget == second.app_budget == whole // 2


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_relay_whose_heartbeats_stop_succeeding_stops_trusting_its_leases(system):
    now = [1000.0]
    relay = system.relay(owner="a")
    relay.clock = lambda: now[0]
    lease, beat = relay.settings.org_lease_seconds, relay.settings.heartbeat_seconds

    before = relay.leases_alive()
    relay.heartbeat()
    now[0] += lease - beat - 0.1
    vouched = relay.leases_alive()
    now[0] += 0.2  # no heartbeat since: another relay may soon take the leases over
    lapsed = relay.leases_alive()

    assert (before, vouched, lapsed) == (False, True, False)


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_heartbeat_after_the_stop_began_writes_nothing(system):
    stopping = threading.Event()
    stopping.set()

    system.relay(owner="a").heartbeat(stopping)

    assert system.leases.live(time.time(), LEASE) == []
