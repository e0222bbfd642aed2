"""The Accounting API's route table: which handler and which scopes serve each method and path.

Paths are matched after `/api.xro/2.0/`, case-insensitively (Xero accepts `/invoices` as well as
`/Invoices`); `*` marks a path parameter (an id or a document number).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from syncledger.sandbox import (
    contacts,
    creditnotes,
    currencies,
    invoices,
    payments,
    scopes,
    settings,
)
from syncledger.sandbox.call import Call
from syncledger.sandbox.exchange import Response

API_PREFIX = "/api.xro/2.0/"

Handler = Callable[[Call, Sequence[str]], Response]


@dataclass(frozen=True)
class Route:
    """One operation of the API."""

    method: str
    segments: tuple[str, ...]
    handler: Handler
    scopes: frozenset[str]

    @property
    def writes(self) -> bool:
        """Whether the operation may change the ledger."""
        return self.method in {"PUT", "POST", "DELETE"}


def _route(method: str, path: str, handler: Handler, needed: frozenset[str]) -> Route:
    return Route(method, tuple(path.lower().split("/")), handler, needed)


ROUTES: tuple[Route, ...] = (
    _route("GET", "contacts", contacts.list_contacts, scopes.CONTACTS_READ),
    _route("PUT", "contacts", contacts.put_contacts, scopes.CONTACTS_WRITE),
    _route("POST", "contacts", contacts.post_contacts, scopes.CONTACTS_WRITE),
    _route("GET", "contacts/*", contacts.get_contact, scopes.CONTACTS_READ),
    _route("POST", "contacts/*", contacts.post_contact, scopes.CONTACTS_WRITE),
    _route("GET", "invoices", invoices.list_invoices, scopes.INVOICES_READ),
    _route("PUT", "invoices", invoices.put_invoices, scopes.INVOICES_WRITE),
    _route("POST", "invoices", invoices.post_invoices, scopes.INVOICES_WRITE),
    _route("GET", "invoices/*", invoices.get_invoice, scopes.INVOICES_READ),
    _route("POST", "invoices/*", invoices.post_invoice, scopes.INVOICES_WRITE),
    _route("GET", "creditnotes", creditnotes.list_credit_notes, scopes.INVOICES_READ),
    _route("PUT", "creditnotes", creditnotes.put_credit_notes, scopes.INVOICES_WRITE),
    _route("POST", "creditnotes", creditnotes.post_credit_notes, scopes.INVOICES_WRITE),
    _route("GET", "creditnotes/*", creditnotes.get_credit_note, scopes.INVOICES_READ),
    _route("POST", "creditnotes/*", creditnotes.post_credit_note, scopes.INVOICES_WRITE),
    _route("PUT", "creditnotes/*/allocations", creditnotes.put_allocations, scopes.INVOICES_WRITE),
    _route(
        "DELETE",
        "creditnotes/*/allocations/*",
        creditnotes.delete_allocation,
        scopes.INVOICES_WRITE,
    ),
    _route("GET", "payments", payments.list_payments, scopes.PAYMENTS_READ),
    _route("PUT", "payments", payments.put_payments, scopes.PAYMENTS_WRITE),
    _route("POST", "payments", payments.post_payments, scopes.PAYMENTS_WRITE),
    _route("GET", "payments/*", payments.get_payment, scopes.PAYMENTS_READ),
    _route("POST", "payments/*", payments.post_payment, scopes.PAYMENTS_WRITE),
    _route("GET", "accounts", settings.list_accounts, scopes.SETTINGS_READ),
    _route("PUT", "accounts", settings.put_account, scopes.SETTINGS_WRITE),
    _route("GET", "accounts/*", settings.get_account, scopes.SETTINGS_READ),
    _route("POST", "accounts/*", settings.post_account, scopes.SETTINGS_WRITE),
    _route("GET", "taxrates", settings.list_tax_rates, scopes.SETTINGS_READ),
    _route("GET", "organisation", settings.get_organisation, scopes.SETTINGS_READ),
    _route("GET", "currencies", currencies.list_currencies, scopes.SETTINGS_READ),
    _route("PUT", "currencies", currencies.put_currency, scopes.SETTINGS_WRITE),
)


def match(method: str, path: str) -> tuple[Route, list[str]] | None:
    """The route for `method` and a full request path, with its path parameters."""
    if not path.lower().startswith(API_PREFIX):
        return None
    parts = [part for part in path[len(API_PREFIX) :].split("/") if part]
    lookup = "GET" if method == "HEAD" else method
    for route in ROUTES:
        if route.method != lookup or len(route.segments) != len(parts):
            continue
        args: list[str] = []
        for pattern, part in zip(route.segments, parts, strict=True):
            if pattern == "*":
                args.append(unquote(part))
            elif pattern != part.lower():
                break
        else:
            return route, args
    return None
