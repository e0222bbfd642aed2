"""Events stored by an earlier version still read: a ledger written by commit 53b1f6b (every
event class the domain records) is loaded with today's code and must rebuild the same aggregates
and statuses; and today's code, given the same commands, stores the same topics and state.

The fixture ``data/stored_events.json`` was written by ``scenario`` below running on 53b1f6b
(this file copied into a checkout of that commit, then ``python -m tests.unit.test_stored_events
OUT.json``): its events (originator, version, topic, state) and, as that code saw them, each
aggregate's attributes and each document's status row.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

from domain.documents import event_topics
from domain.ledger import ContactMatch, Resolution, SyncLedger
from domain.opensolar import Customer as CustomerFields
from domain.opensolar import parse_change_object
from projections.status import new_row, next_row

FIXTURE = Path(__file__).parent / "data" / "stored_events.json"
ORG = "42"
CONNECTED_AT = datetime(2026, 11, 1, tzinfo=UTC)
NOT_COMPARED = frozenset({"_pending_events"})


# the scenario: commands that make every kind of event ------------------------------------------


def _change(model: str, model_id: int, fields: dict[str, Any] | None, day: int, **extra: Any):
    data = {
        "event_id": f"{model.lower()}-{model_id}-{day}",
        "timestamp": f"2026-11-{day:02d}T09:00:00Z",
        "org_id": ORG,
        "model": model,
        "model_id": model_id,
        "event": "UPDATE",
        "fields": fields,
        **extra,
    }
    return parse_change_object(data)


def _invoice(model_id: int, day: int, status: str = "sent", **fields: Any):
    body = {
        "invoice_number": f"INV-{model_id}",
        "status": status,
        "project_id": 700 + model_id,
        "issued_date": "2026-11-10",
        "due_date": "2026-12-31",
        "currency": "AUD",
        "amounts_include_tax": True,
        "customer": {"id": 555, "name": "Jane Citizen", "email": "jane@example.com"},
        "line_items": [
            {"category": "sales", "description": "System", "quantity": 1, "unit_amount": "9900"},
            {"category": "discounts", "quantity": "2", "unit_amount": "-125.5", "tax_rate": "GST"},
        ],
        **fields,
    }
    return _change("Invoice", model_id, body, day)


def _payment(model_id: int, day: int, invoice_id: int, status: str = "paid", amount: str = "500"):
    body = {
        "invoice_id": invoice_id,
        "amount": amount,
        "currency": "AUD",
        "status": status,
        "paid_date": f"2026-11-{day:02d}",
        "reference": "Card 4242",
    }
    return _change("Payment", model_id, body, day)


def _doc(ledger: SyncLedger, kind: str, model_id: int) -> Any:
    found = ledger.find_document(ORG, kind, str(model_id))
    assert found is not None
    return found


def _succeed(ledger: SyncLedger, kind: str, model_id: int, xero_id: str, **xero: Any) -> None:
    doc = _doc(ledger, kind, model_id)
    request = doc.open_request
    calls = [{"method": "PUT", "path": f"/{kind}s", "status": 200}]
    ledger.record_success(
        doc.id,
        request.operation,
        request.version,
        xero_id,
        doc.fields,
        "ok",
        calls,
        tenant_id="tenant-1",
        xero=xero or None,
    )


def _fail(ledger: SyncLedger, kind: str, model_id: int, *, final: bool) -> None:
    doc = _doc(ledger, kind, model_id)
    request = doc.open_request
    ledger.record_failure(
        doc.id,
        request.operation,
        request.version,
        "Xero said no" if final else "Xero timed out",
        "rejected" if final else "transient",
        final=final,
        retry_at=None if final else datetime(2026, 11, 21, 10, 30, tzinfo=UTC),
        calls=[{"method": "POST", "path": "/Invoices", "status": 400 if final else 504}],
        action="correct it in OpenSolar" if final else "",
    )


def _defer(ledger: SyncLedger, kind: str, model_id: int) -> None:
    doc = _doc(ledger, kind, model_id)
    request = doc.open_request
    calls = [{"method": "GET", "path": f"/{kind}s", "status": 429}]
    ledger.record_deferral(doc.id, request.operation, request.version, "rate limited", calls)


def _legacy(ledger: SyncLedger, kind: str, model_id: int, change: Any, guidance: str) -> None:
    """What older versions recorded (``AmendedAfterSync``): no command makes it any more."""
    doc = _doc(ledger, kind, model_id)
    doc.trigger_event(doc.AmendedAfterSync, change=change, guidance=guidance)
    ledger.save(doc)


def scenario(ledger: SyncLedger) -> None:
    """Every event class the domain records, through the ledger's commands."""
    ledger.connect(ORG, "http://xero", "tenant-1", CONNECTED_AT, "manual")
    ledger.map_account(ORG, "sales", "200")
    ledger.map_tax(ORG, "GST", "output")
    ledger.set_payment_account(ORG, "090")
    ledger.set_invoice_status(ORG, "authorised")
    ledger.set_number_suffix(ORG, True)
    ledger.set_rounding_account(ORG, "860")

    ledger.ingest([_invoice(1, 15, status="not_sent")])
    ledger.ingest([_invoice(1, 16)])
    total = Decimal("9649.00")
    _succeed(ledger, "invoice", 1, "xero-inv-1", number="INV-1", total=total, contact_id="c-1")
    ledger.ingest([_invoice(1, 17, due_date="2027-01-15")])
    _fail(ledger, "invoice", 1, final=False)
    _defer(ledger, "invoice", 1)
    _fail(ledger, "invoice", 1, final=True)
    ledger.request_retry(_doc(ledger, "invoice", 1).id, "retry asked for by a person")
    _succeed(ledger, "invoice", 1, "xero-inv-1", total=total)
    ledger.ingest([_invoice(1, 18, due_date="2027-01-15", invoice_number="INV-1B")])
    ledger.ingest([_invoice(1, 19, due_date="2027-01-15")])
    ledger.ingest([_invoice(1, 2, due_date="2027-02-01")])

    ledger.ingest([_payment(10, 20, 1, status="pending")])
    ledger.ingest([_payment(10, 21, 1)])
    _succeed(ledger, "payment", 10, "xero-pay-1")
    ledger.ingest([_payment(10, 22, 1, amount="600")])
    _succeed(ledger, "payment", 10, "xero-pay-1")
    payment = _doc(ledger, "payment", 10)
    request = payment.open_request
    ledger.record_resolutions(
        [Resolution(payment.id, request.operation, request.version, [], skipped="nothing to do")]
    )
    ledger.ingest([_payment(10, 23, 2, amount="600")])
    ledger.ingest([_payment(10, 24, 2, status="failed", amount="600")])
    ledger.ingest([_payment(11, 24, 3)])
    ledger.ingest([_payment(11, 3, 3)])
    _fail(ledger, "payment", 11, final=False)
    _defer(ledger, "payment", 11)
    _fail(ledger, "payment", 11, final=True)
    ledger.request_retry(_doc(ledger, "payment", 11).id)

    ledger.ingest([_invoice(1, 25, status="cancelled", due_date="2027-01-15")])
    _succeed(ledger, "invoice", 1, "xero-cn-1", cancellation="credited", allocated=total)
    ledger.ingest([_invoice(2, 25), _invoice(2, 26, status="cancelled")])
    ledger.ingest([_payment(12, 27, 2)])
    ledger.ingest([_invoice(3, 26)])
    _legacy(ledger, "invoice", 3, _invoice(3, 27), "amounts changed after sync")
    _legacy(ledger, "payment", 11, _payment(11, 27, 3, amount="1"), "payment changed after sync")

    customer = CustomerFields(id="555", name="Jane Citizen", email="jane@example.com")
    contact = ContactMatch(customer, "tenant-1", "c-1", "Jane Citizen", "email")
    ledger.record_contact(ORG, contact)
    ledger.record_reconciliation(ORG, "tenant-1", {"missing": 1, "differs": 2})
    ledger.disconnect(ORG, "token revoked")
    ledger.connect(ORG, "http://xero", "tenant-2", CONNECTED_AT, "oauth", switch_tenant=True)


# what was stored, and what it means ---------------------------------------------------------------


def stored(ledger: SyncLedger) -> list[dict[str, Any]]:
    """Every stored event in log order: originator, version, topic and state (as text)."""
    return [
        {
            "originator_id": str(n.originator_id),
            "originator_version": n.originator_version,
            "topic": n.topic,
            "state": n.state.decode("utf8"),
        }
        for n in ledger.recorder.select_notifications(start=1, limit=100_000)
    ]


def plain(value: Any) -> Any:
    """A value as JSON-able data that compares equal across processes (sets sorted)."""
    if isinstance(value, str | int | float | bool) or value is None:
        return value if type(value) in (int, float, bool) or value is None else str(value)
    if isinstance(value, datetime | date | Decimal | UUID):
        return f"{type(value).__name__}:{value}"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"__class__": type(value).__name__, **fields}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((plain(v) for v in value), key=repr)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    raise TypeError(f"no plain form for {type(value).__name__}")


def aggregates(ledger: SyncLedger, ids: list[str]) -> dict[str, Any]:
    """Each aggregate as the ledger rebuilds it: its class and every attribute."""
    found: dict[str, Any] = {}
    for aggregate_id in ids:
        aggregate = ledger.repository.get(UUID(aggregate_id))
        state = {k: v for k, v in vars(aggregate).items() if k not in NOT_COMPARED}
        found[aggregate_id] = {"class": type(aggregate).__name__, "state": plain(state)}
    return found


def statuses(ledger: SyncLedger, ids: list[str]) -> dict[str, Any]:
    """Each document's status row, folded from its events."""
    rows: dict[str, Any] = {}
    for aggregate_id in ids:
        events = list(ledger.events_of(UUID(aggregate_id)))
        first = events[0]
        if not hasattr(first, "opensolar_id"):
            continue
        kind = type(ledger.repository.get(UUID(aggregate_id))).__name__.lower()
        row = new_row(first, kind)
        for event in events[1:]:
            row = next_row(row, event)
        rows[aggregate_id] = plain(row)
    return rows


def originators(events: list[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(e["originator_id"] for e in events))


def export(ledger: SyncLedger) -> dict[str, Any]:
    events = stored(ledger)
    ids = originators(events)
    return {
        "events": events,
        "aggregates": aggregates(ledger, ids),
        "statuses": statuses(ledger, ids),
    }


# the tests ------------------------------------------------------------------------------------


@pytest.fixture
def ledger() -> Iterator[SyncLedger]:
    app = SyncLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield app
    app.close()


@pytest.fixture(scope="module")
def fixture() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text(encoding="utf8"))


def _load(ledger: SyncLedger, events: list[dict[str, Any]]) -> None:
    ledger.recorder.insert_events(
        [
            StoredEvent(
                originator_id=UUID(e["originator_id"]),
                originator_version=e["originator_version"],
                topic=e["topic"],
                state=e["state"].encode("utf8"),
            )
            for e in events
        ]
    )


def test_every_stored_topic_names_the_class_that_stores_it_today(fixture):
    for topic in sorted({e["topic"] for e in fixture["events"]}):
        assert get_topic(resolve_topic(topic)) == topic


def test_stored_events_rebuild_the_same_aggregates_and_statuses(ledger, fixture):
    _load(ledger, fixture["events"])
    ids = originators(fixture["events"])

    assert aggregates(ledger, ids) == fixture["aggregates"]
    assert statuses(ledger, ids) == fixture["statuses"]


def test_event_topics_are_built_from_the_classes():
    assert event_topics("Issued", "SyncFailed") == {
        "domain.documents:Invoice.Issued",
        "domain.documents:Invoice.SyncFailed",
        "domain.documents:Payment.SyncFailed",
    }


def _without_timestamp(event: dict[str, Any]) -> tuple[Any, ...]:
    state = [(k, v) for k, v in json.loads(event["state"]).items() if k != "timestamp"]
    return (event["originator_id"], event["originator_version"], event["topic"], state)


def test_the_same_commands_store_the_same_events_today(ledger, fixture):
    scenario(ledger)

    assert [_without_timestamp(e) for e in stored(ledger)] == [
        _without_timestamp(e) for e in fixture["events"]
    ]


if __name__ == "__main__":  # write the fixture (with the code checked out)
    app = SyncLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    scenario(app)
    Path(sys.argv[1]).write_text(json.dumps(export(app), indent=1) + "\n", encoding="utf8")
    app.close()
