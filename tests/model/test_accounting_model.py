"""Model-based test of accounting truth: hypothesis generates histories of OpenSolar changes
(issue, edit, revert, cancel, reissue with the same number, payments edited, bounced, set back or
moved, other currencies, customers sharing emails or lacking them), hand edits in Xero, relay runs
under sandbox faults (5xx, 429, answers dropped after Xero committed) and relay kills between
Xero's answer and the recorded outcome. At every quiet point (faults off, the relay idle) the
ledger and a real sandbox must agree:

- ownership both ways: every Xero record syncledger made belongs to exactly one document, and
  every document to at most one record of each kind;
- every Synced document equals Xero: contact, currency, total, accounts, amount due, payments;
- nothing is Pending;
- every Failed row has a reason and an action;
- Xero holds nothing the ledger cannot explain (records made by hand aside).

``python -m pytest tests/model`` runs a bounded budget (``SYNCLEDGER_MODEL_EXAMPLES``, default
30 histories of up to ``SYNCLEDGER_MODEL_STEPS`` = 40 steps; about half a minute). Any number:
``SYNCLEDGER_MODEL_EXAMPLES=2000 SYNCLEDGER_MODEL_SEED=7 python -m pytest tests/model``. A
failure prints the shortest history hypothesis found (each step as a call, with the values it
drew) and a ``@reproduce_failure('VERSION', b'BLOB')`` line: ``SYNCLEDGER_MODEL_REPLAY=VERSION,BLOB
python -m pytest tests/model`` replays exactly that history.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, reproduce_failure, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    get_state_machine_test,
    precondition,
    rule,
)

from domain.ids import document_id
from domain.mapping import marked_document
from domain.opensolar import parse_change_object
from outbox.relay import Relay
from projections.status import StatusFilter
from syncledger import service
from syncledger.bootstrap import System
from syncledger.config import Settings
from syncledger.sandbox import Sandbox, SandboxConfig

EXAMPLES = int(os.environ.get("SYNCLEDGER_MODEL_EXAMPLES", "30"))
STEPS = int(os.environ.get("SYNCLEDGER_MODEL_STEPS", "40"))
pytestmark = [pytest.mark.model, pytest.mark.timeout(300 + EXAMPLES * STEPS)]
SEED = os.environ.get("SYNCLEDGER_MODEL_SEED")
REPLAY = os.environ.get("SYNCLEDGER_MODEL_REPLAY")
ORG = "42"
CONNECTED_AT = datetime(2026, 11, 1, tzinfo=UTC)
START = datetime(2026, 11, 2, tzinfo=UTC)
CENT = Decimal("0.01")
GST = Decimal("0.10")
NUMBERS = ("INV-1", "INV-2", "INV-3", "INV-4")
CUSTOMERS: tuple[dict[str, Any], ...] = (
    {"id": 1, "name": "Ann Lee", "email": "ann@example.com"},
    {"id": 2, "name": "Ann Lee", "email": "ANN@example.com"},  # shares Ann's email
    {"id": 3, "name": "Bo Chen"},  # no email; a contact "Bo Chen" with another email exists
    {"id": 4, "name": "Bo Chen", "email": "bo@example.com"},
    {"name": "Cy Dee"},  # no email, no id
)
HAND_CONTACT = {"Name": "Bo Chen", "EmailAddress": "someone@else.example"}
LINES: tuple[tuple[dict[str, Any], ...], ...] = (
    (
        {
            "category": "sales",
            "description": "PV",
            "quantity": 1,
            "unit_amount": "5000.00",
            "tax_rate": "GST",
        },
    ),
    (
        {
            "category": "sales",
            "description": "PV",
            "quantity": 2,
            "unit_amount": "1234.57",
            "tax_rate": "GST",
        },
        {
            "category": "discounts",
            "description": "Referral",
            "quantity": 1,
            "unit_amount": "-100.00",
            "tax_rate": "GST",
        },
    ),
    tuple(
        {
            "category": "sales",
            "description": f"part {n}",
            "quantity": 1,
            "unit_amount": "1.05",
            "tax_rate": "GST",
        }
        for n in range(3)
    ),
    (
        {
            "category": "sales",
            "description": "PV",
            "quantity": 1,
            "unit_amount": "3000.00",
            "tax_rate": "GST",
        },
        {"category": "incentives", "description": "STC", "quantity": 1, "unit_amount": "-500.00"},
    ),
)
FAULTS = st.fixed_dictionaries(
    {
        "500": st.sampled_from([0.0, 0.1]),
        "503": st.sampled_from([0.0, 0.1]),
        "429": st.sampled_from([0.0, 0.05]),
        "drop_after_commit": st.sampled_from([0.0, 0.15, 0.3]),
    }
)


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    config = SandboxConfig(minute_window_s=1.0, idempotency_window_s=0.3)
    with Sandbox(config) as running:
        yield running


# the model -------------------------------------------------------------------------------------


@dataclass
class InvoiceModel:
    """What OpenSolar says of one invoice now."""

    model_id: int
    number: str
    customer: dict[str, Any]
    lines: tuple[dict[str, Any], ...]
    inclusive: bool
    currency: str
    due: str
    stated: bool
    versions: list[dict[str, Any]] = field(default_factory=list)
    cancelled: bool = False
    hand_voided: bool = False
    hand_paid: bool = False

    def emails(self) -> set[str | None]:
        """Every email the customer had (the invoice keeps the contact it was sent with)."""
        return {(v["customer"].get("email") or "").casefold() or None for v in self.versions} | {
            (self.customer.get("email") or "").casefold() or None
        }

    @property
    def document(self) -> str:
        return f"invoice:{self.model_id}"

    @property
    def doc_id(self) -> str:
        return str(document_id(ORG, "invoice", str(self.model_id)))

    def amounts(self) -> list[Decimal]:
        return [
            money(Decimal(str(li["quantity"])) * Decimal(li["unit_amount"])) for li in self.lines
        ]

    @property
    def stated_total(self) -> Decimal | None:
        if not self.stated or self.inclusive:
            return None
        subtotal = sum(self.amounts(), Decimal("0.00"))
        return subtotal + money(subtotal * GST)

    @property
    def xero_total(self) -> Decimal:
        """What Xero must hold: OpenSolar's stated total, else Xero's per-line arithmetic."""
        if self.stated_total is not None:
            return self.stated_total
        if self.inclusive:
            return sum(self.amounts(), Decimal("0.00"))
        return sum((a + money(a * GST) for a in self.amounts()), Decimal("0.00"))

    def fields(self, status: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "invoice_number": self.number,
            "status": status,
            "project_id": 700 + self.model_id,
            "issued_date": "2026-11-02",
            "due_date": self.due,
            "currency": self.currency,
            "amounts_include_tax": self.inclusive,
            "customer": dict(self.customer),
            "line_items": [dict(li) for li in self.lines],
        }
        if self.stated_total is not None:
            body["total"] = str(self.stated_total)
        return body


@dataclass
class PaymentModel:
    """What OpenSolar says of one payment now."""

    model_id: int
    invoice_id: int
    amount: Decimal
    currency: str
    status: str = "paid"

    @property
    def document(self) -> str:
        return f"payment:{self.model_id}"

    @property
    def tag(self) -> str:
        return f"OpenSolar payment {self.model_id}"


class Killed(BaseException):
    """A relay killed between Xero's answer and the recorded outcome (simulated in-process: the
    outcome is never recorded, the claim is given up, as after a SIGKILL and a restart)."""


# the machine -----------------------------------------------------------------------------------


class AccountingMachine(RuleBasedStateMachine):
    """One organisation's history against one sandbox tenant."""

    sandbox: Sandbox

    def __init__(self) -> None:
        super().__init__()
        self.invoices: dict[int, InvoiceModel] = {}
        self.payments: dict[int, PaymentModel] = {}
        self.events = 0
        self.relays = 0
        self.suffix = False
        self.usd = False
        self.incentives_mapped = False
        self.hand_ids: set[str] = set()
        self.directory = tempfile.mkdtemp(prefix="syncledger-model-")
        self.tenant = self.sandbox.add_tenant()
        self.sandbox.set_faults(fault_rates={})
        self.system = System.open(
            Settings(
                db=os.path.join(self.directory, "ledger.db"),
                xero_timeout=5.0,
                retry_base_seconds=0.01,
                retry_max_seconds=0.05,
                relay_poll_seconds=0.01,
                limit_window_seconds=1.0,
                idle_max_wait_seconds=5.0,
            )
        )
        ledger = self.system.ledger
        ledger.connect(ORG, self.sandbox.url, self.tenant, CONNECTED_AT, "manual")
        for category in ("sales", "discounts"):
            ledger.map_account(ORG, category, "200")
        ledger.map_tax(ORG, "GST", "OUTPUT")
        ledger.set_payment_account(ORG, "090")
        self._hand("PUT", "/Contacts", {"Contacts": [HAND_CONTACT]}, "Contacts", "ContactID")

    def teardown(self) -> None:
        self.sandbox.set_faults(fault_rates={})
        self.system.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    # plumbing ----------------------------------------------------------------------------------

    def _when(self) -> str:
        self.events += 1
        return (START + timedelta(hours=self.events)).isoformat()

    def _ingest(
        self, model: str, model_id: int, fields: dict[str, Any], event: str = "UPDATE"
    ) -> None:
        change = {
            "event_id": f"evt-{self.events + 1}",
            "timestamp": self._when(),
            "org_id": ORG,
            "model": model,
            "model_id": model_id,
            "event": event,
            "fields": fields,
        }
        self.system.ledger.ingest([parse_change_object(change)])

    def _send_invoice(self, invoice: InvoiceModel, status: str = "sent") -> None:
        invoice.versions.append(invoice.fields(status))
        self._ingest("Invoice", invoice.model_id, invoice.fields(status))

    def _send_payment(self, payment: PaymentModel, event: str = "UPDATE") -> None:
        self._ingest(
            "Payment",
            payment.model_id,
            {
                "invoice_id": payment.invoice_id,
                "amount": str(payment.amount),
                "currency": payment.currency,
                "status": payment.status,
                "paid_date": "2026-11-03",
                "reference": f"Card {payment.model_id}",
            },
            event,
        )

    def _xero(self) -> Any:
        org = self.system.ledger.organisation(ORG)
        assert org is not None
        return self.system.xero_client(org, lambda call: None)

    def _hand(self, method: str, path: str, body: Any, collection: str, id_field: str) -> bool:
        """A person working in Xero: what it makes is not the ledger's to explain. True if
        Xero took it."""
        answer = httpx.request(
            method,
            f"{self.sandbox.url}/api.xro/2.0{path}",
            json=body,
            headers={"xero-tenant-id": self.tenant, "Accept": "application/json"},
        )
        if answer.status_code != 200:
            return False
        for item in answer.json().get(collection) or []:
            if item.get("HasErrors") or item.get("ValidationErrors"):
                return False
            self.hand_ids.add(str(item.get(id_field)).lower())
        return True

    def _relay(self, seconds: float, kill: bool = False) -> None:
        self.relays += 1
        relay = self.system.relay(owner=f"model-{self.relays}")
        if kill:
            _kill_once(relay)
        stop = threading.Event()
        timer = threading.Timer(seconds, stop.set)
        timer.start()
        try:
            relay.run(until_idle=True, stop=stop)
        finally:
            timer.cancel()

    def _rows(self) -> dict[str, dict[str, Any]]:
        views = service.statuses(self.system, StatusFilter(org=ORG, include_hidden=True))
        return {v.row.document: v.as_json() for v in views}

    def _live(self) -> list[InvoiceModel]:
        return [i for i in self.invoices.values() if not i.cancelled]

    # OpenSolar ---------------------------------------------------------------------------------

    @rule(
        number=st.sampled_from(NUMBERS),
        customer=st.sampled_from(CUSTOMERS),
        lines=st.sampled_from(LINES),
        inclusive=st.booleans(),
        currency=st.sampled_from(["AUD", "AUD", "AUD", "USD"]),
        stated=st.booleans(),
    )
    def issue(
        self,
        number: str,
        customer: dict[str, Any],
        lines: tuple[dict[str, Any], ...],
        inclusive: bool,
        currency: str,
        stated: bool,
    ) -> None:
        model_id = 100 + len(self.invoices)
        invoice = InvoiceModel(
            model_id, number, dict(customer), lines, inclusive, currency, "2026-12-31", stated
        )
        self.invoices[model_id] = invoice
        self._send_invoice(invoice)

    @precondition(lambda self: self._live())
    @rule(
        data=st.data(),
        change=st.sampled_from(["lines", "due", "email", "revert", "number", "total"]),
    )
    def edit(self, data: st.DataObject, change: str) -> None:
        invoice = data.draw(st.sampled_from(self._live()))
        if change == "lines":
            invoice.lines = data.draw(st.sampled_from(LINES))
        elif change == "due":
            invoice.due = "2027-01-31" if invoice.due == "2026-12-31" else "2026-12-31"
        elif change == "email":
            email = invoice.customer.get("email")
            invoice.customer = {**invoice.customer, "email": f"x{email}" if email else None}
            if invoice.customer["email"] is None:
                invoice.customer.pop("email")
        elif change == "number":
            invoice.number = data.draw(st.sampled_from(NUMBERS))
        elif change == "total":
            invoice.stated = not invoice.stated
        elif invoice.versions:
            first = invoice.versions[0]
            invoice.lines = tuple(first["line_items"])
            invoice.due = first["due_date"]
            invoice.number = first["invoice_number"]
            invoice.stated = "total" in first
        self._send_invoice(invoice)

    @precondition(lambda self: self._live())
    @rule(data=st.data(), delete=st.booleans())
    def cancel(self, data: st.DataObject, delete: bool) -> None:
        invoice = data.draw(st.sampled_from(self._live()))
        invoice.cancelled = True
        fields = invoice.fields("cancelled")
        self._ingest("Invoice", invoice.model_id, fields, "DELETE" if delete else "UPDATE")

    @precondition(lambda self: self.invoices)
    @rule(
        data=st.data(),
        share=st.sampled_from([Decimal("0.1"), Decimal("0.5"), Decimal("1")]),
        foreign=st.booleans(),
    )
    def pay(self, data: st.DataObject, share: Decimal, foreign: bool) -> None:
        invoice = data.draw(
            st.sampled_from(sorted(self.invoices.values(), key=lambda i: i.model_id))
        )
        currency = "NZD" if foreign and data.draw(st.booleans()) else invoice.currency
        amount = max(CENT, money(invoice.xero_total * share))
        payment = PaymentModel(500 + len(self.payments), invoice.model_id, amount, currency)
        self.payments[payment.model_id] = payment
        self._send_payment(payment)

    @precondition(lambda self: self.payments)
    @rule(data=st.data(), change=st.sampled_from(["amount", "failed", "pending", "paid", "move"]))
    def edit_payment(self, data: st.DataObject, change: str) -> None:
        payment = data.draw(
            st.sampled_from(sorted(self.payments.values(), key=lambda p: p.model_id))
        )
        if change == "amount":
            payment.amount = max(CENT, money(payment.amount / 2))
        elif change == "move":
            payment.invoice_id = data.draw(st.sampled_from(sorted(self.invoices)))
        else:
            payment.status = change
        self._send_payment(payment)

    # Xero, by hand -----------------------------------------------------------------------------

    @precondition(lambda self: self._live())
    @rule(data=st.data(), action=st.sampled_from(["void", "pay"]))
    def by_hand_in_xero(self, data: st.DataObject, action: str) -> None:
        # drawn from the model only (what the relay made of it varies with timing)
        invoice = data.draw(st.sampled_from(self._live()))
        row = self._rows().get(invoice.document, {})
        if row.get("status") != "Synced" or not row.get("xero_id"):
            return
        xero_id = row["xero_id"]
        if action == "void":
            body = {"Invoices": [{"InvoiceID": xero_id, "Status": "VOIDED"}]}
            invoice.hand_voided = self._hand("POST", f"/Invoices/{xero_id}", body, "Invoices", "_")
        else:
            body = {
                "Payments": [
                    {
                        "Invoice": {"InvoiceID": xero_id},
                        "Account": {"Code": "090"},
                        "Amount": "1.00",
                        "Reference": "by hand",
                    }
                ]
            }
            invoice.hand_paid = self._hand("PUT", "/Payments", body, "Payments", "PaymentID") or (
                invoice.hand_paid
            )

    # settings ----------------------------------------------------------------------------------

    @precondition(lambda self: not self.usd)
    @rule()
    def enable_usd(self) -> None:
        self.sandbox.set_settings(self.tenant, currencies=["USD"])
        self.usd = True

    @precondition(lambda self: not self.suffix)
    @rule()
    def number_suffix_on(self) -> None:
        self.system.ledger.set_number_suffix(ORG, True)
        self.suffix = True

    @precondition(lambda self: not self.incentives_mapped)
    @rule()
    def map_incentives(self) -> None:
        self.system.ledger.map_account(ORG, "incentives", "260")
        self.incentives_mapped = True

    @precondition(lambda self: self.invoices)
    @rule()
    def retry_failed(self) -> None:
        service.retry(self.system, [], failed=True, org=ORG)

    # the relay ---------------------------------------------------------------------------------

    @rule(faults=FAULTS, seed=st.integers(0, 1000))
    def relay_under_faults(self, faults: dict[str, float], seed: int) -> None:
        self.sandbox.set_faults(fault_rates=faults, seed=seed)
        try:
            self._relay(2.0)
        finally:
            self.sandbox.set_faults(fault_rates={})

    @precondition(lambda self: self.invoices)
    @rule()
    def relay_killed_after_xeros_answer(self) -> None:
        self._relay(2.0, kill=True)

    @precondition(lambda self: self.invoices)
    @rule()
    def quiet_point(self) -> None:
        self._relay(30.0)
        self.check()

    # the invariants ----------------------------------------------------------------------------

    def check(self) -> None:
        rows = self._rows()
        state = self.sandbox.state(self.tenant)
        pending = [r["document"] for r in rows.values() if r["status"] == "Pending"]
        assert not pending, f"Pending when idle without faults: {pending}\n{self._explain(pending)}"
        for row in rows.values():
            if row["status"] == "Failed":
                assert row["error"] and row["action"], f"Failed without reason or action: {row}"
        self._check_ownership(rows, state)
        self._check_invoices(rows, state)
        self._check_payments(rows, state)
        self._check_contacts(state)

    def _explain(self, documents: list[str]) -> str:
        """What the ledger and the outbox hold of some documents (for a failure's message)."""
        lines: list[str] = []
        for document in documents:
            kind, _, opensolar_id = document.partition(":")
            doc_id = document_id(ORG, kind, opensolar_id)
            lines.append(f"{document}:")
            for event in self.system.ledger.events_of(doc_id):
                name = type(event).__qualname__
                lines.append(f"  {event.originator_version} {name} {getattr(event, 'reason', '')}")
            for message in self.system.outbox_store.messages(str(doc_id)):
                lines.append(f"  outbox: {message}")
        return "\n".join(lines)

    def _check_ownership(self, rows: dict[str, dict[str, Any]], state: dict[str, Any]) -> None:
        claims: dict[str, list[str]] = {}
        for row in rows.values():
            for key in ("xero_id", "credit_note_id"):
                if row.get(key):
                    claims.setdefault(str(row[key]).lower(), []).append(row["document"])
        shared = {k: v for k, v in claims.items() if len(v) > 1}
        assert not shared, f"Xero records owned by several documents: {shared}"
        documents = {str(document_id(ORG, "invoice", str(i))): i for i in self.invoices}
        for invoice in state["invoices"]:
            if invoice["invoice_id"] in self.hand_ids:
                continue
            owner = claims.get(invoice["invoice_id"])
            assert owner, f"Xero invoice {invoice['invoice_number']} explained by no document"
            marked = marked_document(invoice["url"])
            assert marked in documents, f"{invoice['invoice_number']} carries no document mark"
            assert owner == [f"invoice:{documents[marked]}"], (
                f"{invoice['invoice_number']} is marked for invoice:{documents[marked]} but "
                f"owned by {owner}"
            )
        for note in state["credit_notes"]:
            assert claims.get(note["credit_note_id"]), (
                f"credit note {note['credit_note_number']} explained by no document"
            )
        for payment in state["payments"]:
            if payment["status"] != "AUTHORISED" or payment["payment_id"] in self.hand_ids:
                continue
            assert claims.get(payment["payment_id"]), (
                f"Xero payment {payment['reference']} ({payment['amount']}) explained by no "
                "document"
            )

    def _check_invoices(self, rows: dict[str, dict[str, Any]], state: dict[str, Any]) -> None:
        held = {i["invoice_id"]: i for i in state["invoices"]}
        contacts = {c["contact_id"]: c for c in state["contacts"]}
        notes = {n["credit_note_id"]: n for n in state["credit_notes"]}
        for invoice in self.invoices.values():
            row = rows.get(invoice.document)
            if row is None or row["status"] != "Synced" or not row["xero_id"]:
                if row is not None and not row["xero_id"]:
                    mine = [
                        i for i in state["invoices"] if marked_document(i["url"]) == invoice.doc_id
                    ]
                    assert not mine, f"{invoice.document} is not Synced but Xero holds {mine}"
                continue
            xero = held[row["xero_id"]]
            if invoice.cancelled:
                if invoice.hand_voided:
                    assert xero["status"] == "VOIDED" and not row["credit_note_id"], row
                elif row["credit_note_id"]:
                    note = notes[row["credit_note_id"]]
                    assert Decimal(note["total"]) == Decimal(xero["total"]), (
                        invoice.document,
                        note,
                    )
                    assert Decimal(xero["amount_due"]) == 0, (invoice.document, xero)
                    assert Decimal(row["refund_due"] or "0") == Decimal(note["remaining_credit"])
                continue
            if invoice.hand_voided:
                continue
            label = f"{invoice.document} Synced"
            assert xero["status"] in ("AUTHORISED", "PAID"), (label, xero["status"])
            assert xero["currency_code"] == invoice.currency, (label, xero["currency_code"])
            assert Decimal(xero["total"]) == invoice.xero_total, (label, xero["total"], invoice)
            assert row["amount"] == xero["total"], (label, row["amount"], xero["total"])
            assert xero["invoice_number"] == row["xero_number"], (label, row["xero_number"])
            accounts = {li["account_code"] for li in xero["line_items"]} - {"860"}
            assert accounts <= {"200", "260"}, (label, accounts)
            contact = contacts[xero["contact_id"]]
            held_email = (contact["email"] or "").casefold() or None
            assert held_email in invoice.emails(), (label, "the contact of another email", contact)
            if not invoice.hand_paid:
                assert row["amount_due"] == xero["amount_due"], (label, row, xero["amount_due"])

    def _check_payments(self, rows: dict[str, dict[str, Any]], state: dict[str, Any]) -> None:
        live = [p for p in state["payments"] if p["status"] == "AUTHORISED"]
        for payment in self.payments.values():
            row = rows.get(payment.document)
            mine = [p for p in live if payment.tag in (p["reference"] or "")]
            assert len(mine) <= 1, f"{payment.document} is in Xero {len(mine)} times: {mine}"
            if row is None or row["status"] != "Synced":
                if row is not None and row["status"] != "Failed":
                    assert not mine, f"{payment.document} is {row['status']} but in Xero: {mine}"
                continue
            invoice_row = rows.get(f"invoice:{payment.invoice_id}")
            if payment.status == "paid" and row["xero_id"]:
                assert mine, f"{payment.document} Synced but not in Xero"
                assert Decimal(mine[0]["amount"]) == payment.amount, (payment.document, mine)
                assert (
                    invoice_row is not None and mine[0]["invoice_id"] == invoice_row["xero_id"]
                ), f"{payment.document} is applied to another invoice in Xero"
            elif payment.status != "paid":
                assert not mine, f"{payment.document} withdrawn in OpenSolar but live in Xero"

    def _check_contacts(self, state: dict[str, Any]) -> None:
        ours = [c for c in state["contacts"] if c["contact_id"] not in self.hand_ids]
        emails = [c["email"].casefold() for c in ours if c["email"]]
        assert len(emails) == len(set(emails)), f"one email, several contacts: {sorted(emails)}"


def _kill_once(relay: Relay) -> None:
    """The first delivery that got Xero's answer dies before its outcome is recorded."""
    done = relay._done
    killed = threading.Event()

    def dying(messages: Any, outcomes: Any, calls: Any, tenant: Any) -> None:
        if calls and not killed.is_set():
            killed.set()
            raise Killed("simulated: killed after Xero answered, before the outcome was recorded")
        done(messages, outcomes, calls, tenant)

    relay._done = dying  # type: ignore[method-assign]


def test_every_history_keeps_the_ledger_and_xero_in_agreement(sandbox: Sandbox) -> None:
    AccountingMachine.sandbox = sandbox
    test = get_state_machine_test(
        AccountingMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            print_blob=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        ),
    )
    if SEED is not None:
        test = seed(int(SEED))(test)
    if REPLAY is not None:
        version, blob = REPLAY.split(",", 1)
        test = reproduce_failure(version, blob.encode())(test)
    test()
