"""Contract: the sandbox-only control and inspection endpoints under /sandbox/.

These are not Xero's; they let tests see what Xero would hold (the state a real org would show,
notes §7 "store the Xero IDs") and steer the limits of §3 and the faults behind §2 and §4.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from syncledger.sandbox import Sandbox
from tests.sandbox.conftest import Api, data


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


def test_settings_are_read_and_changed_over_http(
    sandbox: Sandbox, api: Api, raw_client: httpx.Client
) -> None:
    """§1.7 (base and enabled currencies) and §1.3 (period lock date) are set per tenant; state
    shows them, and reset keeps them as it keeps the chart."""
    tenant = sandbox.tenant_ids[0]
    url = f"{sandbox.url}/sandbox/settings"
    before = raw_client.get(url, params={"tenant": tenant}).json()

    changed = raw_client.post(
        url,
        json={"tenant": tenant, "currencies": ["usd", "NZD"], "period_lock_date": "2026-11-15"},
    )
    read_back = raw_client.get(url, params={"tenant": tenant}).json()
    codes = [c["Code"] for c in data(api.get("/Currencies"))["Currencies"]]
    organisation = data(api.get("/Organisation"))["Organisations"][0]
    raw_client.post(f"{sandbox.url}/sandbox/reset")
    state = raw_client.get(f"{sandbox.url}/sandbox/state", params={"tenant": tenant}).json()
    cleared = raw_client.post(url, json={"tenant": tenant, "period_lock_date": None}).json()

    assert before == {
        "tenant": tenant,
        "base_currency": "AUD",
        "currencies": ["AUD"],
        "period_lock_date": None,
    }
    assert changed.status_code == 200
    assert (
        changed.json()
        == read_back
        == {
            "tenant": tenant,
            "base_currency": "AUD",
            "currencies": ["AUD", "NZD", "USD"],
            "period_lock_date": "2026-11-15",
        }
    )
    assert codes == ["AUD", "NZD", "USD"]
    assert organisation["PeriodLockDate"] == "/Date(1794700800000+0000)/"
    assert (state["base_currency"], state["currencies"], state["period_lock_date"]) == (
        "AUD",
        ["AUD", "NZD", "USD"],
        "2026-11-15",
    )
    assert (cleared["currencies"], cleared["period_lock_date"]) == (["AUD", "NZD", "USD"], None)


def test_changing_the_base_currency_moves_the_bank_accounts(
    sandbox: Sandbox, api: Api, raw_client: httpx.Client
) -> None:
    """§1.7: `GET /Organisation` gives BaseCurrency; the base is always enabled and the
    organisation's bank accounts are in it."""
    tenant = sandbox.tenant_ids[0]

    changed = raw_client.post(
        f"{sandbox.url}/sandbox/settings",
        json={"tenant": tenant, "base_currency": "NZD", "currencies": ["AUD"]},
    ).json()

    organisation = data(api.get("/Organisation"))["Organisations"][0]
    banks = data(api.get("/Accounts", params={"where": 'Type=="BANK"'}))["Accounts"]
    codes = [c["Code"] for c in data(api.get("/Currencies"))["Currencies"]]
    assert (changed["base_currency"], changed["currencies"]) == ("NZD", ["AUD", "NZD"])
    assert organisation["BaseCurrency"] == "NZD"
    assert {a["CurrencyCode"] for a in banks} == {"NZD"}
    assert codes == ["NZD", "AUD"]  # the base first


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"locked": True}, "locked"),
        ({"base_currency": "ZZZ"}, "base_currency"),
        ({"base_currency": None}, "base_currency"),
        ({"currencies": "USD"}, "currencies"),
        ({"currencies": ["USD", "XYZ"]}, "currencies"),
        ({"period_lock_date": "15/11/2026"}, "period_lock_date"),
        ({"period_lock_date": 20261115}, "period_lock_date"),
    ],
)
def test_bad_settings_are_refused_naming_the_key(
    sandbox: Sandbox, raw_client: httpx.Client, body: dict[str, Any], named: str
) -> None:
    """§1.7/§1.3 settings are validated: 400 with an error naming the key; nothing changes."""
    tenant = sandbox.tenant_ids[0]

    response = raw_client.post(f"{sandbox.url}/sandbox/settings", json={"tenant": tenant, **body})

    assert response.status_code == 400
    assert named in response.json()["error"]
    assert sandbox.settings(tenant)["currencies"] == ["AUD"]


def test_settings_of_an_unknown_or_missing_tenant_are_refused(
    sandbox: Sandbox, raw_client: httpx.Client
) -> None:
    """Like the other controls: 404 for an unknown tenant, 400 when none is named."""
    url = f"{sandbox.url}/sandbox/settings"

    unknown_post = raw_client.post(url, json={"tenant": "nope", "currencies": ["USD"]})
    unknown_get = raw_client.get(url, params={"tenant": "nope"})
    missing = raw_client.post(url, json={"currencies": ["USD"]})

    assert (unknown_post.status_code, unknown_get.status_code) == (404, 404)
    assert missing.status_code == 400
    assert "tenant" in missing.json()["error"]
