"""What the relay records after each delivery, with no database: done, failed for good, retried
later, put off for a rate limit, the organisation parked for its daily limit or for a lost
connection, and deliveries left waiting for a connection."""

from __future__ import annotations

from outbox.store import MessageState
from outbox.xero import (
    XeroAuthError,
    XeroRateLimitError,
    XeroRejectedError,
    XeroTransientError,
)
from projections.base import Projection
from syncledger.samples import invoice_change, payment_change
from tests.unit.relay.conftest import START


def test_a_delivered_invoice_and_its_payment_are_done_and_in_xero(world):
    world.connect()
    world.ingest(invoice_change(1), payment_change(5, invoice_id=1))

    report = world.relay().run(until_idle=True)

    assert (report.delivered, report.failed, report.deferred) == (2, 0, 0)
    assert [m.state for m in world.messages()] == [MessageState.DONE, MessageState.DONE]
    assert all(world.document(m).in_xero for m in world.messages())


def test_a_rejected_delivery_fails_for_good_with_xeros_reason(world):
    world.connect()
    world.ingest(invoice_change(1))
    world.xero.fail("42", XeroRejectedError(["Account code '999' is not a valid code"]))

    report = world.relay().run(until_idle=True)

    [message] = world.messages()
    outcome = world.document(message).last_outcome
    assert (report.failed, message.state) == (1, MessageState.FAILED)
    assert (outcome.final, outcome.category) == (True, "rejected")
    assert "Account code '999'" in outcome.error


def test_a_transient_failure_is_retried_after_the_backoff_and_then_delivered(world):
    world.connect()
    world.ingest(invoice_change(1))
    world.xero.fail("42", XeroTransientError("503 Service Unavailable", 503, uncertain=False))
    relay = world.relay()

    first = relay.run(until_idle=True)
    [waiting] = world.messages()
    failure = world.document(waiting).last_outcome
    world.clock.advance(10.0)
    second = relay.run(until_idle=True)

    assert (first.retrying, first.delivered) == (1, 0)
    assert (waiting.state, waiting.not_before, waiting.attempts) == (
        MessageState.READY,
        START + 10.0,
        1,
    )
    assert (failure.category, failure.final) == ("transient", False)
    assert second.delivered == 1
    assert [m.state for m in world.messages()] == [MessageState.DONE]


def test_an_uncertain_failure_makes_the_next_attempt_look_in_xero_first(world):
    world.connect()
    world.ingest(invoice_change(1))
    world.xero.fail("42", XeroTransientError("timed out", None, uncertain=True))

    world.relay().run(until_idle=True)

    [message] = world.messages()
    assert (message.state, message.uncertain) == (MessageState.READY, True)
    assert world.document(message).last_outcome.category == "uncertain"


def test_transient_failures_give_up_after_the_last_attempt(world):
    world.connect()
    world.ingest(invoice_change(1))
    world.xero.fail(
        "42", *[XeroTransientError("503 Service Unavailable", 503, uncertain=False)] * 3
    )
    relay = world.relay()

    for _ in range(3):
        relay.run(until_idle=True)
        world.clock.advance(60.0)

    [message] = world.messages()
    outcome = world.document(message).last_outcome
    assert (message.state, outcome.final) == (MessageState.FAILED, True)
    assert outcome.error == "gave up after 3 attempts: 503 Service Unavailable"


def test_a_rate_limit_puts_the_delivery_off_without_recording_a_failure(world):
    world.connect()
    world.ingest(invoice_change(1))
    world.xero.fail("42", XeroRateLimitError("429 Too Many Requests", 17.0, "minute"))
    relay = world.relay()

    report = relay.run(until_idle=True)

    [message] = world.messages()
    assert (report.deferred, report.failed, report.retrying) == (1, 0, 0)
    assert (message.state, message.not_before, message.attempts) == (
        MessageState.READY,
        START + 17.0,
        0,
    )
    assert world.document(message).last_outcome is None
    assert relay.window("42").wait_time() > 0, "the organisation's calls pause for Retry-After"


def test_the_daily_limit_parks_the_organisation_while_the_others_carry_on(world):
    world.connect("42")
    world.connect("43")
    world.ingest(invoice_change(1, org_id=42), invoice_change(2, org_id=43))
    world.xero.fail("42", XeroRateLimitError("429 Too Many Requests", 3600.0, "day"))
    relay = world.relay()

    report = relay.run(until_idle=True)

    until, reason = relay.parked["42"]
    assert until == START + 3600.0
    assert reason == "Xero daily limit reached; resumes at 09:00 UTC"
    assert world.org_states.parked(START) == {"42": (until, reason)}, "other relays see it"
    assert [m.state for m in world.messages("42")] == [MessageState.READY]
    assert [m.state for m in world.messages("43")] == [MessageState.DONE]
    assert (report.delivered, report.deferred, report.failed) == (1, 1, 0)


def test_another_run_leaves_a_parked_organisation_alone_until_its_time(world):
    world.connect()
    world.ingest(invoice_change(1))
    world.xero.fail("42", XeroRateLimitError("429 Too Many Requests", 600.0, "day"))
    world.relay().run(until_idle=True)
    calls = len(world.xero.calls)

    world.clock.advance(599.0)
    report = world.relay().run(until_idle=True)

    assert (report.delivered, report.deferred, len(world.xero.calls)) == (0, 0, calls)
    assert [m.state for m in world.messages()] == [MessageState.READY]


def test_a_parked_organisation_resumes_once_its_time_has_passed(world):
    world.connect()
    world.ingest(invoice_change(1))
    world.xero.fail("42", XeroRateLimitError("429 Too Many Requests", 600.0, "day"))
    world.relay().run(until_idle=True)

    world.clock.advance(600.0)
    relay = world.relay()  # a new run takes up the parking other runs left
    report = relay.run(until_idle=True)

    assert report.delivered == 1
    assert relay.parked_orgs() == ()
    assert world.org_states.parked(world.clock()) == {}


def test_a_refused_connection_records_it_lost_and_parks_the_organisation(world):
    world.connect()
    world.ingest(invoice_change(1))
    world.xero.fail("42", XeroAuthError("403 Forbidden", 403))
    relay = world.relay()

    report = relay.run(until_idle=True)

    organisation = world.ledger.organisation("42")
    until, reason = relay.parked["42"]
    assert organisation.connection is None
    assert organisation.disconnect_reason == "Xero connection lost: 403 Forbidden"
    assert (until, reason) == (START + 30.0, "Xero connection lost: 403 Forbidden")
    assert world.org_states.parked(START) == {}, "it waits for `syncledger connect`, not a time"
    assert report.reach.unreachable == {"42": "403 Forbidden"}
    assert [m.state for m in world.messages()] == [MessageState.READY]
    assert world.document(world.messages()[0]).last_outcome is None


class Lagging(Projection):
    """An outbox writer that has not caught up with the log (another process writes it)."""

    def process_batch(self, log, limit):
        return 0

    def position(self):
        return 0

    def reset(self):
        pass


def test_a_delivery_whose_organisation_was_disconnected_meanwhile_waits_for_a_connection(world):
    world.connect()
    world.ingest(invoice_change(1))
    world.ledger.disconnect("42", "disconnected by hand")

    report = world.relay(writer=Lagging()).run(until_idle=True)

    [message] = world.messages()
    assert report.reach.unconnected == {"42": 1}
    assert (report.deferred, report.failed) == (1, 0)
    assert (message.state, message.not_before) == (MessageState.READY, START + 60.0)


def test_an_unexpected_error_in_one_delivery_is_recorded_and_the_others_go_on(world):
    world.connect("42")
    world.connect("43")
    world.ingest(invoice_change(1, org_id=42), invoice_change(2, org_id=43))
    world.xero.fail("42", RuntimeError("bug in the client"))

    report = world.relay().run(until_idle=True)

    [failed] = world.messages("42")
    outcome = world.document(failed).last_outcome
    assert (outcome.category, outcome.final) == ("internal", False)
    assert outcome.error == "internal error: RuntimeError: bug in the client"
    assert [m.state for m in world.messages("43")] == [MessageState.DONE]
    assert (report.delivered, report.retrying) == (1, 1)
