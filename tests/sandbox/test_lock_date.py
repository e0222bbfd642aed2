"""Contract: the period lock date (notes/xero-api.md §1.3, §1.4, §1.5).

"Documents dated on or before it cannot be created, edited, voided or paid; Xero answers 400 with
a validation message naming the lock date." The lock is set through the sandbox's settings (a
real org's accountant sets it in Xero); everything one day later is open.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from syncledger.sandbox import Sandbox
from tests.sandbox.conftest import Api, data, line

LOCK = "2026-11-15"
LOCKED = f"The document date cannot be on or before the period lock date ({LOCK})."
OPEN = "2026-11-16"


@pytest.fixture
def contact(api: Api) -> dict[str, Any]:
    return api.contact("Jane Citizen")


def _lock(sandbox: Sandbox) -> None:
    sandbox.set_settings(sandbox.tenant_ids[0], period_lock_date=LOCK)


def _element(response: httpx.Response, key: str) -> dict[str, Any]:
    """The one element of a summarizeErrors=false answer, or of a 400's Elements."""
    body = data(response)
    element: dict[str, Any] = body["Elements"][0] if response.status_code == 400 else body[key][0]
    return element


def _messages(response: httpx.Response, key: str) -> list[str]:
    return [error["Message"] for error in _element(response, key).get("ValidationErrors", [])]


def _create(api: Api, collection: str, body: dict[str, Any]) -> httpx.Response:
    return api.put(f"/{collection}", params={"summarizeErrors": "false"}, json={collection: [body]})


def _allocate(api: Api, note_id: str, invoice_id: str, day: str) -> httpx.Response:
    return api.put(
        f"/CreditNotes/{note_id}/Allocations",
        params={"summarizeErrors": "false"},
        json={"Allocations": [{"Invoice": {"InvoiceID": invoice_id}, "Amount": 10, "Date": day}]},
    )


def test_the_organisation_shows_its_period_lock_date(sandbox: Sandbox, api: Api) -> None:
    """§1.2: "Read `PeriodLockDate` from `GET /Organisation`" (shown only when set)."""
    before = data(api.get("/Organisation"))["Organisations"][0]
    _lock(sandbox)

    after = data(api.get("/Organisation"))["Organisations"][0]

    assert "PeriodLockDate" not in before
    assert after["PeriodLockDate"] == "/Date(1794700800000+0000)/"  # 2026-11-15
    assert after["BaseCurrency"] == "AUD"


@pytest.mark.parametrize(
    ("collection", "document_type"), [("Invoices", "ACCREC"), ("CreditNotes", "ACCRECCREDIT")]
)
def test_a_document_dated_on_or_before_the_lock_date_is_not_created(
    sandbox: Sandbox, api: Api, contact: dict[str, Any], collection: str, document_type: str
) -> None:
    """§1.3: documents dated on or before the lock date cannot be created; the day after can."""
    _lock(sandbox)
    body = {
        "Type": document_type,
        "Contact": {"ContactID": contact["ContactID"]},
        "Status": "AUTHORISED",
        "LineItems": [line(100.0)],
    }

    on_lock = _create(api, collection, {**body, "Date": LOCK})
    before_lock = _create(api, collection, {**body, "Date": "2026-10-01"})
    after_lock = _create(api, collection, {**body, "Date": OPEN})

    assert _messages(on_lock, collection) == [LOCKED]
    assert _messages(before_lock, collection) == [LOCKED]
    assert _element(after_lock, collection)["HasErrors"] is False
    assert len(api.state()["invoices"] + api.state()["credit_notes"]) == 1


def test_a_document_in_a_locked_period_is_neither_edited_voided_nor_deleted(
    sandbox: Sandbox, api: Api, contact: dict[str, Any]
) -> None:
    """§1.3: "No edits are possible in a locked period" (§1.2); nor voiding or deleting."""
    authorised = api.invoice(contact["ContactID"], Date=LOCK)
    draft = api.invoice(contact["ContactID"], Date=LOCK, Status="DRAFT")
    note = api.credit_note(contact["ContactID"], Date=LOCK)
    _lock(sandbox)

    edit = api.post(f"/Invoices/{authorised['InvoiceID']}", json={"Reference": "changed"})
    void = api.post(f"/Invoices/{authorised['InvoiceID']}", json={"Status": "VOIDED"})
    delete = api.post(f"/Invoices/{draft['InvoiceID']}", json={"Status": "DELETED"})
    void_note = api.post(f"/CreditNotes/{note['CreditNoteID']}", json={"Status": "VOIDED"})

    for response, key in ((edit, "Invoices"), (void, "Invoices"), (delete, "Invoices")):
        assert response.status_code == 400
        assert _messages(response, key) == [LOCKED]
    assert _messages(void_note, "CreditNotes") == [LOCKED]
    assert [i["status"] for i in api.state()["invoices"]] == ["AUTHORISED", "DRAFT"]
    assert api.state()["invoices"][0]["reference"] is None


def test_a_document_cannot_be_moved_into_a_locked_period(
    sandbox: Sandbox, api: Api, contact: dict[str, Any]
) -> None:
    """§1.3: an open document may be edited, but not dated on or before the lock date."""
    invoice = api.invoice(contact["ContactID"], Date="2026-11-20")
    _lock(sandbox)

    moved = api.post(f"/Invoices/{invoice['InvoiceID']}", json={"Date": LOCK})
    kept_open = api.post(f"/Invoices/{invoice['InvoiceID']}", json={"Date": OPEN})

    assert _messages(moved, "Invoices") == [LOCKED]
    assert data(kept_open)["Invoices"][0]["DateString"] == f"{OPEN}T00:00:00"


def test_a_payment_dated_on_or_before_the_lock_date_is_refused(
    sandbox: Sandbox, api: Api, contact: dict[str, Any]
) -> None:
    """§1.3: documents in a locked period cannot be paid; §1.5: a payment has its own Date."""
    invoice = api.invoice(contact["ContactID"], Date="2026-11-20")
    _lock(sandbox)

    refused = api.payment(invoice["InvoiceID"], 10.0, Date=LOCK)
    accepted = api.payment(invoice["InvoiceID"], 10.0, Date=OPEN)

    assert _messages(refused, "Payments") == [LOCKED]
    assert _element(accepted, "Payments")["HasErrors"] is False
    assert [p["date"] for p in api.state()["payments"]] == [OPEN]


def test_a_payment_in_a_locked_period_cannot_be_deleted(
    sandbox: Sandbox, api: Api, contact: dict[str, Any]
) -> None:
    """§1.3: "To void a paid invoice, first delete each payment" - not once its date is locked."""
    invoice = api.invoice(contact["ContactID"], Date="2026-11-01")
    locked = _element(api.payment(invoice["InvoiceID"], 10.0, Date=LOCK), "Payments")
    open_payment = _element(api.payment(invoice["InvoiceID"], 10.0, Date=OPEN), "Payments")
    _lock(sandbox)

    refused = api.post(f"/Payments/{locked['PaymentID']}", json={"Status": "DELETED"})
    deleted = api.post(f"/Payments/{open_payment['PaymentID']}", json={"Status": "DELETED"})

    assert refused.status_code == 400
    assert _messages(refused, "Payments") == [LOCKED]
    assert data(deleted)["Payments"][0]["Status"] == "DELETED"
    assert [p["status"] for p in api.state()["payments"]] == ["AUTHORISED", "DELETED"]


def test_an_allocation_dated_on_or_before_the_lock_date_is_refused(
    sandbox: Sandbox, api: Api, contact: dict[str, Any]
) -> None:
    """§1.4: "as long as the credit note's own date is open" (§1.3); the allocation's Date too."""
    invoice = api.invoice(contact["ContactID"], Date="2026-11-20")
    note = api.credit_note(contact["ContactID"], Date="2026-11-20")
    _lock(sandbox)

    refused = _allocate(api, note["CreditNoteID"], invoice["InvoiceID"], LOCK)
    accepted = _allocate(api, note["CreditNoteID"], invoice["InvoiceID"], OPEN)

    assert _messages(refused, "Allocations") == [LOCKED]
    assert _element(accepted, "Allocations")["HasErrors"] is False
    assert [a["date"] for a in api.state()["allocations"]] == [OPEN]


def test_an_allocation_in_a_locked_period_cannot_be_deleted(
    sandbox: Sandbox, api: Api, contact: dict[str, Any]
) -> None:
    """§1.3/§1.4: an allocation dated on or before the lock date stays (DELETE is refused)."""
    invoice = api.invoice(contact["ContactID"], Date="2026-11-01")
    note = api.credit_note(contact["ContactID"], Date="2026-11-01")
    allocation = _element(
        _allocate(api, note["CreditNoteID"], invoice["InvoiceID"], LOCK), "Allocations"
    )
    _lock(sandbox)

    response = api.client.delete(
        f"/CreditNotes/{note['CreditNoteID']}/Allocations/{allocation['AllocationID']}"
    )

    assert response.status_code == 400
    assert _messages(response, "Allocations") == [LOCKED]
    assert [a["deleted"] for a in api.state()["allocations"]] == [False]


def test_clearing_the_lock_date_opens_every_period(
    sandbox: Sandbox, api: Api, contact: dict[str, Any]
) -> None:
    """§1.3: the lock applies only while set (`PeriodLockDate` is "shown if set")."""
    _lock(sandbox)
    sandbox.set_settings(sandbox.tenant_ids[0], period_lock_date=None)

    invoice = api.invoice(contact["ContactID"], Date="2026-01-01")

    assert invoice["HasErrors"] is False
    assert "PeriodLockDate" not in data(api.get("/Organisation"))["Organisations"][0]
