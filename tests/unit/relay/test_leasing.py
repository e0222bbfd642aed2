"""The relay's lease keeper and several relays side by side, with no database: one relay per
organisation, takeover only after a lease lapses, a fair share for each live relay, the app-wide
budget split between them, and nothing trusted once heartbeats stop succeeding."""

from __future__ import annotations

import logging
import threading

from outbox.leases import ALONE
from outbox.limits import Budget, SlidingWindow
from outbox.relay import LeaseKeeper, RelaySettings
from outbox.store import MessageState
from projections.storage.errors import StorageError
from syncledger.samples import invoice_change
from tests.unit.relay.conftest import START, FakeXero

SETTINGS = RelaySettings(org_lease_seconds=15.0, heartbeat_seconds=5.0, app_minute_budget=9000)


def keeper(world, owner: str, leases=None) -> LeaseKeeper:
    app = SlidingWindow(Budget(SETTINGS.app_minute_budget, 60.0))
    return LeaseKeeper(leases or world.leases, owner, SETTINGS, app, world.clock)


def backlog(world, orgs: int) -> None:
    """One ready message for each of ``orgs`` connected organisations."""
    for index in range(orgs):
        world.connect(f"{index}")
    world.ingest(*[invoice_change(100 + i, org_id=i) for i in range(orgs)])


def test_heartbeats_vouch_for_the_leases_for_a_lease_less_a_heartbeat(world):
    a = keeper(world, "a")

    before = a.alive()
    a.heartbeat()
    world.clock.advance(15.0 - 5.0 - 0.1)
    vouched = a.alive()
    world.clock.advance(0.2)  # no heartbeat since: another relay may soon take the leases over

    assert (before, vouched, a.alive()) == (False, True, False)


def test_a_relay_warns_once_when_its_heartbeats_stop_succeeding(world, caplog):
    class Unreachable(type(world.leases)):
        def heartbeat(self, owner, now, lease_seconds):
            raise StorageError("database unavailable")

    a = keeper(world, "a", Unreachable(world.store))
    caplog.set_level(logging.INFO, "syncledger.relay")

    a.start()
    a.stop()
    vouched = [a.vouched() for _ in range(3)]

    assert vouched == [False, False, False]
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        "heartbeat failed (database unavailable); trying again",
        "no heartbeat has succeeded lately; claiming nothing until one does",
    ]


def test_an_organisation_leased_by_a_live_relay_is_not_taken(world):
    a, b = keeper(world, "a"), keeper(world, "b")

    taken = a.acquire("42")
    world.clock.advance(14.0)
    refused = b.acquire("42")
    world.clock.advance(2.0)
    lapsed = b.acquire("42")

    assert (taken, refused, lapsed) == (True, False, True)
    assert world.leases.leases()["42"][0] == "b"


def test_a_relay_takes_over_a_dead_relays_organisation_and_delivers_its_claimed_work(world, caplog):
    backlog(world, 1)
    world.leases.heartbeat("dead", START, 15.0)
    claimed = world.store.claim("dead", START, 300.0)
    world.leases.acquire("dead", claimed.org, START, 15.0)
    world.clock.advance(16.0)
    caplog.set_level(logging.WARNING, "syncledger.relay")

    report = world.relay("b", leased=True).run(until_idle=True)

    assert report.delivered == 1
    assert [m.state for m in world.messages()] == [MessageState.DONE]
    assert world.store.claimed() == 0
    assert "took over organisation 0 from dead, whose lease lapsed" in caplog.text


def test_each_live_relay_gets_a_fair_share_and_a_relay_alone_takes_everything(world):
    backlog(world, 6)
    a, b, c = keeper(world, "a"), keeper(world, "b"), keeper(world, "c")

    a.heartbeat()
    alone = world.leases.fair_share(START, 15.0)
    b.heartbeat()
    c.heartbeat()
    shared = world.leases.fair_share(START, 15.0)
    later = world.leases.fair_share(START + 16.0, 15.0)

    assert alone == ALONE
    assert shared == 6 // 3 + 1
    assert later == ALONE, "relays that stopped heartbeating do not count"


def test_a_relay_beyond_its_share_gives_back_organisations_with_nothing_in_flight(world):
    backlog(world, 6)
    a, b = keeper(world, "a"), keeper(world, "b")
    a.heartbeat()
    a.rebalance()
    for org in map(str, range(6)):
        a.acquire(org)
    busy = world.store.claim("a", START, 300.0)
    b.heartbeat()
    world.clock.advance(5.0)

    a.rebalance()

    assert busy.org in a.held()
    assert len(a.held()) == 6 // 2 + 1
    assert set(world.leases.leases()) == a.held()
    assert a.only(()) == tuple(sorted(a.held())), "at its share it claims only from its own"


def test_relays_side_by_side_share_the_app_wide_budget(world):
    a, b = keeper(world, "a"), keeper(world, "b")

    a.heartbeat()
    alone = a.app.budget.calls
    b.heartbeat()
    a.heartbeat()

    assert alone == 9000
    assert a.app.budget.calls == b.app.budget.calls == 4500


def test_a_heartbeat_after_the_stop_began_writes_nothing(world):
    stopping = threading.Event()
    stopping.set()

    keeper(world, "a").heartbeat(stopping)

    assert world.leases.live(START, 15.0) == []


def test_a_relay_gives_its_leases_back_when_it_stops(world):
    backlog(world, 2)

    report = world.relay("a", leased=True).run(until_idle=True)

    assert report.delivered == 2
    assert world.leases.leases() == {}
    assert world.leases.live(START, 15.0) == []


def test_relays_side_by_side_serve_each_organisation_from_one_relay(world):
    backlog(world, 8)
    xeros = {"a": FakeXero(), "b": FakeXero()}
    relays = [world.relay(name, leased=True, xero=xero) for name, xero in xeros.items()]

    threads = [threading.Thread(target=r.run, kwargs={"until_idle": True}) for r in relays]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10.0)

    served = {name: {org for org, _, _ in xero.calls} for name, xero in xeros.items()}
    assert [m.state for m in world.messages()] == [MessageState.DONE] * 8
    assert not served["a"] & served["b"], served
    assert world.store.claimed() == 0
