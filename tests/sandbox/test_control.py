"""Contract: the sandbox-only control and inspection endpoints under /sandbox/.

These are not Xero's; they let tests see what Xero would hold (the state a real org would show,
notes §7 "store the Xero IDs") and steer the limits of §3 and the faults behind §2 and §4.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from syncledger.sandbox import Sandbox
from tests.sandbox.conftest import Api


def test_state_and_request_log_are_served_over_http(
    sandbox: Sandbox, api: Api, raw_client: httpx.Client
) -> None:
    """§7: tests compare what Xero holds with the ledger; amounts are strings."""
    contact = api.contact("Jane Citizen", EmailAddress="jane@example.com")
    api.invoice(contact["ContactID"], InvoiceNumber="OS-INV-9")
    tenant = sandbox.tenant_ids[0]

    state = raw_client.get(f"{sandbox.url}/sandbox/state", params={"tenant": tenant}).json()
    log = raw_client.get(f"{sandbox.url}/sandbox/requests", params={"tenant": tenant}).json()

    assert state == sandbox.state(tenant)
    assert state["invoices"][0]["invoice_number"] == "OS-INV-9"
    assert state["invoices"][0]["total"] == "1100.00"
    assert state["contacts"][0]["email"] == "jane@example.com"
    assert {a["code"] for a in state["accounts"]} >= {"090", "200", "610"}
    assert [(r["method"], r["path"], r["status"]) for r in log] == [
        ("PUT", "/api.xro/2.0/Contacts", 200),
        ("PUT", "/api.xro/2.0/Invoices", 200),
    ]
    assert set(log[0]) >= {"at", "query", "idempotency_key", "tenant", "replayed", "fault"}


def test_unknown_tenants_and_bad_settings_are_refused(
    sandbox: Sandbox, raw_client: httpx.Client
) -> None:
    """§3/§4 controls validate their input: 404 for an unknown tenant, 400 for bad values."""
    missing = raw_client.get(f"{sandbox.url}/sandbox/state", params={"tenant": "nope"})
    bad_rate = raw_client.post(f"{sandbox.url}/sandbox/faults", json={"fault_rates": {"418": 1}})
    bad_limit = raw_client.post(f"{sandbox.url}/sandbox/limits", json={"minute_limit": 0})

    assert missing.status_code == 404
    assert bad_rate.status_code == 400
    assert bad_limit.status_code == 400


def test_tenants_faults_limits_and_reset_are_controlled_over_http(
    sandbox: Sandbox, api: Api, raw_client: httpx.Client, make_api: Callable[..., Api]
) -> None:
    """§3 limits and §2/§4 faults can be changed at run time; reset clears documents and logs
    but keeps tenants and charts."""
    added = raw_client.post(f"{sandbox.url}/sandbox/tenants", json={"name": "Solar Co"}).json()
    faults = raw_client.post(
        f"{sandbox.url}/sandbox/faults", json={"fault_rates": {"503": 1.0}, "seed": 3}
    ).json()
    limits = raw_client.post(
        f"{sandbox.url}/sandbox/limits", json={"minute_limit": 100, "minute_window_s": 5}
    ).json()
    faulted = api.put("/Contacts", json={"Name": "Jane"})
    raw_client.post(f"{sandbox.url}/sandbox/faults", json={"fault_rates": {}})
    api.put("/Contacts", json={"Name": "Jane"})
    new_org = make_api(sandbox, added["tenant_id"]).get("/Organisation")

    reset = raw_client.post(f"{sandbox.url}/sandbox/reset")
    health = raw_client.get(f"{sandbox.url}/sandbox/health").json()

    assert added["tenant_id"] in sandbox.tenant_ids
    assert new_org.status_code == 200
    assert (faults["fault_rates"], faults["seed"]) == ({"503": 1.0}, 3)
    assert (limits["minute_limit"], limits["minute_window_s"]) == (100, 5)
    assert faulted.status_code == 503
    assert reset.status_code == 200
    assert sandbox.state(sandbox.tenant_ids[0])["contacts"] == []
    assert len(sandbox.state(sandbox.tenant_ids[0])["accounts"]) > 10
    assert sandbox.requests() == []
    assert (health["status"], health["tenants"]) == ("ok", 2)
