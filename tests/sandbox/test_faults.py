"""Contract: faults on demand, whose answers have Xero's shapes (notes/xero-api.md §4, §2, §3).

Faults are sandbox-only, but what they produce is what Xero produces: a 500 with Xero's body
(§4), a plain-text 503 (§4), a 429 with its headers (§3), and connections that die before or
after the write (the "uncertain outcome" of §2 and §9).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from syncledger.sandbox import Sandbox
from tests.sandbox.conftest import Api, data, line


def _body(contact_id: str, number: str) -> dict[str, Any]:
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


def _statuses(sandbox: Sandbox, make_api: Callable[..., Api], count: int) -> list[int]:
    api = make_api(sandbox)
    return [api.put("/Contacts", json={"Name": f"C{i}"}).status_code for i in range(count)]


def test_the_same_seed_gives_the_same_faults(
    start_sandbox: Callable[..., Sandbox], make_api: Callable[..., Api]
) -> None:
    """§4 (sandbox control): one seeded draw per eligible request, in arrival order."""
    rates = {"503": 0.3, "500": 0.2}
    one = _statuses(start_sandbox(seed=7, fault_rates=rates), make_api, 20)
    two = _statuses(start_sandbox(seed=7, fault_rates=rates), make_api, 20)
    other = _statuses(start_sandbox(seed=8, fault_rates=rates), make_api, 20)

    assert one == two
    assert one != other
    assert set(one) == {200, 500, 503}


@pytest.mark.parametrize(
    ("fault", "status"), [("500", 500), ("502", 502), ("503", 503), ("429", 429)]
)
def test_a_failed_write_answers_without_writing(api: Api, fault: str, status: int) -> None:
    """§4: 500 ("An unhandled error with the Xero API"), 502, 503 (plain text "offline for
    maintenance") and §3 429 (Retry-After, X-Rate-Limit-Problem); nothing is written."""
    contact = api.contact()
    api.sandbox.set_faults(fault_rates={fault: 1.0})

    response = api.put("/Invoices", json=_body(contact["ContactID"], "F-1"))

    assert response.status_code == status
    assert api.state()["invoices"] == []
    if fault == "500":
        assert data(response)["Message"] == "An unhandled error with the Xero API"
    if fault == "503":
        assert response.text == "The Xero API is currently offline for maintenance"
    if fault == "429":
        assert response.headers["Retry-After"] == "1"
        assert response.headers["X-Rate-Limit-Problem"] == "minute"


def test_a_timeout_closes_the_connection_without_writing(
    start_sandbox: Callable[..., Sandbox], make_api: Callable[..., Api]
) -> None:
    """§2 (uncertain outcome after a timeout): the request is held, then the connection is
    closed without an answer; nothing was written."""
    sandbox = start_sandbox(fault_timeout_s=0.2)
    api = make_api(sandbox)
    contact = api.contact()
    sandbox.set_faults(fault_rates={"timeout": 1.0})

    started = time.monotonic()
    with pytest.raises(httpx.RemoteProtocolError):
        api.put("/Invoices", json=_body(contact["ContactID"], "T-1"))

    assert time.monotonic() - started >= 0.2
    assert sandbox.state(sandbox.tenant_ids[0])["invoices"] == []
    entry = sandbox.requests()[-1]
    assert (entry["fault"], entry["status"]) == ("timeout", None)


def test_drop_after_commit_writes_but_never_answers(api: Api) -> None:
    """§2: the write happens but the client never hears; retrying with the same key within the
    window replays the stored answer instead of writing twice."""
    contact = api.contact()
    body = _body(contact["ContactID"], "D-1")
    headers = {"Idempotency-Key": "drop-1"}
    api.sandbox.set_faults(fault_rates={"drop_after_commit": 1.0})

    with pytest.raises(httpx.RemoteProtocolError):
        api.put("/Invoices", json=body, headers=headers)
    api.sandbox.set_faults(fault_rates={})
    retried = api.put("/Invoices", json=body, headers=headers)

    assert [i["invoice_number"] for i in api.state()["invoices"]] == ["D-1"]
    assert retried.status_code == 200
    first, second = api.sandbox.requests()[-2:]
    assert (first["fault"], first["status"]) == ("drop_after_commit", 200)
    assert second["replayed"] is True


def test_faults_apply_only_to_the_configured_methods(api: Api) -> None:
    """§4 (sandbox control): by default only PUT and POST are faulted."""
    api.sandbox.set_faults(fault_rates={"503": 1.0})

    read = api.get("/Organisation")
    write = api.put("/Contacts", json={"Name": "Jane"})
    api.sandbox.set_faults(fault_methods=["GET"])
    faulted_read = api.get("/Organisation")

    assert (read.status_code, write.status_code, faulted_read.status_code) == (200, 503, 503)


def test_latency_is_added_to_every_api_call(
    start_sandbox: Callable[..., Sandbox], make_api: Callable[..., Api]
) -> None:
    """§3 (the concurrency limit is about calls in progress): added latency keeps each call in
    progress at least that long."""
    sandbox = start_sandbox(latency_ms=200)
    api = make_api(sandbox)

    started = time.monotonic()
    response = api.get("/Organisation")

    assert response.status_code == 200
    assert time.monotonic() - started >= 0.2
