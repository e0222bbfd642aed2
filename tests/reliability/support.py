"""Shared tools of the reliability suite: a seeded plan of OpenSolar documents over several
organisations with the end state it must produce in Xero, background relays, and the two
checks every damaging test ends with:

- ``check_end_state``: the sandbox holds exactly one invoice per pushed invoice, one credit note
  and one allocation per pushed cancellation and one payment per paid payment, with the amounts
  computed here independently of syncledger; every status agrees with the sandbox.
- ``account_for_calls``: the ledger's history explains every call. The sandbox's request log
  and the ledger's recorded calls are matched by Idempotency-Key (a batch call, recorded on each
  document it carried, counts once). The ledger records no write Xero did not receive, and every
  object Xero holds is named in the ledger. Every write Xero received that changed something has
  its answer recorded in the ledger (a 2xx call whose response names the ids it made), or its
  answer never reached the ledger (the relay was killed, or the answer was dropped) and what it
  made was later found by a recorded lookup and adopted: object by object where Xero dates its
  objects (each object the ledger did not see being made was made during one of those writes to
  its own organisation, and each of those writes made something there), by count otherwise.
"""

from __future__ import annotations

import json
import random
import re
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import httpx

from domain.customer import Customer
from domain.documents import Document
from domain.vocabulary import Operation
from syncledger.bootstrap import System
from syncledger.config import Settings
from syncledger.samples import invoice_change, payment_change
from tests.e2e.conftest import BIN, Cli, SandboxProcess, configure_in_process

CONNECTED_AT = datetime(2026, 11, 1, tzinfo=UTC)
ISSUED = "2026-11-20T09:30:00Z"
CANCELLED_UNSENT_AT = "2026-11-20T11:00:00Z"
PENDING_AT = "2026-11-21T10:00:00Z"
PAID_AT = "2026-11-22T10:00:00Z"
PAID_LATER_AT = "2026-11-23T10:00:00Z"
CANCELLED_AT = "2026-11-25T00:00:00Z"
CENT = Decimal("0.01")
GST = Decimal("0.10")
WRITE_METHODS = ("PUT", "POST")


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def wait_for(condition: Callable[[], Any], timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return bool(condition())


# the plan ----------------------------------------------------------------------------------------


@dataclass
class InvoicePlan:
    """One OpenSolar invoice of the plan and what Xero must end up holding for it."""

    org: str
    model_id: int
    number: str
    customer: dict[str, Any]
    lines: list[dict[str, Any]]
    include_tax: bool
    wave: int
    unmapped: bool = False
    cancelled_unsent: bool = False
    cancelled: bool = False
    """cancelled after Xero had it: a credit note must follow"""
    racing: bool = False
    """cancelled while its push may have been in flight: either never in Xero, or credited"""
    deleted: bool = False

    @property
    def document(self) -> str:
        return f"invoice:{self.model_id}"

    @property
    def total(self) -> Decimal:
        """What Xero computes: line amounts rounded per line, GST per line when exclusive."""
        total = Decimal("0.00")
        for line in self.lines:
            amount = money(Decimal(str(line["quantity"])) * Decimal(line["unit_amount"]))
            total += amount if self.include_tax else amount + money(amount * GST)
        return total

    def change(self, **overrides: Any) -> dict[str, Any]:
        values: dict[str, Any] = dict(
            number=self.number,
            org_id=self.org,
            customer=self.customer,
            lines=self.lines,
            include_tax=self.include_tax,
            timestamp=ISSUED,
            event_id=f"evt-{self.org}-inv-{self.model_id}-issued",
        )
        values.update(overrides)
        return invoice_change(self.model_id, **values)


@dataclass
class PaymentPlan:
    """One OpenSolar payment of the plan: first seen in ``wave``; paid in ``paid_wave``."""

    org: str
    model_id: int
    invoice: InvoicePlan
    amount: Decimal
    wave: int
    paid_wave: int | None

    @property
    def document(self) -> str:
        return f"payment:{self.model_id}"

    @property
    def reference(self) -> str:
        return f"OpenSolar payment {self.model_id}"

    def change(self, status: str, timestamp: str) -> dict[str, Any]:
        return payment_change(
            self.model_id,
            invoice_id=self.invoice.model_id,
            amount=f"{self.amount:.2f}",
            status=status,
            timestamp=timestamp,
            org_id=self.org,
            event_id=f"evt-{self.org}-pay-{self.model_id}-{status}",
            reference=f"Card {self.model_id % 10000:04d}",
        )


@dataclass
class Plan:
    """A seeded mix of documents over several organisations, ingested in waves."""

    orgs: tuple[str, ...]
    invoices: list[InvoicePlan]
    payments: list[PaymentPlan]
    unmapped_category: str = "incentives"

    @classmethod
    def build(
        cls,
        seed: int,
        orgs: Iterable[str],
        invoices_per_org: int,
        *,
        waves: int = 2,
        customers_per_org: int = 8,
        unmapped_share: float = 0.1,
        unsent_cancels_per_org: int = 2,
        paid_share: float = 0.35,
    ) -> Plan:
        rng = random.Random(seed)
        org_ids = tuple(orgs)
        invoices: list[InvoicePlan] = []
        payments: list[PaymentPlan] = []
        for org_index, org in enumerate(org_ids):
            base = (org_index + 1) * 100_000
            customers = [
                {
                    "id": base + c,
                    "name": f"Customer {org}-{c}",
                    "email": f"customer{c}@{org.lower()}.example",
                }
                for c in range(customers_per_org)
            ]
            for n in range(invoices_per_org + unsent_cancels_per_org):
                lines = [
                    {
                        "category": "sales",
                        "description": "PV system",
                        "quantity": rng.choice([1, 1, 2]),
                        "unit_amount": f"{rng.randint(2000, 15000)}.{rng.randint(0, 99):02d}",
                        "tax_rate": "GST",
                    },
                    {
                        "category": "discounts",
                        "description": "Referral",
                        "quantity": 1,
                        "unit_amount": f"-{rng.randint(50, 400)}.00",
                        "tax_rate": "GST",
                    },
                ]
                unsent = n >= invoices_per_org
                unmapped = not unsent and rng.random() < unmapped_share
                if unmapped:
                    lines.append(
                        {
                            "category": "incentives",
                            "description": "STC rebate",
                            "quantity": 1,
                            "unit_amount": f"-{rng.randint(500, 1500)}.00",
                            "tax_rate": "GST",
                        }
                    )
                invoice = InvoicePlan(
                    org=org,
                    model_id=base + n,
                    number=f"INV-{org}-{n:04d}",
                    customer=rng.choice(customers),
                    lines=lines,
                    include_tax=rng.random() < 0.7,
                    wave=0 if unsent or unmapped else rng.randrange(waves),
                    unmapped=unmapped,
                    cancelled_unsent=unsent,
                )
                invoices.append(invoice)
                if unsent or rng.random() >= paid_share:
                    continue
                total = invoice.total
                first = money(total * Decimal(rng.randint(10, 50)) / 100)
                amounts = [first]
                if rng.random() < 0.3:
                    amounts.append(money((total - first) * Decimal(rng.randint(10, 90)) / 100))
                for amount in amounts:
                    seen = rng.randrange(waves)
                    roll = rng.random()
                    paid_wave: int | None
                    if roll < 0.7:
                        paid_wave = seen
                    elif roll < 0.9:
                        paid_wave = waves  # paid in the last wave, after being pending
                    else:
                        paid_wave = None  # stays pending (nothing goes to Xero)
                    payments.append(
                        PaymentPlan(
                            org, base + 50_000 + len(payments), invoice, amount, seen, paid_wave
                        )
                    )
        return cls(org_ids, invoices, payments)

    def wave(self, number: int) -> list[dict[str, Any]]:
        """The changes OpenSolar sends in one wave (the last wave: cancellations and the pending
        payments that became paid; cancellations are added by ``cancel``)."""
        changes: list[dict[str, Any]] = []
        for invoice in self.invoices:
            if invoice.wave != number:
                continue
            changes.append(invoice.change())
            if invoice.cancelled_unsent:
                changes.append(
                    invoice.change(
                        status="cancelled",
                        timestamp=CANCELLED_UNSENT_AT,
                        event_id=f"evt-{invoice.org}-inv-{invoice.model_id}-cancelled",
                    )
                )
        for payment in self.payments:
            if payment.wave == number:
                if payment.paid_wave == number:
                    changes.append(payment.change("paid", PAID_AT))
                else:
                    changes.append(payment.change("pending", PENDING_AT))
            elif payment.paid_wave == number:
                changes.append(payment.change("paid", PAID_LATER_AT))
        return changes

    def cancellable(self) -> list[InvoicePlan]:
        """Invoices that may be cancelled after they were sent (no payments, mapped)."""
        paid = {p.invoice.model_id for p in self.payments}
        return [
            i
            for i in self.invoices
            if not i.unmapped
            and not i.cancelled_unsent
            and not i.cancelled
            and not i.racing
            and i.model_id not in paid
        ]

    def cancel(
        self, invoices: Iterable[InvoicePlan], rng: random.Random, *, racing: bool = False
    ) -> list[dict[str, Any]]:
        """Cancel these invoices in OpenSolar (already Synced ones, or, ``racing``, ones whose
        push may be in flight): an UPDATE to ``cancelled``, or a DELETE, chosen at random."""
        changes = []
        for invoice in invoices:
            invoice.racing = racing
            invoice.cancelled = not racing
            invoice.deleted = rng.random() < 0.3
            changes.append(
                invoice.change(
                    status="cancelled",
                    timestamp=CANCELLED_AT,
                    event="DELETE" if invoice.deleted else "UPDATE",
                    event_id=f"evt-{invoice.org}-inv-{invoice.model_id}-cancelled",
                )
            )
        return changes

    def fix_unmapped(self, cli: Cli) -> None:
        """Map the unmapped category and retry exactly the invoices that failed for it (never
        ``retry --failed``, which would hide any other failure)."""
        for org in self.orgs:
            cli("config", "map-account", org, self.unmapped_category, "260", "--no-check")
            numbers = [i.number for i in self.invoices if i.org == org and i.unmapped]
            if numbers:
                cli("retry", *numbers, "--org", org)

    @property
    def documents(self) -> int:
        return len(self.invoices) + len(self.payments)


def ndjson_lines(changes: Iterable[dict[str, Any]]) -> str:
    return "".join(json.dumps(c) + "\n" for c in changes)


def setup_organisations(
    db: str,
    sandbox: SandboxProcess,
    orgs: Iterable[str],
) -> None:
    """Connect each organisation to its own sandbox tenant, in-process (no Xero calls), with
    the usual mappings; the plan's unmapped category stays unmapped unless asked."""
    configure_in_process(
        db,
        [(org, sandbox.url, tenant) for org, tenant in zip(orgs, sandbox.tenant_ids, strict=False)],
    )


# processes ---------------------------------------------------------------------------------------


@dataclass
class BackgroundRelay:
    """A ``syncledger relay`` in its own process, its log in a file."""

    process: subprocess.Popen[str]
    log: Path

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise


def start_relay(cli: Cli, name: str, *args: str, **env: str) -> BackgroundRelay:
    log = cli.workdir / f"{name}.log"
    with open(log, "w") as stream:
        process = subprocess.Popen(
            [str(BIN), "relay", *args],
            stdout=stream,
            stderr=subprocess.STDOUT,
            text=True,
            env={**cli.env(), **env},
            cwd=cli.workdir,
        )
    return BackgroundRelay(process, log)


def all_requests(sandbox: SandboxProcess) -> list[dict[str, Any]]:
    """The sandbox's whole request log (every tenant)."""
    answer = httpx.get(f"{sandbox.url}/sandbox/requests")
    answer.raise_for_status()
    data = answer.json()
    return data["requests"] if isinstance(data, dict) else data


def set_faults(sandbox: SandboxProcess, **settings: Any) -> None:
    httpx.post(f"{sandbox.url}/sandbox/faults", json=settings).raise_for_status()


# what the ledger recorded ------------------------------------------------------------------------


@dataclass
class LedgerRecord:
    """Everything the ledger's log says about Xero: recorded calls, outcomes, contact matches."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    succeeded: list[tuple[str, str, str]] = field(default_factory=list)
    """(document aggregate id, operation, Xero id) of every success."""
    details: list[tuple[str, str]] = field(default_factory=list)
    """(document aggregate id, detail) of every success."""
    contacts: dict[str, str] = field(default_factory=dict)
    """contact id -> how the ledger came to know it (created, found by email ...)."""
    events: int = 0

    def adopted(self) -> set[str]:
        """Documents (aggregate ids) whose outcome adopted what an earlier attempt created."""
        return {doc for doc, detail in self.details if "adopted" in detail}

    def xero_ids(self, operation: str) -> dict[str, str]:
        """document aggregate id -> Xero id, for one operation."""
        return {doc: xero for doc, op, xero in self.succeeded if op == operation}


def read_ledger(db: str) -> LedgerRecord:
    """Read the whole log in-process (no relay may be writing meanwhile)."""
    record = LedgerRecord()
    with System.open(Settings(db=db)) as system:
        after = 0
        while True:
            batch = system.log.read(after, 1000)
            if not batch:
                break
            for item in batch:
                after = item.position
                record.events += 1
                event = item.event
                if isinstance(
                    event,
                    Document.SyncSucceeded | Document.SyncFailed | Document.SyncDeferred,
                ):
                    record.calls.extend(event.calls)
                if isinstance(event, Document.SyncSucceeded):
                    record.succeeded.append(
                        (str(event.originator_id), event.operation, event.xero_id)
                    )
                    record.details.append((str(event.originator_id), event.detail))
                elif isinstance(event, Customer.ContactMatched):
                    record.contacts[event.contact_id] = event.how
    return record


# the accounting of calls -------------------------------------------------------------------------

_KINDS: tuple[tuple[str, str, str, str, str | None], ...] = (
    # (kind in the sandbox state, its id field, collection in Xero's answers, id field there,
    #  the state's field telling when the object was made, if it has one)
    ("contacts", "contact_id", "Contacts", "ContactID", "updated_at"),
    ("invoices", "invoice_id", "Invoices", "InvoiceID", "created_at"),
    ("credit_notes", "credit_note_id", "CreditNotes", "CreditNoteID", "created_at"),
    ("allocations", "allocation_id", "Allocations", "AllocationID", None),
    ("payments", "payment_id", "Payments", "PaymentID", None),
)
_API = "/api.xro/2.0"
_SLACK = 0.05
"""Seconds of slack after a request's end when placing an object's creation time inside the
request's lifetime. The lifetime is ``[at, at + duration_ms]``: the sandbox stamps ``at`` when
the request arrives and must measure ``duration_ms`` from that same instant, with the same clock
as the objects' ``created_at``, so that the window holds every object the request made however
loaded the machine is. (Measured from any later instant, the window ends early by the time the
request waited before its handling began, which under load exceeds any fixed slack.)"""


def write_kind(path: str) -> str | None:
    """The kind of object a write to ``path`` creates (paths with or without the API prefix)."""
    bare = path.split("?", 1)[0]
    bare = bare[len(_API) :] if bare.startswith(_API) else bare
    if re.fullmatch(r"/CreditNotes/[^/]+/Allocations", bare):
        return "allocations"
    return {
        "/Contacts": "contacts",
        "/Invoices": "invoices",
        "/CreditNotes": "credit_notes",
        "/Payments": "payments",
    }.get(bare)


def _ids_in(response: Any, collection: str, id_field: str) -> set[str]:
    if not isinstance(response, dict):
        return set()
    return {
        str(item[id_field])
        for item in response.get(collection) or []
        if isinstance(item, dict) and item.get(id_field)
    }


def _ok(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


def unique_calls(record: LedgerRecord) -> list[dict[str, Any]]:
    """The ledger's recorded calls, each once. A batch call is recorded on every document it
    carried, each copy keeping that document's part of Xero's answer: the copies are merged."""
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for call in record.calls:
        identity = (call["method"], call["path"], call["idempotency_key"], call["at"])
        known = merged.get(identity)
        if known is None:
            merged[identity] = {**call, "response": _copy_response(call.get("response"))}
            continue
        for collection, elements in (call.get("response") or {}).items():
            if isinstance(elements, list):
                held = known["response"].setdefault(collection, [])
                held.extend(e for e in elements if e not in held)
    return list(merged.values())


def _copy_response(response: Any) -> dict[str, Any]:
    if not isinstance(response, dict):
        return {}
    return {k: list(v) if isinstance(v, list) else v for k, v in response.items()}


def _show(objects: Iterable[dict[str, Any]], *fields: str) -> list[Any]:
    return [tuple(o.get(f) for f in fields) for o in objects]


@dataclass
class CallAccount:
    """How the sandbox's writes are explained by the ledger (see the module docstring)."""

    changing_writes: int
    recorded_calls: int
    unanswered: dict[str, int]
    """per kind: changing writes whose answer the ledger never saw"""
    lost: dict[str, int]
    """per kind: changing writes the ledger has no record of at all (relay killed)"""
    found_only: dict[str, int]
    """per kind: objects the ledger found by a lookup (not created by a recorded call)"""
    adoptions: int


def account_for_calls(
    requests: list[dict[str, Any]],
    states: list[dict[str, Any]],
    record: LedgerRecord,
) -> CallAccount:
    """Check that the ledger explains every call that changed something in Xero."""
    api = [r for r in requests if str(r["path"]).startswith(_API + "/")]
    writes = [r for r in api if r["method"] in WRITE_METHODS]
    calls = unique_calls(record)
    recorded_writes = [c for c in calls if c["method"] in WRITE_METHODS]

    assert all(c["idempotency_key"] for c in recorded_writes), "every write carries a key"
    invented = Counter(c["idempotency_key"] for c in recorded_writes) - Counter(
        r["idempotency_key"] for r in writes
    )
    assert not invented, f"the ledger records writes Xero never received: {invented}"

    changing = [r for r in writes if _ok(r["status"]) and not r["replayed"]]
    assert all(r["idempotency_key"] for r in changing), "every write carried an Idempotency-Key"
    kinds = Counter(write_kind(r["path"]) for r in changing)
    assert None not in kinds, f"unexpected writes: {kinds}"
    answered = {c["idempotency_key"] for c in recorded_writes if _ok(c["status"])}
    recorded_keys = {c["idempotency_key"] for c in recorded_writes}
    unanswered = [r for r in changing if r["idempotency_key"] not in answered]
    lost = Counter(
        write_kind(r["path"]) for r in changing if r["idempotency_key"] not in recorded_keys
    )

    # allocations are named by no lookup: the ledger knows them by (credit note, invoice)
    invoice_ids = record.xero_ids(Operation.INVOICE)
    credit_pairs = {
        (credit, invoice_ids.get(doc))
        for doc, credit in record.xero_ids(Operation.CREDIT_NOTE).items()
    }
    named = {xero for _, _, xero in record.succeeded} | set(record.contacts)
    found_only: dict[str, int] = {}
    for kind, state_id, collection, id_field, stamp in _KINDS:
        # what the ledger saw being made: named in the answer of a recorded write, or (for
        # contacts, whose batch answers a document's history does not repeat) remembered by
        # the customer as created
        created: set[str] = set()
        per_write = 1
        for call in recorded_writes:
            if write_kind(call["path"]) == kind and _ok(call["status"]):
                ids = _ids_in(call["response"], collection, id_field)
                size = (call.get("request") or {}).get("batch_size")
                per_write = max(per_write, len(ids), int(size or 0))
                created |= ids
        if kind == "contacts":
            created |= {c for c, how in record.contacts.items() if how == "created"}
        seen = set(named)
        for call in calls:
            seen |= _ids_in(call.get("response"), collection, id_field)
        # each object with the tenant that holds it: a write makes objects in its own tenant only
        objects = [{**o, "tenant": state["tenant_id"]} for state in states for o in state[kind]]
        unknown = [
            o
            for o in objects
            if str(o[state_id]) not in seen
            and not (
                kind == "allocations" and (o["credit_note_id"], o["invoice_id"]) in credit_pairs
            )
        ]
        assert not unknown, f"{kind} in Xero the ledger never heard of: {_show(unknown, state_id)}"

        found = [o for o in objects if str(o[state_id]) not in created]
        found_only[kind] = len(found)
        silent = [r for r in unanswered if write_kind(r["path"]) == kind]
        if stamp is not None:

            def during(item: dict[str, Any], write: dict[str, Any], stamp: str = stamp) -> bool:
                if item["tenant"] != write["tenant"]:
                    return False
                end = write["at"] + (write["duration_ms"] or 0) / 1000 + _SLACK
                return bool(write["at"] <= item[stamp] <= end)

            # each object the ledger only found later was made during a write to its tenant whose
            # answer the ledger never saw, and each such write made something in its tenant
            orphans = [o for o in found if not any(during(o, w) for w in silent)]
            assert not orphans, (
                f"{kind} made by no unanswered write: {_show(orphans, state_id, stamp, 'tenant')}"
            )
            idle = [w for w in silent if not any(during(o, w) for o in objects)]
            assert not idle, (
                f"unanswered {kind} writes that made nothing: "
                f"{_show(idle, 'seq', 'at', 'duration_ms', 'tenant', 'status', 'fault')}"
            )
        else:
            assert len(silent) <= len(found) <= len(silent) * per_write, (
                f"{kind}: {len(found)} objects were not created by a call whose answer the "
                f"ledger recorded, but {len(silent)} writes went unanswered: "
                f"{_show(found, state_id)}"
            )
    return CallAccount(
        changing_writes=len(changing),
        recorded_calls=len(calls),
        unanswered=dict(Counter(write_kind(r["path"]) for r in unanswered)),
        lost=dict(lost),
        found_only=found_only,
        adoptions=len(record.adopted()),
    )


# the end state -----------------------------------------------------------------------------------


def check_end_state(
    plan: Plan, sandbox: SandboxProcess, statuses: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Assert what Xero holds and what ``status`` says against the plan; returns the states."""
    tenants = dict(zip(plan.orgs, sandbox.tenant_ids, strict=False))
    states = [sandbox.state(tenants[org]) for org in plan.orgs]
    by_org = dict(zip(plan.orgs, states, strict=True))
    rows = {(s["org"], s["document"]): s for s in statuses}
    for org in plan.orgs:
        state = by_org[org]
        invoices = Counter(i["invoice_number"] for i in state["invoices"])
        duplicates = {n: c for n, c in invoices.items() if c > 1}
        assert not duplicates, f"{org}: invoices in Xero twice: {duplicates}"
        notes = Counter(c["credit_note_number"] for c in state["credit_notes"])
        assert all(c == 1 for c in notes.values()), f"{org}: credit notes twice: {notes}"
        emails = Counter(c["email"] for c in state["contacts"])
        assert all(c == 1 for c in emails.values()), f"{org}: contacts twice: {emails}"
        xero_invoices = {i["invoice_number"]: i for i in state["invoices"]}
        xero_credits = {c["credit_note_number"]: c for c in state["credit_notes"]}
        allocations = Counter(a["credit_note_id"] for a in state["allocations"])
        references = Counter(p["reference"] for p in state["payments"])

        mine = [i for i in plan.invoices if i.org == org]
        racing = {i.number for i in mine if i.racing}
        pushed = [i for i in mine if not i.cancelled_unsent and not i.racing]
        expected = {i.number for i in pushed}
        assert set(xero_invoices) - racing == expected, (
            f"{org}: invoices missing {sorted(expected - set(xero_invoices))}, "
            f"unexpected {sorted(set(xero_invoices) - expected - racing)}"
        )
        credited_racing = racing & set(xero_invoices)
        expected = {f"CN-{i.number}" for i in pushed if i.cancelled}
        expected |= {f"CN-{number}" for number in credited_racing}
        assert set(xero_credits) == expected, (
            f"{org}: credit notes missing {sorted(expected - set(xero_credits))}, "
            f"unexpected {sorted(set(xero_credits) - expected)}"
        )
        paid = [p for p in plan.payments if p.org == org and p.paid_wave is not None]
        assert len(state["payments"]) == len(paid), f"{org}: {len(state['payments'])} payments"
        for invoice in mine:
            row = rows[(org, invoice.document)]
            if invoice.cancelled_unsent or (invoice.racing and invoice.number not in xero_invoices):
                assert row["status"] == "Not Attempted" and row["xero_id"] is None, row
                assert "nothing to send" in row["reason"], row
                continue
            cancelled = invoice.cancelled or invoice.racing
            held = xero_invoices[invoice.number]
            contact = next(c for c in state["contacts"] if c["contact_id"] == held["contact_id"])
            assert contact["email"] == invoice.customer["email"]
            paid_total = sum((p.amount for p in paid if p.invoice is invoice), Decimal("0.00"))
            credited = invoice.total if cancelled else Decimal("0.00")
            assert Decimal(held["total"]) == invoice.total, (invoice.number, held["total"])
            assert Decimal(held["amount_paid"]) == paid_total, invoice.number
            assert Decimal(held["amount_credited"]) == credited, invoice.number
            assert Decimal(held["amount_due"]) == invoice.total - paid_total - credited
            assert held["line_amount_types"] == (
                "Inclusive" if invoice.include_tax else "Exclusive"
            )
            assert row["status"] == "Synced", row
            assert row["xero_id"] == held["invoice_id"], row
            if cancelled:
                credit = xero_credits[f"CN-{invoice.number}"]
                assert Decimal(credit["total"]) == invoice.total
                assert Decimal(credit["remaining_credit"]) == 0
                assert allocations[credit["credit_note_id"]] == 1, "one allocation per credit"
                [allocation] = [
                    a
                    for a in state["allocations"]
                    if a["credit_note_id"] == credit["credit_note_id"]
                ]
                assert allocation["invoice_id"] == held["invoice_id"]
                assert Decimal(allocation["amount"]) == invoice.total
                assert row["credit_note_id"] == credit["credit_note_id"], row
            else:
                assert row["credit_note_id"] is None, row
        for payment in (p for p in plan.payments if p.org == org):
            row = rows.get((org, payment.document))
            found = [p for p in state["payments"] if payment.reference in p["reference"]]
            if payment.paid_wave is None:
                assert found == [], payment
                assert row is None or row["xero_id"] is None, row
                continue
            assert len(found) == 1, (payment, found)
            [held] = found
            assert references[held["reference"]] == 1
            assert Decimal(held["amount"]) == payment.amount
            assert held["invoice_id"] == xero_invoices[payment.invoice.number]["invoice_id"]
            assert row is not None and row["status"] == "Synced", row
            assert row["xero_id"] == held["payment_id"], row
    return states
