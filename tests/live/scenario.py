"""The pre-production check: the end-to-end scenario run through the installed command against
one Xero organisation over a custom connection (client credentials), the way production will
connect, then everything it created voided, deleted or archived again.

The same scenario runs against the real Xero (``tests/live/test_live_xero.py``, only when
``SYNCLEDGER_LIVE_XERO_CLIENT_ID`` and ``SYNCLEDGER_LIVE_XERO_CLIENT_SECRET`` are set) and,
as its rehearsal, against the sandbox in custom connection mode on every run of the suite."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from outbox.xero import XeroError
from syncledger.bootstrap import System
from syncledger.config import Settings
from syncledger.samples import invoice_change, ndjson, payment_change
from tests.e2e.conftest import BIN

ORG = "42"
SECRET_KEY = "pre-production-check-key-0123456789"


@dataclass(frozen=True)
class Target:
    """Where the check runs: the Xero app's custom connection and the organisation's codes."""

    client_id: str
    client_secret: str
    xero_url: str | None = None
    """None: the real Xero (identity.xero.com and api.xero.com)."""
    sales_account: str = "200"
    bank_account: str = "090"
    tax_type: str = "OUTPUT"

    @classmethod
    def from_environment(cls) -> Target | None:
        """The real Xero target from ``SYNCLEDGER_LIVE_XERO_*``, or None when not configured."""
        client_id = os.environ.get("SYNCLEDGER_LIVE_XERO_CLIENT_ID")
        secret = os.environ.get("SYNCLEDGER_LIVE_XERO_CLIENT_SECRET")
        if not client_id or not secret:
            return None
        return cls(
            client_id,
            secret,
            os.environ.get("SYNCLEDGER_LIVE_XERO_URL") or None,
            os.environ.get("SYNCLEDGER_LIVE_SALES_ACCOUNT", "200"),
            os.environ.get("SYNCLEDGER_LIVE_BANK_ACCOUNT", "090"),
            os.environ.get("SYNCLEDGER_LIVE_TAX_TYPE", "OUTPUT"),
        )


@dataclass
class Check:
    """One run of the check against one target, in its own folder and ledger."""

    target: Target
    folder: Path
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:6].upper())  # noqa: PLW0108
    log: list[str] = field(default_factory=list)

    @property
    def db(self) -> Path:
        return self.folder / "pre-production.db"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCLEDGER_")}
        env.update(SYNCLEDGER_DB=str(self.db), SYNCLEDGER_SECRET_KEY=SECRET_KEY)
        return env

    def cli(
        self, *args: str, ok: bool = True, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(BIN), *args],
            capture_output=True,
            text=True,
            env=self.env(),
            cwd=self.folder,
            timeout=timeout,
        )
        self.log.append(f"$ syncledger {' '.join(args)} -> {result.returncode}")
        if ok and result.returncode != 0:
            raise AssertionError(
                f"syncledger {' '.join(args)} exited {result.returncode}\n"
                f"stdout: {result.stdout}\nstderr: {result.stderr}"
            )
        return result

    # the scenario -----------------------------------------------------------------------------

    def connect(self) -> None:
        """Connect through the custom connection, as production will, and map the codes (each
        checked against the organisation's chart and tax rates)."""
        target = self.target
        url = ["--xero-url", target.xero_url] if target.xero_url else []
        at = (datetime.now(UTC) - timedelta(days=1)).isoformat()
        self.cli(
            "connect",
            ORG,
            *url,
            "--custom-connection",
            "--client-id",
            target.client_id,
            "--client-secret",
            target.client_secret,
            "--at",
            at,
        )
        self.cli("config", "map-account", ORG, "sales", target.sales_account)
        self.cli("config", "map-tax", ORG, "GST", target.tax_type)
        self.cli("config", "payment-account", ORG, target.bank_account)

    def documents(self) -> tuple[str, str]:
        """Two invoices dated today, one of them part paid; then the other one cancelled
        once it is in Xero (a credit note)."""
        today = date.today().isoformat()
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        customer = {
            "id": f"check-{self.run}",
            "name": f"syncledger pre-production check {self.run}",
            "email": f"syncledger-check-{self.run.lower()}@example.com",
        }
        line = [
            {
                "category": "sales",
                "description": "Pre-production check",
                "quantity": 1,
                "unit_amount": "110.00",
                "tax_rate": "GST",
            }
        ]

        def invoice(model_id: int, **extra: Any) -> dict[str, Any]:
            return invoice_change(
                model_id,
                number=f"SL-CHECK-{self.run}-{model_id}",
                timestamp=now,
                customer=customer,
                lines=line,
                issued_date=today,
                due_date=today,
                **extra,
            )

        issued = ndjson(
            invoice(1),
            payment_change(
                31,
                invoice_id=1,
                amount="50.00",
                timestamp=now,
                paid_date=today,
                reference=f"SL-CHECK-{self.run}",
            ),
            invoice(2),
        )
        return issued, ndjson(invoice(2, status="cancelled"))

    def run_scenario(self) -> list[dict[str, Any]]:
        """Connect, ingest, relay until idle; the statuses afterwards."""
        self.connect()
        for index, batch in enumerate(self.documents()):
            changes = self.folder / f"changes-{index}.ndjson"
            changes.write_text(batch)
            self.cli("ingest", str(changes))
            self.cli("relay", "--until-idle", timeout=600)
        statuses: list[dict[str, Any]] = json.loads(self.cli("status", "--json").stdout)
        return statuses

    def reconcile(self) -> dict[str, Any]:
        """What `audit reconcile` finds for today's documents (JSON)."""
        today = date.today().isoformat()
        found = self.cli("audit", "reconcile", "--org", ORG, "--since", today, "--json", ok=False)
        report: dict[str, Any] = json.loads(found.stdout)
        return report

    # cleaning up ------------------------------------------------------------------------------

    def void_everything(self) -> list[str]:
        """Delete the payments, void the credit notes (after undoing their allocations) and the
        invoices, and archive the contact the check created; returns what could not be done."""
        problems: list[str] = []
        settings = Settings(db=str(self.db), secret_key=SECRET_KEY)
        with System.open(settings, create=False) as system:
            org = system.ledger.organisation(ORG)
            if org is None or org.connection is None:
                return ["the check's organisation is not connected: nothing to void"]
            client = system.xero_client(org, lambda call: None)
            rows = [v.row for v in system.status_store.rows(_everything())]

            def attempt(what: str, *call: Any) -> Any:
                try:
                    return client.send(*call)
                except XeroError as exc:
                    problems.append(f"{what}: {exc}")
                    return None

            for row in rows:
                if row.kind == "payment" and row.xero_id:
                    attempt(
                        f"delete payment {row.xero_id}",
                        "check_delete_payment",
                        "POST",
                        f"/Payments/{row.xero_id}",
                        {"Status": "DELETED"},
                        None,
                    )
            for row in rows:
                if row.credit_note_id:
                    found = attempt(
                        f"read credit note {row.credit_note_id}",
                        "check_credit_note",
                        "GET",
                        f"/CreditNotes/{row.credit_note_id}",
                        None,
                        None,
                    )
                    notes = (found or {}).get("CreditNotes") or [{}]
                    for allocation in notes[0].get("Allocations") or []:
                        allocation_id = allocation.get("AllocationID")
                        attempt(
                            f"undo allocation {allocation_id}",
                            "check_delete_allocation",
                            "DELETE",
                            f"/CreditNotes/{row.credit_note_id}/Allocations/{allocation_id}",
                            None,
                            None,
                        )
                    attempt(
                        f"void credit note {row.credit_note_id}",
                        "check_void_credit_note",
                        "POST",
                        f"/CreditNotes/{row.credit_note_id}",
                        {"CreditNotes": [{"CreditNoteID": row.credit_note_id, "Status": "VOIDED"}]},
                        None,
                    )
            contacts: set[str] = set()
            for row in rows:
                if row.kind == "invoice" and row.xero_id:
                    found = attempt(
                        f"read invoice {row.xero_id}",
                        "check_invoice",
                        "GET",
                        f"/Invoices/{row.xero_id}",
                        None,
                        None,
                    )
                    invoice = ((found or {}).get("Invoices") or [{}])[0]
                    contact = (invoice.get("Contact") or {}).get("ContactID")
                    if contact:
                        contacts.add(contact)
                    if invoice.get("Status") not in ("VOIDED", "DELETED"):
                        attempt(
                            f"void invoice {row.xero_id}",
                            "check_void_invoice",
                            "POST",
                            f"/Invoices/{row.xero_id}",
                            {"Invoices": [{"InvoiceID": row.xero_id, "Status": "VOIDED"}]},
                            None,
                        )
            for contact in sorted(contacts):
                attempt(
                    f"archive contact {contact}",
                    "check_archive_contact",
                    "POST",
                    f"/Contacts/{contact}",
                    {"Contacts": [{"ContactID": contact, "ContactStatus": "ARCHIVED"}]},
                    None,
                )
        return problems


def _everything() -> Any:
    from projections.status import StatusFilter

    return StatusFilter(include_hidden=True)
