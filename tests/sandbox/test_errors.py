"""Contract: Xero's error answers (notes/xero-api.md §4)."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from syncledger.sandbox import Sandbox
from tests.sandbox.conftest import Api, data


def test_an_unknown_tenant_is_forbidden(sandbox: Sandbox, make_api: Callable[..., Api]) -> None:
    """§4: 403 {"Title":"Forbidden","Status":403,"Detail":"AuthenticationUnsuccessful"} for a
    wrong or disconnected xero-tenant-id."""
    api = make_api(sandbox, "11111111-2222-3333-4444-555555555555")

    response = api.get("/Invoices")

    assert response.status_code == 403
    body = data(response)
    assert (body["Title"], body["Status"], body["Detail"]) == (
        "Forbidden",
        403,
        "AuthenticationUnsuccessful",
    )


def test_a_missing_tenant_header_is_forbidden(sandbox: Sandbox, raw_client: httpx.Client) -> None:
    """§0/§4: the xero-tenant-id header is required (403 without it). The request breaks the
    spec on purpose, so it is sent without spec validation."""
    response = raw_client.get(
        f"{sandbox.url}/api.xro/2.0/Invoices", headers={"Authorization": "Bearer x"}
    )

    assert response.status_code == 403


def test_unknown_ids_and_paths_are_not_found(api: Api) -> None:
    """§4: 404 "The resource you have specified cannot be found"."""
    missing = api.get("/Invoices/00000000-0000-0000-0000-000000000001")

    assert missing.status_code == 404
    assert "cannot be found" in missing.text


def test_a_bad_where_filter_is_a_400(api: Api) -> None:
    """§4: other 400s include a bad `where`."""
    unknown_field = api.get("/Invoices", params={"where": 'Colour=="red"'})
    bad_syntax = api.get("/Contacts", params={"where": 'Name=="unterminated'})
    bad_types = api.get("/Invoices", params={"where": 'AmountDue=="lots"'})

    assert [r.status_code for r in (unknown_field, bad_syntax, bad_types)] == [400, 400, 400]
    assert "Colour" in data(unknown_field)["Message"]


def test_malformed_json_is_a_400(api: Api, raw_client: httpx.Client) -> None:
    """§4: a 400 for a body Xero cannot read. The body breaks the spec on purpose, so it is
    sent without spec validation."""
    response = raw_client.put(
        f"{api.sandbox.url}/api.xro/2.0/Contacts",
        content=b'{"Contacts": [',
        headers={
            "Content-Type": "application/json",
            "Authorization": "Bearer x",
            "xero-tenant-id": api.tenant_id or "",
        },
    )

    assert response.status_code == 400
    assert data(response)["Type"] == "PostDataInvalidException"
