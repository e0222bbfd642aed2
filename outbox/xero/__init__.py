"""Everything that talks to Xero: the Accounting API client, the identity (OAuth 2.0) client,
the classification of Xero's failures, and Xero JSON on the wire. The only package (besides the
sandbox) that imports httpx."""

from __future__ import annotations

from outbox.xero.client import (
    API_PREFIX,
    Element,
    Limits,
    Owners,
    TokenProvider,
    XeroClient,
    XeroConnections,
)
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
