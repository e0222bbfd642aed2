"""Contract: the Idempotency-Key header (notes/xero-api.md §2)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from syncledger.sandbox import Sandbox
from tests.sandbox.conftest import Api, data, line


def _invoice_body(contact_id: str, number: str = "OS-INV-1") -> dict[str, Any]:
    return {
        "Invoices": [
            {
                "Type": "ACCREC",
                "Contact": {"ContactID": contact_id},
                "InvoiceNumber": number,
                "Status": "AUTHORISED",
                "LineItems": [line(100.0)],
            }
        ]
    }


def test_the_same_key_and_request_replays_the_stored_answer(api: Api) -> None:
    """§2: the same key with the same request within the window answers as the first time."""
    contact = api.contact()
    body = _invoice_body(contact["ContactID"])
    headers = {"Idempotency-Key": "os-inv-1-v1"}

    first = api.put("/Invoices", params={"summarizeErrors": "false"}, json=body, headers=headers)
    second = api.put("/Invoices", params={"summarizeErrors": "false"}, json=body, headers=headers)

    assert second.status_code == first.status_code == 200
    assert second.content == first.content
    assert len(api.state()["invoices"]) == 1
    log = [r for r in api.sandbox.requests(api.tenant_id) if r["idempotency_key"]]
    assert [r["replayed"] for r in log] == [False, True]


def test_the_same_key_with_a_different_request_is_refused(api: Api) -> None:
    """§2: same key, different body: 400 "Idempotency Key: <key> is used with a different
    request."."""
    contact = api.contact()
    headers = {"Idempotency-Key": "reused-key"}
    api.put("/Invoices", json=_invoice_body(contact["ContactID"], "A"), headers=headers)

    response = api.put("/Invoices", json=_invoice_body(contact["ContactID"], "B"), headers=headers)

    assert response.status_code == 400
    assert (
        data(response)["Message"] == "Idempotency Key: reused-key is used with a different request."
    )
    assert [i["invoice_number"] for i in api.state()["invoices"]] == ["A"]


def test_a_key_longer_than_128_characters_is_refused(api: Api) -> None:
    """§2: "128 character max."."""
    response = api.put("/Contacts", json={"Name": "Jane"}, headers={"Idempotency-Key": "k" * 129})
    accepted = api.put("/Contacts", json={"Name": "Jane"}, headers={"Idempotency-Key": "k" * 128})

    assert response.status_code == 400
    assert accepted.status_code == 200


def test_a_500_is_cached_under_its_key(api: Api) -> None:
    """§2: internal errors (500) are cached too; retrying with the same key returns the same
    500, so the client must look up, then retry with a new key."""
    contact = api.contact()
    body = _invoice_body(contact["ContactID"])
    headers = {"Idempotency-Key": "unlucky"}
    api.sandbox.set_faults(fault_rates={"500": 1.0})
    first = api.put("/Invoices", json=body, headers=headers)
    api.sandbox.set_faults(fault_rates={})

    retried = api.put("/Invoices", json=body, headers=headers)
    fresh = api.put("/Invoices", json=body, headers={"Idempotency-Key": "new-key"})

    assert first.status_code == retried.status_code == 500
    assert retried.content == first.content
    assert fresh.status_code == 200
    assert len(api.state()["invoices"]) == 1


def test_a_concurrent_repeat_waits_for_the_first_and_gets_its_answer(
    start_sandbox: Callable[..., Sandbox], make_api: Callable[..., Api]
) -> None:
    """§2: a concurrent repeat waits for the first request and receives its response."""
    sandbox = start_sandbox()
    api = make_api(sandbox)
    contact = api.contact()
    sandbox.set_faults(latency_ms=500)
    body = _invoice_body(contact["ContactID"])
    headers = {"Idempotency-Key": "at-once"}
    answers: list[httpx.Response] = []

    def send() -> None:
        answers.append(api.put("/Invoices", json=body, headers=headers))

    first = threading.Thread(target=send)
    first.start()
    time.sleep(0.1)
    send()
    first.join()

    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].content == answers[1].content
    assert len(sandbox.state(sandbox.tenant_ids[0])["invoices"]) == 1


def test_an_expired_key_is_treated_as_new(
    start_sandbox: Callable[..., Sandbox], make_api: Callable[..., Api]
) -> None:
    """§2 and §1.5: keys expire after the window; a retried payment after it is a second
    payment."""
    sandbox = start_sandbox(idempotency_window_s=0.3)
    api = make_api(sandbox)
    invoice = api.invoice(api.contact()["ContactID"])
    headers = {"Idempotency-Key": "pay-555"}

    body = {
        "Payments": [
            {
                "Invoice": {"InvoiceID": invoice["InvoiceID"]},
                "Account": {"Code": "090"},
                "Amount": 5.0,
            }
        ]
    }
    first = api.put("/Payments", json=body, headers=headers)
    time.sleep(0.4)
    second = api.put("/Payments", json=body, headers=headers)

    assert first.status_code == second.status_code == 200
    assert data(first)["Payments"][0]["PaymentID"] != data(second)["Payments"][0]["PaymentID"]
    assert len(sandbox.state(sandbox.tenant_ids[0])["payments"]) == 2


def test_rate_limits_are_checked_before_idempotency(
    start_sandbox: Callable[..., Sandbox], make_api: Callable[..., Api]
) -> None:
    """§2: rate limits are checked before idempotency; a 429 means nothing was written, and
    idempotent retries still count against the limits."""
    sandbox = start_sandbox(minute_limit=1, minute_window_s=1.0)
    api = make_api(sandbox)
    headers = {"Idempotency-Key": "contact-1"}

    first = api.put("/Contacts", json={"Name": "Jane"}, headers=headers)
    limited = api.put("/Contacts", json={"Name": "Jane"}, headers=headers)
    time.sleep(1.05)
    replayed = api.put("/Contacts", json={"Name": "Jane"}, headers=headers)

    assert (first.status_code, limited.status_code, replayed.status_code) == (200, 429, 200)
    assert replayed.content == first.content
    log = sandbox.requests()
    assert [(r["status"], r["replayed"]) for r in log] == [(200, False), (429, False), (200, True)]
