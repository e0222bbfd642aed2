"""The data benchmarks run on, built deterministically (seeded) so every backend gets the same.

- ``setup_orgs``: organisations connected to Xero, with their accounts and tax rates mapped.
- ``ingest_stream``: an NDJSON stream of OpenSolar changes as they arrive from webhooks: new
  invoices issued, new payments paid, and updates and cancellations of earlier invoices.
- ``build_history``: a ledger of a given number of events with the life of documents in it:
  issued, requested, synced (or failed, or retried), paid, cancelled and credited, interleaved
  in log order the way days of traffic interleave. It drives the product's own aggregates and
  saves them through ``SyncLedger.save`` in batches (one transaction per batch) because one
  delivery per transaction would take hours; the events are exactly the ones the product records.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from domain.documents import Document, Invoice, Payment
from domain.ledger import SyncLedger
from domain.opensolar import parse_change_object
from domain.vocabulary import Operation
from syncledger.samples import invoice_change, payment_change

CONNECTED_AT = datetime(2026, 1, 1, tzinfo=UTC)
"""Organisations are connected from this moment; changes after it are sent at once."""
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
XERO_NAMESPACE = uuid.UUID("0b3c2a51-6f0e-4d8e-9f4c-5a0e2b7c9d11")


def org_name(index: int) -> str:
    return f"org{index:03d}"


def setup_orgs(
    ledger: SyncLedger,
    orgs: Sequence[str],
    xero_url: str,
    tenants: Sequence[str] | None = None,
    connected_at: datetime = CONNECTED_AT,
) -> None:
    """Connect each organisation and map what the generated invoices use (5 events each)."""
    for index, org in enumerate(orgs):
        tenant = tenants[index] if tenants is not None else f"tenant-{org}"
        ledger.connect(org, xero_url, tenant, connected_at, "manual")
        ledger.map_account(org, "sales", "200")
        ledger.map_account(org, "discounts", "200")
        ledger.map_tax(org, "GST", "OUTPUT")
        ledger.set_payment_account(org, "090")


def customer(org: str, index: int) -> dict[str, Any]:
    return {
        "id": index,
        "name": f"Customer {org}-{index:04d}",
        "email": f"c{index:04d}@{org}.example",
    }


def _lines(rng: random.Random) -> list[dict[str, Any]]:
    size = rng.choice(("3.3", "5.0", "6.6", "10.0", "13.2"))
    return [
        {
            "category": "sales",
            "description": f"{size} kW solar system, supply and install",
            "quantity": 1,
            "unit_amount": f"{rng.randrange(4000, 20000)}.00",
            "tax_rate": "GST",
        },
        {
            "category": "discounts",
            "description": "Referral discount",
            "quantity": 1,
            "unit_amount": f"-{rng.randrange(50, 500)}.00",
            "tax_rate": "GST",
        },
    ]


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class _Issued:
    org: str
    model_id: int
    change: dict[str, Any]


def ingest_stream(count: int, orgs: Sequence[str], seed: int = 7) -> bytes:
    """``count`` changes as NDJSON: 60% new invoices issued, 25% new payments paid, 10% updates
    (same content, later timestamp) and 5% cancellations of invoices issued earlier in the
    stream, across ``orgs`` with 200 customers each. Timestamps follow the connection, so every
    issued invoice and paid payment asks for a delivery (as live traffic does)."""
    rng = random.Random(seed)
    issued: list[_Issued] = []
    cancelled: set[int] = set()
    lines: list[str] = []
    moment = START
    next_invoice = 100_000
    next_payment = 500_000
    for n in range(count):
        moment += timedelta(seconds=1)
        draw = rng.random()
        event_id = f"ing-{seed}-{n}"
        if draw < 0.60 or len(issued) < 50:
            org = orgs[rng.randrange(len(orgs))]
            next_invoice += 1
            change = invoice_change(
                next_invoice,
                number=f"INV-{next_invoice}",
                org_id=org,
                event_id=event_id,
                timestamp=_stamp(moment),
                customer=customer(org, rng.randrange(200)),
                lines=_lines(rng),
                project_id=rng.randrange(1, 10_000),
            )
            issued.append(_Issued(org, next_invoice, change))
        elif draw < 0.85:
            target = issued[rng.randrange(len(issued))]
            next_payment += 1
            change = payment_change(
                next_payment,
                invoice_id=target.model_id,
                org_id=target.org,
                amount=f"{rng.randrange(100, 3000)}.00",
                event_id=event_id,
                timestamp=_stamp(moment),
                reference=f"Card {rng.randrange(1000, 9999)}",
            )
        else:
            target = issued[rng.randrange(len(issued))]
            change = json.loads(json.dumps(target.change))
            change["event_id"] = event_id
            change["timestamp"] = _stamp(moment)
            if draw >= 0.95 and target.model_id not in cancelled:
                cancelled.add(target.model_id)
                change["fields"]["status"] = "cancelled"
            else:
                change["fields"]["due_date"] = (moment.date() + timedelta(days=30)).isoformat()
        lines.append(json.dumps(change, separators=(",", ":")))
    return ("\n".join(lines) + "\n").encode()


# the history ledger ----------------------------------------------------------------------------


def _xero_id(*parts: object) -> str:
    return str(uuid.uuid5(XERO_NAMESPACE, "/".join(str(p) for p in parts)))


def _call(operation: str, method: str, path: str, request: dict[str, Any], answer: Any) -> dict:
    return {
        "operation": operation,
        "method": method,
        "path": path,
        "idempotency_key": f"syncledger-{operation}-{uuid.uuid4().hex}{uuid.uuid4().hex}",
        "request": request,
        "status": 200,
        "outcome": "ok",
        "response": answer,
        "duration_ms": 151.3,
        "at": "2026-01-05T09:00:00.000+00:00",
    }


def _invoice_calls(invoice: Invoice, xero_id: str, contact: str) -> list[dict[str, Any]]:
    fields = invoice.fields
    assert fields is not None
    item = {
        "number": fields.invoice_number,
        "contact_id": contact,
        "status": "AUTHORISED",
        "line_amount_types": "Inclusive",
        "lines": [
            {
                "account": "200",
                "tax_type": "OUTPUT",
                "quantity": str(line.quantity),
                "unit_amount": str(line.unit_amount),
            }
            for line in fields.line_items
        ],
    }
    answer = {
        "Invoices": [
            {
                "InvoiceID": xero_id,
                "InvoiceNumber": fields.invoice_number,
                "Reference": f"OpenSolar project {fields.project_id}",
                "Status": "AUTHORISED",
                "StatusAttributeString": "OK",
                "Total": str(fields.total),
                "AmountDue": str(fields.total),
            }
        ]
    }
    path = "/Invoices?summarizeErrors=false&unitdp=4"
    return [_call("create_invoices", "PUT", path, {"batch_size": 1, "items": [item]}, answer)]


def _simple_call(operation: str, path: str, xero_id: str, amount: str) -> list[dict[str, Any]]:
    answer = {"Id": xero_id, "Amount": amount, "StatusAttributeString": "OK"}
    return [_call(operation, "PUT", path, {"amount": amount}, answer)]


@dataclass
class HistoryShape:
    """How the history's documents live (shares of invoices)."""

    invoices_per_round: int = 2000
    customers_per_org: int = 300
    failed: float = 0.03
    retried: float = 0.03
    paid: float = 0.5
    cancelled: float = 0.03
    updated: float = 0.1
    batch_aggregates: int = 250


@dataclass
class History:
    """What ``build_history`` made."""

    events: int
    invoices: int
    payments: int
    failed: int
    orgs: list[str]
    invoice_numbers: list[str]


class _Builder:
    def __init__(self, ledger: SyncLedger, orgs: Sequence[str], shape: HistoryShape, seed: int):
        self.ledger = ledger
        self.orgs = list(orgs)
        self.shape = shape
        self.rng = random.Random(seed)
        self.connections = {}
        for org in orgs:
            found = ledger.organisation(org)
            assert found is not None
            assert found.connection is not None
            self.connections[org] = found.connection
        self.moment = START
        self.next_invoice = 1
        self.next_payment = 1
        self.numbers: list[str] = []
        self.failed = 0
        self.payments = 0
        self.events = 0
        self.pending: list[Document] = []

    def tick(self) -> datetime:
        self.moment += timedelta(seconds=2)
        return self.moment

    def touch(self, doc: Document) -> None:
        self.pending.append(doc)

    def flush(self) -> None:
        size = self.shape.batch_aggregates
        unique = list({id(d): d for d in self.pending}.values())
        self.pending = []
        for start in range(0, len(unique), size):
            chunk = unique[start : start + size]
            self.events += sum(len(d.pending_events) for d in chunk)
            self.ledger.save(*chunk)

    def issue(self) -> Invoice:
        org = self.orgs[self.rng.randrange(len(self.orgs))]
        model_id = self.next_invoice
        self.next_invoice += 1
        number = f"INV-{model_id:07d}"
        self.numbers.append(number)
        data = invoice_change(
            model_id,
            number=number,
            org_id=org,
            event_id=f"hist-i-{model_id}",
            timestamp=_stamp(self.tick()),
            customer=customer(org, self.rng.randrange(self.shape.customers_per_org)),
            lines=_lines(self.rng),
            project_id=self.rng.randrange(1, 10_000),
        )
        invoice: Invoice = Invoice.start(org, str(model_id))
        invoice.receive(parse_change_object(data), self.connections[org])
        self.touch(invoice)
        return invoice

    def succeed(self, doc: Document) -> None:
        request = doc.open_request
        assert request is not None
        xero_id = _xero_id(doc.id, request.version)
        if request.operation == Operation.INVOICE and isinstance(doc, Invoice):
            contact = _xero_id(
                doc.org_id, "contact", doc.fields.customer.email if doc.fields else ""
            )
            calls = _invoice_calls(doc, xero_id, contact)
            total = doc.fields.total if doc.fields else 0
            detail = f"invoice {doc.number} created in Xero (AUTHORISED, total {total})"
            doc.record_success(
                Operation.INVOICE, request.version, xero_id, doc.fields, detail, calls
            )
        elif request.operation == Operation.CREDIT_NOTE and isinstance(doc, Invoice):
            calls = _simple_call("create_credit_notes", "/CreditNotes", xero_id, "100.00")
            doc.record_success(
                Operation.CREDIT_NOTE,
                request.version,
                xero_id,
                doc.sent_fields,
                "credit note",
                calls,
            )
        elif isinstance(doc, Payment):
            amount = str(doc.fields.amount) if doc.fields else "0"
            calls = _simple_call("create_payments", "/Payments", xero_id, amount)
            doc.record_success(
                Operation.PAYMENT, request.version, xero_id, doc.fields, "paid", calls
            )
        self.touch(doc)

    def fail(self, doc: Document, *, final: bool) -> None:
        request = doc.open_request
        assert request is not None
        error = "Invoice # must be unique." if final else "503 Service Unavailable"
        retry_at = None if final else self.moment + timedelta(seconds=30)
        calls = _simple_call("create_invoices", "/Invoices", _xero_id(doc.id, "x"), "0")
        doc.record_failure(
            request.operation,
            request.version,
            error,
            "rejected" if final else "transient",
            final=final,
            retry_at=retry_at,
            calls=calls,
        )
        if final:
            self.failed += 1
        self.touch(doc)

    def pay(self, invoice: Invoice) -> Payment:
        assert invoice.fields is not None
        model_id = self.next_payment
        self.next_payment += 1
        data = payment_change(
            model_id,
            invoice_id=invoice.opensolar_id,
            org_id=invoice.org_id,
            amount=str(invoice.fields.total),
            event_id=f"hist-p-{model_id}",
            timestamp=_stamp(self.tick()),
            reference=f"Card {self.rng.randrange(1000, 9999)}",
        )
        payment: Payment = Payment.start(invoice.org_id, str(model_id))
        payment.receive(parse_change_object(data), self.connections[invoice.org_id])
        self.payments += 1
        self.touch(payment)
        return payment

    def change(self, invoice: Invoice, *, cancel: bool) -> None:
        assert invoice.fields is not None
        data = invoice_change(
            invoice.opensolar_id,
            number=invoice.fields.invoice_number,
            org_id=invoice.org_id,
            event_id=f"hist-u-{invoice.opensolar_id}-{int(cancel)}",
            timestamp=_stamp(self.tick()),
            status="cancelled" if cancel else "sent",
            customer=_customer_json(invoice),
            lines=[_line_json(line) for line in invoice.fields.line_items],
            project_id=invoice.fields.project_id,
            due_date=(self.moment.date() + timedelta(days=30)).isoformat(),
        )
        invoice.receive(parse_change_object(data), self.connections[invoice.org_id])
        self.touch(invoice)


def _customer_json(invoice: Invoice) -> dict[str, Any]:
    assert invoice.fields is not None
    c = invoice.fields.customer
    return {"id": c.id, "name": c.name, "email": c.email}


def _line_json(line: Any) -> dict[str, Any]:
    return {
        "category": line.category,
        "description": line.description,
        "quantity": str(line.quantity),
        "unit_amount": str(line.unit_amount),
        "tax_rate": line.tax_rate,
    }


def build_history(
    ledger: SyncLedger,
    orgs: Sequence[str],
    target_events: int,
    *,
    shape: HistoryShape | None = None,
    seed: int = 11,
    progress: Callable[[int], None] | None = None,
) -> History:
    """Append documents' lives to ``ledger`` until it holds about ``target_events`` events.

    Each round (a few minutes of traffic) issues new invoices, and settles what the previous
    round asked for: invoices sync (or fail for good, or fail once and sync on the retry), half of
    the synced invoices are paid a round later and their payments sync the round after, some are
    updated (same content) and some cancelled, which asks for a credit note that syncs next
    round. So one document's events are spread over several batches of the log."""
    shape = shape or HistoryShape(invoices_per_round=max(100, min(2000, target_events // 500)))
    b = _Builder(ledger, orgs, shape, seed)
    start_events = ledger.recorder.max_notification_id() or 0
    requested: list[Document] = []
    retrying: list[Document] = []
    synced_invoices: list[Invoice] = []
    while start_events + b.events < target_events:
        # outcomes of what the previous round asked for
        next_requested: list[Document] = []
        for doc in retrying:
            b.succeed(doc)
        retrying = []
        for doc in requested:
            draw = b.rng.random()
            is_invoice = isinstance(doc, Invoice) and doc.open_request is not None
            if (
                is_invoice
                and doc.open_request.operation == Operation.INVOICE
                and draw < shape.failed
            ):
                b.fail(doc, final=True)
            elif is_invoice and draw < shape.failed + shape.retried:
                b.fail(doc, final=False)
                retrying.append(doc)
            else:
                b.succeed(doc)
                settled = isinstance(doc, Invoice) and doc.open_request is None
                if settled and doc.xero_credit_note_id is None and not doc.is_cancelled:
                    synced_invoices.append(doc)
        # what happens to invoices synced earlier: paid, updated, cancelled
        later, synced_invoices = synced_invoices, []
        for invoice in later:
            draw = b.rng.random()
            if draw < shape.paid:
                next_requested.append(b.pay(invoice))
            elif draw < shape.paid + shape.cancelled:
                b.change(invoice, cancel=True)
                if invoice.open_request is not None:
                    next_requested.append(invoice)
            elif draw < shape.paid + shape.cancelled + shape.updated:
                b.change(invoice, cancel=False)
        # new invoices
        for _ in range(shape.invoices_per_round):
            next_requested.append(b.issue())
        requested = next_requested
        b.flush()
        if progress is not None:
            progress(start_events + b.events)
    return History(
        events=start_events + b.events,
        invoices=b.next_invoice - 1,
        payments=b.payments,
        failed=b.failed,
        orgs=list(orgs),
        invoice_numbers=b.numbers,
    )


def day(moment: datetime) -> date:
    return moment.date()


def iter_batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
