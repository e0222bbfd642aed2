"""Connecting an organisation to Xero and disconnecting it: a connection recorded by hand or
through OAuth (tokens stored sealed before the ledger records it), the documents issued after the
connection time requested at once, and a disconnection that revokes and forgets the tokens.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from domain.documents import Document, Invoice, Payment
from domain.errors import InvalidRequestError
from domain.organisation import Organisation
from domain.vocabulary import Status
from outbox.tokens import CUSTOM, OAUTH
from outbox.xero import Tenant, XeroError
from projections.status import StatusFilter
from syncledger.bootstrap import System
from syncledger.connect import OAuthRequest, authorize, custom_connection, stored
from syncledger.service.reading import refresh, synced_documents

MANUAL = "manual"
"""The connection method of a connection recorded with a tenant id and no tokens."""


def connect(
    system: System,
    org_id: str,
    xero_url: str,
    tenant_id: str,
    at: datetime | None,
    method: str = MANUAL,
    *,
    switch_tenant: bool = False,
) -> tuple[Organisation, list[str]]:
    """Record a connection; documents already recorded as issued (or paid) at or after its
    time are requested now, as they would have been had the connection come first. Moving the
    organisation to another Xero organisation than its synced documents' is refused unless
    ``switch_tenant``."""
    moment = at or datetime.now(UTC)
    org = system.ledger.connect(
        org_id,
        xero_url,
        tenant_id,
        moment,
        method,
        switch_tenant=switch_tenant,
        synced_documents=synced_documents(system, org_id),
    )
    refresh(system)
    requested: list[str] = []
    policy = org.policy()
    waiting = StatusFilter(org=org_id, status=Status.NOT_ATTEMPTED)
    for view in list(system.status_store.rows(waiting)):
        row = view.row
        if row.note is not None or row.moment is None:
            continue
        document = system.ledger.document(UUID(row.doc_id))
        when = _moment_of(document)
        if when is None or not policy.covers(when):
            continue
        try:
            system.ledger.request_sync(UUID(row.doc_id), "issued after the Xero connection time")
        except InvalidRequestError:
            continue
        requested.append(row.number)
    return org, requested


def _moment_of(document: Document) -> datetime | None:
    if isinstance(document, Invoice):
        return document.issued_at
    if isinstance(document, Payment):
        return document.paid_at
    return None


def connect_oauth(
    system: System,
    org_id: str,
    request: OAuthRequest,
    at: datetime | None,
    *,
    custom: bool,
    echo: Callable[[str], Any],
    choose: Callable[[Sequence[Tenant]], Tenant] | None,
    switch_tenant: bool = False,
) -> tuple[Organisation, list[str], Tenant]:
    """Connect through OAuth (or a custom connection): store the tokens sealed, then record
    the connection in the ledger (a switch of Xero organisation is refused before the tokens
    are stored, unless ``switch_tenant``)."""
    _ = system.tokens.box  # refuse before the browser dance if tokens could not be stored
    if custom:
        tokens, tenant = custom_connection(request, system.xero)
    else:
        tokens, tenant = authorize(request, system.xero, echo, choose)
    method = CUSTOM if custom else OAUTH
    existing = system.ledger.organisation(org_id)
    if existing is not None and not switch_tenant:
        # the same check as ``connect``'s, before the new tokens replace the old ones
        existing.connect(
            request.urls.api,
            tenant.tenant_id,
            at or datetime.now(UTC),
            method,
            synced_documents=synced_documents(system, org_id),
        )
    now = datetime.now(UTC)
    system.tokens.save(stored(org_id, request, tokens, tenant, custom=custom, now=now))
    org, requested = connect(
        system,
        org_id,
        request.urls.api,
        tenant.tenant_id,
        at,
        method,
        switch_tenant=switch_tenant,
    )
    return org, requested, tenant


def disconnect(system: System, org_id: str) -> list[str]:
    """Revoke an organisation's tokens (best effort), forget them, and record the
    disconnection; returns notes on what could not be done at Xero."""
    notes: list[str] = []
    saved = system.tokens.load(org_id) if system.tokens.has(org_id) else None
    if saved is not None:
        identity = system.xero.identity(saved.urls, saved.client_id, saved.client_secret)
        try:
            if saved.connection_id and saved.access_token:
                identity.delete_connection(saved.access_token, saved.connection_id)
            if saved.refresh_token:
                identity.revoke(saved.refresh_token)
        except XeroError as exc:
            notes.append(f"Xero did not confirm the revocation ({exc}); the tokens are forgotten")
        system.tokens.delete(org_id)
    system.ledger.disconnect(org_id, "disconnected by a user")
    return notes
