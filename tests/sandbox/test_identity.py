"""Contract: OAuth 2.0 consent, tokens, rotation, scopes and connections (notes §5, §4).

Identity calls are not part of the Accounting spec; the Accounting calls made with the tokens
are spec-checked as everywhere else.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from syncledger.sandbox import Sandbox
from tests.sandbox.conftest import Api, data

CLIENT_ID = "sandbox-app"
CLIENT_SECRET = "s3cret"
REDIRECT = "http://localhost:8765/callback"
GRANULAR = (
    "offline_access accounting.invoices accounting.payments accounting.contacts "
    "accounting.settings.read"
)


@pytest.fixture
def closed(start_sandbox: Callable[..., Sandbox]) -> Sandbox:
    """A sandbox that requires client credentials and tokens, with two organisations."""
    return start_sandbox(tenants=2, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)


def authorize(
    client: httpx.Client, sandbox: Sandbox, scope: str = GRANULAR, **extra: str
) -> httpx.Response:
    params = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT,
        "scope": scope,
        "state": "xyz",
        **extra,
    }
    return client.get(f"{sandbox.url}/identity/connect/authorize", params=params)


def code_from(response: httpx.Response) -> str:
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["state"] == ["xyz"]
    return query["code"][0]


def token(
    client: httpx.Client, sandbox: Sandbox, auth: tuple[str, str] | None = None, **form: str
) -> httpx.Response:
    return client.post(
        f"{sandbox.url}/connect/token", data=form, auth=auth or (CLIENT_ID, CLIENT_SECRET)
    )


def login(client: httpx.Client, sandbox: Sandbox, scope: str = GRANULAR, **extra: str) -> Any:
    code = code_from(authorize(client, sandbox, scope, **extra))
    response = token(
        client, sandbox, grant_type="authorization_code", code=code, redirect_uri=REDIRECT
    )
    assert response.status_code == 200, response.text
    return response.json()


def refresh(client: httpx.Client, sandbox: Sandbox, refresh_token: str) -> httpx.Response:
    return token(client, sandbox, grant_type="refresh_token", refresh_token=refresh_token)


def test_the_code_flow_gives_tokens_and_a_connection_per_tenant(
    closed: Sandbox, raw_client: httpx.Client, make_api: Callable[..., Api]
) -> None:
    """§5: authorize → code → token (access_token, expires_in 1800, token_type, refresh_token,
    scope); GET /connections is a bare array of {id, authEventId, tenantId, tenantType,
    tenantName, createdDateUtc, updatedDateUtc}."""
    tokens = login(raw_client, closed)

    connections = raw_client.get(
        f"{closed.url}/connections",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    ).json()
    organisation = make_api(closed, closed.tenant_ids[1], tokens["access_token"]).get(
        "/Organisation"
    )

    assert tokens["expires_in"] == 1800
    assert tokens["token_type"] == "Bearer"
    assert tokens["refresh_token"]
    assert tokens["scope"] == GRANULAR
    assert sorted(c["tenantId"] for c in connections) == sorted(closed.tenant_ids)
    assert {c["tenantType"] for c in connections} == {"ORGANISATION"}
    assert "Demo Company (AU)" in {c["tenantName"] for c in connections}
    assert set(connections[0]) >= {"id", "authEventId", "createdDateUtc", "updatedDateUtc"}
    assert organisation.status_code == 200


def test_consent_can_be_limited_to_one_tenant(closed: Sandbox, raw_client: httpx.Client) -> None:
    """§5: a consent covers the organisations the user picks (here via `tenant`)."""
    tokens = login(raw_client, closed, tenant=closed.tenant_ids[1])

    connections = raw_client.get(
        f"{closed.url}/connections",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    ).json()

    assert [c["tenantId"] for c in connections] == [closed.tenant_ids[1]]


def test_authorize_refuses_an_unknown_client_or_missing_parameters(
    closed: Sandbox, raw_client: httpx.Client
) -> None:
    """§5: the authorize endpoint validates client_id, redirect_uri, response_type and scope."""
    unknown = authorize(raw_client, closed, client_id="someone-else")
    no_redirect = raw_client.get(
        f"{closed.url}/identity/connect/authorize",
        params={"response_type": "code", "client_id": CLIENT_ID, "scope": GRANULAR},
    )
    bad_scope = authorize(raw_client, closed, scope="accounting.everything")

    assert unknown.status_code == 400
    assert no_redirect.status_code == 400
    assert "error=invalid_scope" in bad_scope.headers["Location"]


def test_a_code_is_single_use_and_bound_to_its_redirect_uri(
    closed: Sandbox, raw_client: httpx.Client
) -> None:
    """§5: "The code is single-use and expires in 5 minutes"."""
    code = code_from(authorize(raw_client, closed))

    wrong_redirect = token(
        raw_client, closed, grant_type="authorization_code", code=code, redirect_uri="http://x"
    )
    code = code_from(authorize(raw_client, closed))
    first = token(
        raw_client, closed, grant_type="authorization_code", code=code, redirect_uri=REDIRECT
    )
    second = token(
        raw_client, closed, grant_type="authorization_code", code=code, redirect_uri=REDIRECT
    )

    assert wrong_redirect.json() == {"error": "invalid_grant"}
    assert first.status_code == 200
    assert (second.status_code, second.json()) == (400, {"error": "invalid_grant"})


def test_wrong_client_credentials_are_invalid_client(
    closed: Sandbox, raw_client: httpx.Client
) -> None:
    """§5: the token endpoint authenticates with Basic base64(client_id:client_secret)."""
    response = token(raw_client, closed, auth=(CLIENT_ID, "wrong"), grant_type="client_credentials")

    assert (response.status_code, response.json()) == (400, {"error": "invalid_client"})


def test_the_api_needs_a_valid_bearer_token(
    closed: Sandbox, raw_client: httpx.Client, make_api: Callable[..., Api]
) -> None:
    """§4: 401 {"Type":null,"Title":"Unauthorized","Status":401,"Detail":
    "AuthenticationUnsuccessful"} with WWW-Authenticate. The first request omits the
    Authorization header, which the spec forbids, so it goes unvalidated."""
    missing = raw_client.get(
        f"{closed.url}/api.xro/2.0/Organisation",
        headers={"xero-tenant-id": closed.tenant_ids[0]},
    )
    unknown = make_api(closed, closed.tenant_ids[0], "not-a-token").get("/Organisation")

    for response in (missing, unknown):
        assert response.status_code == 401
        assert "WWW-Authenticate" in response.headers
        body = response.json()
        assert (body["Type"], body["Title"], body["Status"]) == (None, "Unauthorized", 401)
        assert body["Detail"] == "AuthenticationUnsuccessful"


def test_an_expired_access_token_is_401_token_expired(
    start_sandbox: Callable[..., Sandbox], raw_client: httpx.Client, make_api: Callable[..., Api]
) -> None:
    """§5: access tokens last 30 minutes (here 0.6 s); §4: 401 with Detail "TokenExpired..."."""
    sandbox = start_sandbox(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, access_token_ttl_s=0.6
    )
    tokens = login(raw_client, sandbox)
    api = make_api(sandbox, sandbox.tenant_ids[0], tokens["access_token"])

    fresh = api.get("/Organisation")
    time.sleep(0.65)
    expired = api.get("/Organisation")

    assert fresh.status_code == 200
    assert expired.status_code == 401
    assert expired.json()["Detail"].startswith("TokenExpired: token expired at ")


def test_refresh_rotates_and_the_old_token_has_a_grace_period(
    closed: Sandbox, raw_client: httpx.Client, make_api: Callable[..., Api]
) -> None:
    """§5: the refresh token rotates on every refresh; the previous one can be retried within
    the grace period (it answers with a new access token and the same successor)."""
    first = login(raw_client, closed)

    rotated = refresh(raw_client, closed, first["refresh_token"]).json()
    retried = refresh(raw_client, closed, first["refresh_token"]).json()
    onward = refresh(raw_client, closed, rotated["refresh_token"])

    assert rotated["refresh_token"] != first["refresh_token"]
    assert retried["refresh_token"] == rotated["refresh_token"]
    assert retried["access_token"] != rotated["access_token"]
    assert onward.status_code == 200
    api = make_api(closed, closed.tenant_ids[0], retried["access_token"])
    assert api.get("/Organisation").status_code == 200


def test_two_concurrent_refreshes_both_end_with_a_valid_pair(
    closed: Sandbox, make_api: Callable[..., Api]
) -> None:
    """§5: concurrent refreshes by several workers are the classic cause of invalid_grant; with
    the grace period both workers get a working access token and the same refresh token."""
    with httpx.Client(timeout=10.0) as setup:
        tokens = login(setup, closed)
    results: list[httpx.Response] = []
    lock = threading.Lock()
    barrier = threading.Barrier(2)

    def worker() -> None:
        with httpx.Client(timeout=10.0) as client:
            barrier.wait()
            response = refresh(client, closed, tokens["refresh_token"])
        with lock:
            results.append(response)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [r.status_code for r in results] == [200, 200]
    pairs = [r.json() for r in results]
    assert pairs[0]["refresh_token"] == pairs[1]["refresh_token"]
    for pair in pairs:
        api = make_api(closed, closed.tenant_ids[0], pair["access_token"])
        assert api.get("/Organisation").status_code == 200
    with httpx.Client(timeout=10.0) as client:
        assert refresh(client, closed, pairs[0]["refresh_token"]).status_code == 200


def test_a_refresh_token_used_after_its_grace_is_invalid_grant(
    start_sandbox: Callable[..., Sandbox], raw_client: httpx.Client
) -> None:
    """§5: the grace is for lost responses only; afterwards the old token is invalid_grant."""
    sandbox = start_sandbox(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_grace_s=0.2)
    tokens = login(raw_client, sandbox)
    assert refresh(raw_client, sandbox, tokens["refresh_token"]).status_code == 200

    time.sleep(0.3)
    late = refresh(raw_client, sandbox, tokens["refresh_token"])
    unknown = refresh(raw_client, sandbox, "never-issued")

    assert (late.status_code, late.json()) == (400, {"error": "invalid_grant"})
    assert unknown.json() == {"error": "invalid_grant"}


def test_a_custom_connection_needs_no_tenant_header(
    closed: Sandbox, raw_client: httpx.Client, make_api: Callable[..., Api]
) -> None:
    """§5 custom connections: a token from client_id and client_secret alone, bound to one org,
    with no refresh token; "the xero-tenant-id header is not required"."""
    response = token(raw_client, closed, grant_type="client_credentials")
    tokens = response.json()

    api = make_api(closed, None, tokens["access_token"], custom_connection=True)
    organisation = data(api.get("/Organisation"))["Organisations"][0]

    assert response.status_code == 200
    assert "refresh_token" not in tokens
    assert organisation["OrganisationID"] == closed.tenant_ids[0]


def test_a_token_without_the_endpoints_scope_is_refused(
    closed: Sandbox, raw_client: httpx.Client, make_api: Callable[..., Api]
) -> None:
    """§5 scopes: invoices need accounting.invoices (or accounting.transactions); §4: a
    `WWW-Authenticate: Bearer error="insufficient_scope"` header marks a missing scope.
    Without offline_access there is no refresh token."""
    tokens = login(raw_client, closed, scope="accounting.contacts")
    api = make_api(closed, closed.tenant_ids[0], tokens["access_token"])

    contacts = api.get("/Contacts")
    invoices = api.get("/Invoices")

    assert "refresh_token" not in tokens
    assert contacts.status_code == 200
    assert invoices.status_code == 401
    assert 'error="insufficient_scope"' in invoices.headers["WWW-Authenticate"]


def test_broad_scopes_are_still_accepted(
    closed: Sandbox, raw_client: httpx.Client, make_api: Callable[..., Api]
) -> None:
    """§5: pre-2026 apps use accounting.transactions, which covers invoices and payments."""
    scope = "offline_access accounting.transactions accounting.contacts accounting.settings"
    tokens = login(raw_client, closed, scope=scope)
    api = make_api(closed, closed.tenant_ids[0], tokens["access_token"])

    assert api.get("/Invoices").status_code == 200
    assert api.get("/Payments").status_code == 200
    assert api.get("/Accounts").status_code == 200


def test_a_disconnected_tenant_is_forbidden(
    closed: Sandbox, raw_client: httpx.Client, make_api: Callable[..., Api]
) -> None:
    """§5: DELETE /connections/{id} disconnects; §4: later calls for it are 403."""
    tokens = login(raw_client, closed)
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    connections = raw_client.get(f"{closed.url}/connections", headers=auth).json()
    gone = next(c for c in connections if c["tenantId"] == closed.tenant_ids[0])

    deleted = raw_client.delete(f"{closed.url}/connections/{gone['id']}", headers=auth)
    refused = make_api(closed, closed.tenant_ids[0], tokens["access_token"]).get("/Organisation")
    still = make_api(closed, closed.tenant_ids[1], tokens["access_token"]).get("/Organisation")

    assert deleted.status_code == 204
    assert refused.status_code == 403
    assert still.status_code == 200


def test_revoking_a_refresh_token_revokes_its_access_tokens(
    closed: Sandbox, raw_client: httpx.Client, make_api: Callable[..., Api]
) -> None:
    """§5: POST /connect/revocation with token=<refresh_token>."""
    tokens = login(raw_client, closed)

    revoked = raw_client.post(
        f"{closed.url}/connect/revocation",
        data={"token": tokens["refresh_token"]},
        auth=(CLIENT_ID, CLIENT_SECRET),
    )
    after = refresh(raw_client, closed, tokens["refresh_token"])
    api = make_api(closed, closed.tenant_ids[0], tokens["access_token"]).get("/Organisation")

    assert revoked.status_code == 200
    assert after.json() == {"error": "invalid_grant"}
    assert api.status_code == 401


def test_open_mode_accepts_any_caller_and_any_client_id(
    sandbox: Sandbox, raw_client: httpx.Client
) -> None:
    """§0 (sandbox open mode): only a known xero-tenant-id is needed; the identity endpoints
    still work with any client id. The API request has no Authorization header, which the spec
    forbids, so it goes unvalidated."""
    api = raw_client.get(
        f"{sandbox.url}/api.xro/2.0/Organisation",
        headers={"xero-tenant-id": sandbox.tenant_ids[0], "Accept": "application/json"},
    )
    consent = raw_client.get(
        f"{sandbox.url}/identity/connect/authorize",
        params={
            "response_type": "code",
            "client_id": "any-client",
            "redirect_uri": REDIRECT,
            "scope": GRANULAR,
            "state": "xyz",
        },
    )
    issued = raw_client.post(
        f"{sandbox.url}/connect/token",
        data={
            "grant_type": "authorization_code",
            "code": code_from(consent),
            "redirect_uri": REDIRECT,
        },
        auth=("any-client", "anything"),
    )

    assert api.status_code == 200
    assert issued.status_code == 200
    assert issued.json()["refresh_token"]
