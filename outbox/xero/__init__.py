"""Everything that talks to Xero: the Accounting API client (``client``: the named calls, over
``transport``: one call with its headers, limits and record; ``answers``: Xero's answers read
back), the shared pool (``connections``), the identity (OAuth 2.0) client, the classification of
Xero's failures, the tax table read from Xero, and Xero JSON on the wire. The only package
(besides the sandbox) that imports httpx."""

from __future__ import annotations

from outbox.xero.answers import Element
from outbox.xero.client import XeroClient
from outbox.xero.connections import XeroConnections
from outbox.xero.errors import (
    XeroAuthError,
    XeroDuplicateNumberError,
    XeroError,
    XeroNotFoundError,
    XeroRateLimitError,
    XeroRejectedError,
    XeroTransientError,
    classify,
    classify_exception,
    element_errors,
    validation_messages,
)
from outbox.xero.identity import (
    BROAD_SCOPES,
    CUSTOM_BROAD_SCOPES,
    CUSTOM_GRANULAR_SCOPES,
    GRANULAR_SCOPES,
    IdentityUrls,
    Tenant,
    TokenSet,
    XeroIdentity,
)
from outbox.xero.records import CallRecord, Split, response_summary, views
from outbox.xero.shapes import Owners
from outbox.xero.transport import API_PREFIX, Limits, TokenProvider
from outbox.xero.wire import dumps, idempotency_key, loads

__all__ = [
    "API_PREFIX",
    "BROAD_SCOPES",
    "CUSTOM_BROAD_SCOPES",
    "CUSTOM_GRANULAR_SCOPES",
    "GRANULAR_SCOPES",
    "CallRecord",
    "Element",
    "IdentityUrls",
    "Limits",
    "Owners",
    "Split",
    "Tenant",
    "TokenProvider",
    "TokenSet",
    "XeroAuthError",
    "XeroClient",
    "XeroConnections",
    "XeroDuplicateNumberError",
    "XeroError",
    "XeroIdentity",
    "XeroNotFoundError",
    "XeroRateLimitError",
    "XeroRejectedError",
    "XeroTransientError",
    "classify",
    "classify_exception",
    "dumps",
    "element_errors",
    "idempotency_key",
    "loads",
    "response_summary",
    "validation_messages",
    "views",
]
