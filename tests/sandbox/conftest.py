"""Fixtures for the sandbox contract suite: real sandboxes on 127.0.0.1 and spec-checked clients.

Every exchange made through an `Api` client is validated against Xero's official OpenAPI spec by
`tests.support.xero_openapi` (a violation fails the test). The few tests that send a request the
spec forbids on purpose (no Authorization header, no tenant header) use `raw_client` and say so.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from syncledger.sandbox import Sandbox, SandboxConfig
from tests.support.xero_openapi import check_custom_connection_response, check_response, spec

OPEN_MODE_TOKEN = "open-mode-token"  # any Bearer token is accepted in open mode


def data(response: httpx.Response) -> Any:
    """A response body with exact decimals."""
    return json.loads(response.content, parse_float=Decimal)


def line(
    amount: float = 100.0,
    account: str | None = "200",
    tax: str | None = "OUTPUT",
    quantity: float = 1,
    description: str = "Solar system 6.6kW",
) -> dict[str, Any]:
    """A line item body."""
    body: dict[str, Any] = {"Description": description, "Quantity": quantity, "UnitAmount": amount}
    if account is not None:
        body["AccountCode"] = account
    if tax is not None:
        body["TaxType"] = tax
    return body


class Api:
    """An httpx client on one tenant of a sandbox whose every exchange is checked against the spec."""

    def __init__(
        self,
        sandbox: Sandbox,
        tenant_id: str | None,
        token: str = OPEN_MODE_TOKEN,
        *,
        custom_connection: bool = False,
    ) -> None:
        self.sandbox = sandbox
        self.tenant_id = tenant_id
        headers = {"Accept": "application/json", "Authorization": f"Bearer {token}"}
        if tenant_id is not None:
            headers["xero-tenant-id"] = tenant_id
        hook = check_custom_connection_response if custom_connection else check_response
        self.client = httpx.Client(
            base_url=f"{sandbox.url}/api.xro/2.0",
            headers=headers,
            timeout=10.0,
            event_hooks={"response": [hook]},
        )

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.put(path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.post(path, **kwargs)

    def state(self) -> dict[str, Any]:
        if self.tenant_id is None:
            raise ValueError("no tenant")
        return self.sandbox.state(self.tenant_id)

    # builders that create and return the created element ------------------------------------
    def contact(self, name: str = "Jane Citizen", **fields: Any) -> dict[str, Any]:
        response = self.put("/Contacts", json={"Contacts": [{"Name": name, **fields}]})
        assert response.status_code == 200, response.text
        created: dict[str, Any] = data(response)["Contacts"][0]
        return created

    def invoice(self, contact_id: str, **fields: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "Type": "ACCREC",
            "Contact": {"ContactID": contact_id},
            "Date": "2026-11-24",
            "DueDate": "2026-12-24",
            "Status": "AUTHORISED",
            "LineAmountTypes": "Exclusive",
            "LineItems": [line(1000.0)],
        }
        body.update(fields)
        response = self.put(
            "/Invoices", params={"summarizeErrors": "false"}, json={"Invoices": [body]}
        )
        assert response.status_code == 200, response.text
        created: dict[str, Any] = data(response)["Invoices"][0]
        assert created["HasErrors"] is False, created.get("ValidationErrors")
        return created

    def credit_note(self, contact_id: str, **fields: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "Type": "ACCRECCREDIT",
            "Contact": {"ContactID": contact_id},
            "Date": "2026-11-30",
            "Status": "AUTHORISED",
            "LineAmountTypes": "Exclusive",
            "LineItems": [line(1000.0)],
        }
        body.update(fields)
        response = self.put(
            "/CreditNotes", params={"summarizeErrors": "false"}, json={"CreditNotes": [body]}
        )
        assert response.status_code == 200, response.text
        created: dict[str, Any] = data(response)["CreditNotes"][0]
        assert created["HasErrors"] is False, created.get("ValidationErrors")
        return created

    def payment(self, invoice_id: str, amount: float, **fields: Any) -> httpx.Response:
        body: dict[str, Any] = {
            "Invoice": {"InvoiceID": invoice_id},
            "Account": {"Code": "090"},
            "Date": "2026-11-25",
            "Amount": amount,
            "Reference": "OpenSolar payment 555",
        }
        body.update(fields)
        return self.put("/Payments", params={"summarizeErrors": "false"}, json={"Payments": [body]})

    def close(self) -> None:
        self.client.close()


@pytest.fixture(scope="session", autouse=True)
def _loaded_spec() -> None:
    """Load the OpenAPI spec once for the whole session."""
    spec()


@pytest.fixture
def start_sandbox() -> Iterator[Callable[..., Sandbox]]:
    """Start sandboxes with the given config values; all are stopped after the test."""
    started: list[Sandbox] = []

    def start(**config: Any) -> Sandbox:
        sandbox = Sandbox(SandboxConfig(**config)).start()
        started.append(sandbox)
        return sandbox

    yield start
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def make_api() -> Iterator[Callable[..., Api]]:
    """Spec-checked clients for any sandbox, tenant and token; closed after the test."""
    clients: list[Api] = []

    def make(
        sandbox: Sandbox,
        tenant_id: str | None = None,
        token: str = OPEN_MODE_TOKEN,
        *,
        custom_connection: bool = False,
    ) -> Api:
        tenant = tenant_id if tenant_id is not None or custom_connection else sandbox.tenant_ids[0]
        api = Api(sandbox, tenant, token, custom_connection=custom_connection)
        clients.append(api)
        return api

    yield make
    for api in clients:
        api.close()


@pytest.fixture
def sandbox(start_sandbox: Callable[..., Sandbox]) -> Sandbox:
    """An open-mode sandbox with one organisation and Xero's default limits."""
    return start_sandbox()


@pytest.fixture
def api(sandbox: Sandbox, make_api: Callable[..., Api]) -> Api:
    """A spec-checked client on the sandbox's first organisation."""
    return make_api(sandbox)


@pytest.fixture
def raw_client() -> Iterator[httpx.Client]:
    """An unchecked client, for requests that break the spec on purpose."""
    with httpx.Client(timeout=10.0) as client:
        yield client
