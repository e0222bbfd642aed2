"""The identity service's HTTP endpoints, at Xero's own paths (notes §5).

`GET /identity/connect/authorize` consents automatically (to every tenant, or the one named by
the sandbox-only `tenant` parameter) and redirects with a code; `POST /connect/token` serves the
`authorization_code`, `refresh_token` and `client_credentials` grants with HTTP Basic client
authentication; `POST /connect/revocation` revokes; `GET /connections` and
`DELETE /connections/{id}` list and remove connections. OAuth errors are `{"error": ...}`.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qsl, urlencode, urlsplit

from syncledger.sandbox import scopes
from syncledger.sandbox.errors import GrantError
from syncledger.sandbox.exchange import (
    Request,
    Response,
    html_response,
    json_response,
    not_found,
)
from syncledger.sandbox.identity import Identity
from syncledger.sandbox.tenants import Tenants

AUTHORIZE_PATH = "/identity/connect/authorize"
TOKEN_PATH = "/connect/token"  # noqa: S105 - a path, not a secret
REVOCATION_PATH = "/connect/revocation"
CONNECTIONS_PATH = "/connections"


def _redirect(uri: str, params: dict[str, str]) -> Response:
    separator = "&" if urlsplit(uri).query else "?"
    location = f"{uri}{separator}{urlencode(params)}"
    return Response(302, b"", None, [("Location", location), ("Cache-Control", "no-store")])


def _valid_redirect(uri: str | None) -> bool:
    if not uri:
        return False
    parts = urlsplit(uri)
    return parts.scheme in {"http", "https"} and bool(parts.netloc) and not parts.fragment


def authorize(identity: Identity, tenants: Tenants, request: Request) -> Response:
    """GET /identity/connect/authorize: validate, consent, redirect with a code."""
    client_id = request.param("client_id")
    redirect_uri = request.param("redirect_uri")
    if client_id is None or not identity.known_client(client_id):
        return html_response(400, "unauthorized_client", "Unknown or missing client_id.")
    if redirect_uri is None or not _valid_redirect(redirect_uri):
        return html_response(400, "invalid_request", "Missing or invalid redirect_uri.")
    missing = [name for name in ("response_type", "scope") if not request.param(name)]
    if missing:
        return html_response(400, "invalid_request", f"Missing parameter: {', '.join(missing)}.")
    state = request.param("state")
    extra = {"state": state} if state is not None else {}
    if request.param("response_type") != "code":
        return _redirect(redirect_uri, {"error": "unsupported_response_type", **extra})
    wanted = scopes.parse(request.param("scope") or "")
    if any(scope not in scopes.KNOWN for scope in wanted):
        return _redirect(redirect_uri, {"error": "invalid_scope", **extra})
    tenant = request.param("tenant")
    if tenant:
        if not tenants.exists(tenant):
            return _redirect(redirect_uri, {"error": "access_denied", **extra})
        chosen = [tenant.strip().lower()]
    else:
        chosen = tenants.ids()
    code = identity.issue_code(client_id, redirect_uri, wanted, chosen, request.received_at)
    return _redirect(redirect_uri, {"code": code, "scope": " ".join(wanted), **extra})


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str | None, str | None]:
    header = request.header("Authorization") or ""
    if header[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        client_id, _, secret = decoded.partition(":")
        return client_id or None, secret
    return form.get("client_id"), form.get("client_secret")


def _form(request: Request) -> dict[str, str]:
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        return {}
    return dict(parse_qsl(text, keep_blank_values=True))


def _oauth_error(error: GrantError) -> Response:
    payload = {"error": error.code}
    if error.description:
        payload["error_description"] = error.description
    return json_response(400, payload, [("Cache-Control", "no-store")])


def token(identity: Identity, request: Request) -> Response:
    """POST /connect/token."""
    form = _form(request)
    client_id, secret = _client_credentials(request, form)
    now = request.received_at
    try:
        identity.check_client(client_id, secret)
        if client_id is None:
            raise GrantError("invalid_client")
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            code = form.get("code")
            if not code:
                raise GrantError("invalid_request", "code is required")
            payload = identity.exchange_code(client_id, code, form.get("redirect_uri"), now)
        elif grant_type == "refresh_token":
            refresh = form.get("refresh_token")
            if not refresh:
                raise GrantError("invalid_request", "refresh_token is required")
            payload = identity.refresh(client_id, refresh, now)
        elif grant_type == "client_credentials":
            payload = identity.client_credentials(
                client_id, form.get("scope"), form.get("tenant_id"), now
            )
        else:
            raise GrantError("unsupported_grant_type")
    except GrantError as exc:
        return _oauth_error(exc)
    return json_response(200, payload, [("Cache-Control", "no-store"), ("Pragma", "no-cache")])


def revocation(identity: Identity, request: Request) -> Response:
    """POST /connect/revocation: revoke a refresh token and everything issued with it."""
    form = _form(request)
    client_id, secret = _client_credentials(request, form)
    try:
        identity.check_client(client_id, secret)
    except GrantError as exc:
        return _oauth_error(exc)
    target = form.get("token")
    if not target:
        return _oauth_error(GrantError("invalid_request", "token is required"))
    identity.revoke(client_id or "", target)
    return Response(200, b"", None, [])


def connections(identity: Identity, request: Request, path: str) -> Response:
    """GET /connections and DELETE /connections/{id}."""
    rest = path[len(CONNECTIONS_PATH) :].strip("/")
    if request.method == "GET" and not rest:
        result = identity.connections(request, request.received_at, request.param("authEventId"))
        if isinstance(result, Response):
            return result
        return json_response(200, result)
    if request.method == "DELETE" and rest and "/" not in rest:
        outcome = identity.disconnect(request, rest, request.received_at)
        if isinstance(outcome, Response):
            return outcome
        return Response(204) if outcome else not_found()
    return not_found()
