"""The identity service's records: authorisation codes, grants (Xero's "auth events"), the
connections they make, access and refresh tokens, and the JWT-shaped text of a token. The
rules that create and check them are in ``syncledger.sandbox.identity``."""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Code:
    """An authorisation code: single use, for one client, redirect URI and consent."""

    code: str
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    tenant_ids: tuple[str, ...]
    expires_at: float
    used: bool = False


@dataclass
class Connection:
    """A client's connection to one tenant, made (or renewed) by a grant."""

    connection_id: str
    client_id: str
    tenant_id: str
    auth_event_id: str
    created_at: float
    updated_at: float
    active: bool = True


@dataclass
class Grant:
    """One consent (Xero's "auth event"): its scopes and a connection per tenant."""

    grant_id: str
    client_id: str
    kind: str
    scopes: tuple[str, ...]
    connections: dict[str, str]
    revoked: bool = False
    user_id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class AccessToken:
    """An access token and when it expires."""

    token: str
    grant_id: str
    expires_at: float


@dataclass
class RefreshToken:
    """A refresh token; once used, its successor and when it was first used."""

    token: str
    grant_id: str
    issued_at: float
    used_at: float | None = None
    successor: str | None = None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwt(claims: dict[str, Any]) -> str:
    """A JWT-shaped opaque token (Xero's tokens are JWTs; the signature is random here)."""
    header = {"alg": "RS256", "kid": "sandbox", "typ": "JWT"}
    return ".".join(
        (
            _b64(json.dumps(header, separators=(",", ":")).encode()),
            _b64(json.dumps(claims, separators=(",", ":")).encode()),
            _b64(secrets.token_bytes(32)),
        )
    )


def utc_text(epoch: float) -> str:
    """A moment as the connections endpoint writes it (seven decimals, no zone)."""
    moment = dt.datetime.fromtimestamp(epoch, tz=dt.UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds") + "0"
