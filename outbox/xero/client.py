"""The Xero Accounting API client: httpx calls for the operations we use, for one tenant.

Every call is reported to ``on_call`` as a ``CallRecord`` (operation, idempotency key, a summary of
the request and of Xero's answer, status and duration, and which documents each part of it was
for) so the ledger can record it on exactly those documents; tokens and other headers are never
part of a record. The limits Xero reports in its ``X-*-Remaining`` headers go to ``on_limits``.
Failures raise the classified errors of ``outbox.xero.errors``.

``owners`` arguments name the ledger documents a call (or each of its entries) serves.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from outbox.xero.errors import (
    DUPLICATE_MESSAGES,
    XeroDuplicateNumberError,
    XeroRejectedError,
    XeroTransientError,
    classify,
    classify_exception,
    element_errors,
)
from outbox.xero.identity import IdentityUrls, XeroIdentity
from outbox.xero.records import INDEX, CallRecord, Split, response_summary
from outbox.xero.wire import dumps, loads

API_PREFIX = "/api.xro/2.0"


@dataclass(frozen=True)
class Limits:
    """The limits Xero says are left, from the ``X-*-Remaining`` headers of one response."""

    minute: int | None
    day: int | None
    app_minute: int | None


@dataclass(frozen=True)
class Element:
    """One element of a batch answer: Xero's object, and its validation messages if it failed."""

    data: dict[str, Any]
    messages: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.messages

    @property
    def duplicate_number(self) -> bool:
        """True when the element failed only because its number is already used."""
        return bool(self.messages) and all(
            any(d in m for d in DUPLICATE_MESSAGES) for m in self.messages
        )


def _int_header(headers: httpx.Headers, name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


TokenProvider = Callable[[bool], str | None]
"""Returns the access token to use (``True`` asks for a refreshed one), or None for none."""
Owners = Sequence[Sequence[str]]
"""The documents each entry of a call is for, in the order of the entries."""


def _split(
    key: str,
    owners: Owners,
    match: str = INDEX,
    *,
    param: str | None = None,
    render: Callable[[Sequence[Any]], str] | None = None,
) -> Split:
    return Split(key, tuple(tuple(o) for o in owners), match, None, param, render)


def _where(field: str) -> Callable[[Sequence[Any]], str]:
    """Renders a lookup's ``where`` from its terms: ``Field=="a" OR Field=="b"``."""

    def render(terms: Sequence[Any]) -> str:
        return " OR ".join(f'{field}=="{_quote(str(t))}"' for t in terms)

    return render


class XeroClient:
    """Calls Xero's Accounting API for one tenant."""

    def __init__(
        self,
        http: httpx.Client,
        base_url: str,
        tenant_id: str | None,
        *,
        token: TokenProvider | None = None,
        on_call: Callable[[CallRecord], None] | None = None,
        on_limits: Callable[[Limits], None] | None = None,
        pace: Callable[[], None] | None = None,
    ) -> None:
        self.http = http
        self.pace = pace
        self.base_url = base_url.rstrip("/")
        self.tenant_id = tenant_id
        self.token = token
        self.on_call = on_call
        self.on_limits = on_limits

    # plumbing --------------------------------------------------------------------------------

    def _headers(self, key: str | None, refresh: bool) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.tenant_id:
            headers["xero-tenant-id"] = self.tenant_id
        if key:
            headers["Idempotency-Key"] = key
        token = self.token(refresh) if self.token else None
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def _call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        key: str | None = None,
        summary: dict[str, Any] | None = None,
        owners: Sequence[str] = (),
        split: Split | None = None,
    ) -> Any:
        write = method in ("PUT", "POST")
        query = "&".join(f"{k}={v}" for k, v in (params or {}).items())
        record = CallRecord(
            operation=operation,
            method=method,
            path=path + (f"?{query}" if query else ""),
            idempotency_key=key,
            request=summary or {},
            at=datetime.now(UTC).isoformat(timespec="milliseconds"),
            owners=tuple(owners),
            split=split,
            params=dict(params or {}),
        )
        content = dumps(body).encode() if body is not None else None
        refreshed = False
        attempted = False
        started = time.perf_counter()
        try:
            while True:
                headers = self._headers(key, refreshed)
                if content is not None:
                    headers["Content-Type"] = "application/json"
                if self.pace is not None:
                    self.pace()
                if not attempted:
                    started = time.perf_counter()
                attempted = True
                try:
                    response = self.http.request(
                        method,
                        self.base_url + API_PREFIX + path,
                        params=params,
                        content=content,
                        headers=headers,
                    )
                except httpx.HTTPError as exc:
                    error = classify_exception(exc, write=write)
                    record.outcome = str(error)
                    raise error from exc
                self._limits(response)
                if response.status_code == 401 and self.token is not None and not refreshed:
                    refreshed = True
                    continue
                break
            record.status = response.status_code
            failure = classify(response, write=write)
            if failure is not None:
                record.outcome = str(failure)
                record.response = {"messages": list(getattr(failure, "messages", ()))}
                raise failure
            try:
                data = loads(response.text) if response.text else {}
            except ValueError as exc:
                record.outcome = "unreadable response"
                raise XeroTransientError(
                    f"Xero answered {response.status_code} with a body that is not JSON",
                    response.status_code,
                    uncertain=write,
                ) from exc
            record.outcome = "ok"
            record.response = response_summary(data)
            return data
        finally:
            record.duration_ms = round((time.perf_counter() - started) * 1000, 1)
            if attempted and self.on_call is not None:
                self.on_call(record)

    def _limits(self, response: httpx.Response) -> None:
        if self.on_limits is None:
            return
        headers = response.headers
        limits = Limits(
            minute=_int_header(headers, "X-MinLimit-Remaining"),
            day=_int_header(headers, "X-DayLimit-Remaining"),
            app_minute=_int_header(headers, "X-AppMinLimit-Remaining"),
        )
        if limits != Limits(None, None, None):
            self.on_limits(limits)

    @staticmethod
    def _first(data: Any, collection: str) -> dict[str, Any]:
        items = data.get(collection) if isinstance(data, Mapping) else None
        if not items or not isinstance(items[0], Mapping):
            raise XeroTransientError(f"Xero's answer has no {collection}", 200, uncertain=True)
        element: dict[str, Any] = dict(items[0])
        errors = element_errors(element)
        if errors or element.get("HasErrors") or element.get("StatusAttributeString") == "ERROR":
            messages = errors or ["Xero reported an error on this element"]
            if any(d in m for m in messages for d in DUPLICATE_MESSAGES):
                raise XeroDuplicateNumberError(messages)
            raise XeroRejectedError(messages)
        return element

    @staticmethod
    def _elements(data: Any, collection: str, sent: int) -> list[Element]:
        """Every element of a ``summarizeErrors=false`` answer, in the order sent."""
        items = data.get(collection) if isinstance(data, Mapping) else None
        if not isinstance(items, list) or len(items) != sent:
            raise XeroTransientError(
                f"Xero answered with {len(items) if isinstance(items, list) else 'no'} "
                f"{collection} for {sent} sent",
                200,
                uncertain=True,
            )
        elements: list[Element] = []
        for item in items:
            data_item = dict(item) if isinstance(item, Mapping) else {}
            errors = element_errors(data_item)
            failed = bool(
                errors
                or data_item.get("HasErrors")
                or data_item.get("StatusAttributeString") == "ERROR"
            )
            messages = tuple(
                errors or (["Xero reported an error on this element"] if failed else [])
            )
            elements.append(Element(data_item, messages))
        return elements

    def _batch_summary(self, bodies: list[dict[str, Any]], number_field: str) -> dict[str, Any]:
        return {"count": len(bodies), "items": [_document_summary(b, number_field) for b in bodies]}

    @staticmethod
    def _all(data: Any, collection: str) -> list[dict[str, Any]]:
        items = data.get(collection) if isinstance(data, Mapping) else None
        return [dict(i) for i in items or [] if isinstance(i, Mapping)]

    def get(
        self,
        operation: str,
        path: str,
        params: Mapping[str, str] | None = None,
        owners: Sequence[str] = (),
    ) -> Any:
        """Any GET on the Accounting API (``path`` under ``/api.xro/2.0``), parsed with decimals.

        Used for reads the named methods do not cover (listing pages for reconciliation, the
        chart of accounts); failures raise the classified ``XeroError``s."""
        return self._call(
            operation, "GET", path, params=params, summary=dict(params or {}), owners=owners
        )

    def send(self, operation: str, method: str, path: str, body: Any, key: str | None) -> Any:
        """Any other call on the Accounting API (``path`` under ``/api.xro/2.0``), with Xero's
        answer parsed and failures classified. Syncledger's deliveries never use it: it is for
        tools around them (the pre-production check voids what it created with it)."""
        return self._call(operation, method, path, body=body, key=key)

    # the organisation -------------------------------------------------------------------------

    def organisation(self, owners: Sequence[str] = ()) -> dict[str, Any]:
        """The Xero organisation (its name, base currency, lock dates)."""
        return self._first(
            self._call("get_organisation", "GET", "/Organisation", owners=owners), "Organisations"
        )

    def currencies(self, owners: Sequence[str] = ()) -> list[str]:
        """The currency codes the organisation has enabled."""
        data = self._call("get_currencies", "GET", "/Currencies", owners=owners)
        return [str(c.get("Code")) for c in self._all(data, "Currencies") if c.get("Code")]

    def tax_rates(self, owners: Sequence[str] = ()) -> list[dict[str, Any]]:
        """The organisation's tax rates."""
        return self._all(self._call("get_tax_rates", "GET", "/TaxRates", owners=owners), "TaxRates")

    def accounts(self, owners: Sequence[str] = ()) -> list[dict[str, Any]]:
        """The organisation's chart of accounts."""
        return self._all(self._call("list_accounts", "GET", "/Accounts", owners=owners), "Accounts")

    # contacts ---------------------------------------------------------------------------------

    def find_contacts(
        self, *, email: str | None = None, name: str | None = None, owners: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        """Active contacts whose email (or name) equals the one given, case-insensitively."""
        if email:
            where = f'EmailAddress=="{_quote(email)}"'
        elif name:
            where = f'Name=="{_quote(name)}"'
        else:
            return []
        data = self._call(
            "find_contact",
            "GET",
            "/Contacts",
            params={"where": where},
            summary={"email": email, "name": name},
            owners=owners,
        )
        return self._all(data, "Contacts")

    def find_contacts_by_emails(
        self, emails: list[str], owners: Owners | None = None
    ) -> list[dict[str, Any]]:
        """Active contacts whose email is any of ``emails`` (one call: a ``where`` with ORs)."""
        if not emails:
            return []
        render = _where("EmailAddress")
        data = self._call(
            "find_contacts",
            "GET",
            "/Contacts",
            params={"where": render(emails)},
            summary={"emails": emails},
            split=_split(
                "emails", owners or [[]] * len(emails), "EmailAddress", param="where", render=render
            ),
        )
        return self._all(data, "Contacts")

    def find_contacts_by_names(
        self, names: list[str], owners: Owners | None = None
    ) -> list[dict[str, Any]]:
        """Active contacts whose name is any of ``names`` (one call)."""
        if not names:
            return []
        render = _where("Name")
        data = self._call(
            "find_contacts",
            "GET",
            "/Contacts",
            params={"where": render(names)},
            summary={"names": names},
            split=_split(
                "names", owners or [[]] * len(names), "Name", param="where", render=render
            ),
        )
        return self._all(data, "Contacts")

    def create_contacts(
        self, bodies: list[dict[str, Any]], key: str, owners: Owners | None = None
    ) -> list[Element]:
        """Create several contacts in one call; one outcome per contact, in order."""
        data = self._call(
            "create_contacts",
            "PUT",
            "/Contacts",
            params={"summarizeErrors": "false"},
            body={"Contacts": bodies},
            key=key,
            summary={
                "count": len(bodies),
                "items": [{"name": b.get("Name"), "email": b.get("EmailAddress")} for b in bodies],
            },
            split=_split("items", owners or [[]] * len(bodies)),
        )
        return self._elements(data, "Contacts", len(bodies))

    def create_contact(
        self, body: dict[str, Any], key: str, owners: Sequence[str] = ()
    ) -> dict[str, Any]:
        """Create one contact."""
        data = self._call(
            "create_contact",
            "PUT",
            "/Contacts",
            params={"summarizeErrors": "false"},
            body={"Contacts": [body]},
            key=key,
            summary={"name": body.get("Name"), "email": body.get("EmailAddress")},
            owners=owners,
        )
        return self._first(data, "Contacts")

    # invoices ---------------------------------------------------------------------------------

    def find_invoice(self, number: str, owners: Sequence[str] = ()) -> dict[str, Any] | None:
        """The ACCREC invoice with this number, if Xero has one (voided and deleted ones too)."""
        data = self._call(
            "find_invoice",
            "GET",
            "/Invoices",
            params={"InvoiceNumbers": number},
            summary={"number": number},
            owners=owners,
        )
        found = [i for i in self._all(data, "Invoices") if i.get("Type", "ACCREC") == "ACCREC"]
        live = [i for i in found if i.get("Status") not in ("VOIDED", "DELETED")]
        candidates = live or found
        return candidates[0] if candidates else None

    def find_invoices(
        self, numbers: list[str], owners: Owners | None = None
    ) -> list[dict[str, Any]]:
        """The ACCREC invoices with any of these numbers, with their lines (one call)."""
        if not numbers:
            return []
        data = self._call(
            "find_invoices",
            "GET",
            "/Invoices",
            params={"InvoiceNumbers": ",".join(numbers), "page": "1"},
            summary={"numbers": numbers},
            split=_split(
                "numbers",
                owners or [[]] * len(numbers),
                "InvoiceNumber",
                param="InvoiceNumbers",
                render=lambda terms: ",".join(map(str, terms)),
            ),
        )
        return [i for i in self._all(data, "Invoices") if i.get("Type", "ACCREC") == "ACCREC"]

    def get_invoices(self, ids: list[str], owners: Owners | None = None) -> list[dict[str, Any]]:
        """The invoices with these InvoiceIDs, with their lines (one call)."""
        if not ids:
            return []
        data = self._call(
            "get_invoices",
            "GET",
            "/Invoices",
            params={"IDs": ",".join(ids), "page": "1"},
            summary={"ids": ids},
            split=_split(
                "ids",
                owners or [[]] * len(ids),
                "InvoiceID",
                param="IDs",
                render=lambda terms: ",".join(map(str, terms)),
            ),
        )
        return self._all(data, "Invoices")

    def create_invoices(
        self, bodies: list[dict[str, Any]], key: str, owners: Owners | None = None
    ) -> list[Element]:
        """Create several invoices in one call; one outcome per invoice, in order."""
        data = self._call(
            "create_invoices",
            "PUT",
            "/Invoices",
            params={"summarizeErrors": "false", "unitdp": "4"},
            body={"Invoices": bodies},
            key=key,
            summary=self._batch_summary(bodies, "InvoiceNumber"),
            split=_split("items", owners or [[]] * len(bodies)),
        )
        return self._elements(data, "Invoices", len(bodies))

    def get_invoice(self, invoice_id: str, owners: Sequence[str] = ()) -> dict[str, Any]:
        """One invoice by InvoiceID."""
        data = self._call(
            "get_invoice",
            "GET",
            f"/Invoices/{invoice_id}",
            summary={"invoice_id": invoice_id},
            owners=owners,
        )
        return self._first(data, "Invoices")

    def create_invoice(
        self, body: dict[str, Any], key: str, owners: Sequence[str] = ()
    ) -> dict[str, Any]:
        """Create one invoice."""
        data = self._call(
            "create_invoice",
            "PUT",
            "/Invoices",
            params={"summarizeErrors": "false", "unitdp": "4"},
            body={"Invoices": [body]},
            key=key,
            summary=_document_summary(body, "InvoiceNumber"),
            owners=owners,
        )
        return self._first(data, "Invoices")

    def update_invoice(
        self, invoice_id: str, body: dict[str, Any], key: str, owners: Sequence[str] = ()
    ) -> dict[str, Any]:
        """Edit one invoice (its lines, dates, reference; or its status to DELETED)."""
        data = self._call(
            "update_invoice",
            "POST",
            f"/Invoices/{invoice_id}",
            params={"unitdp": "4"},
            body={"Invoices": [body]},
            key=key,
            summary={"invoice_id": invoice_id, **_document_summary(body, "InvoiceNumber")},
            owners=owners,
        )
        return self._first(data, "Invoices")

    # credit notes -----------------------------------------------------------------------------

    def find_credit_note(self, number: str, owners: Sequence[str] = ()) -> dict[str, Any] | None:
        """The credit note with this number, if Xero has one."""
        data = self._call(
            "find_credit_note",
            "GET",
            "/CreditNotes",
            params={"where": f'CreditNoteNumber=="{_quote(number)}"'},
            summary={"number": number},
            owners=owners,
        )
        found = self._all(data, "CreditNotes")
        live = [c for c in found if c.get("Status") not in ("VOIDED", "DELETED")]
        return live[0] if live else None

    def create_credit_note(
        self, body: dict[str, Any], key: str, owners: Sequence[str] = ()
    ) -> dict[str, Any]:
        """Create one credit note."""
        data = self._call(
            "create_credit_note",
            "PUT",
            "/CreditNotes",
            params={"summarizeErrors": "false", "unitdp": "4"},
            body={"CreditNotes": [body]},
            key=key,
            summary=_document_summary(body, "CreditNoteNumber"),
            owners=owners,
        )
        return self._first(data, "CreditNotes")

    def allocate_credit_note(
        self, credit_note_id: str, body: dict[str, Any], key: str, owners: Sequence[str] = ()
    ) -> dict[str, Any]:
        """Allocate part of a credit note to an invoice."""
        data = self._call(
            "allocate_credit_note",
            "PUT",
            f"/CreditNotes/{credit_note_id}/Allocations",
            params={"summarizeErrors": "false"},
            body={"Allocations": [body]},
            key=key,
            summary={
                "credit_note_id": credit_note_id,
                "invoice_id": body["Invoice"]["InvoiceID"],
                "amount": str(body["Amount"]),
            },
            owners=owners,
        )
        return self._first(data, "Allocations")

    # payments ---------------------------------------------------------------------------------

    def find_payments(self, reference: str, owners: Sequence[str] = ()) -> list[dict[str, Any]]:
        """Payments with this Reference (ours name the OpenSolar payment)."""
        data = self._call(
            "find_payment",
            "GET",
            "/Payments",
            params={"where": f'Reference=="{_quote(reference)}"'},
            summary={"reference": reference},
            owners=owners,
        )
        return [p for p in self._all(data, "Payments") if p.get("Status") != "DELETED"]

    def find_payments_by_references(
        self, references: list[str], owners: Owners | None = None
    ) -> list[dict[str, Any]]:
        """Payments with any of these References (one call)."""
        if not references:
            return []
        render = _where("Reference")
        data = self._call(
            "find_payments",
            "GET",
            "/Payments",
            params={"where": render(references)},
            summary={"references": references},
            split=_split(
                "references",
                owners or [[]] * len(references),
                "Reference",
                param="where",
                render=render,
            ),
        )
        return [p for p in self._all(data, "Payments") if p.get("Status") != "DELETED"]

    def create_payments(
        self, bodies: list[dict[str, Any]], key: str, owners: Owners | None = None
    ) -> list[Element]:
        """Apply several payments in one call; one outcome per payment, in order."""
        data = self._call(
            "create_payments",
            "PUT",
            "/Payments",
            params={"summarizeErrors": "false"},
            body={"Payments": bodies},
            key=key,
            summary={
                "count": len(bodies),
                "items": [
                    {
                        "invoice_id": b["Invoice"].get("InvoiceID"),
                        "amount": str(b["Amount"]),
                        "reference": b.get("Reference"),
                    }
                    for b in bodies
                ],
            },
            split=_split("items", owners or [[]] * len(bodies)),
        )
        return self._elements(data, "Payments", len(bodies))

    def create_payment(
        self, body: dict[str, Any], key: str, owners: Sequence[str] = ()
    ) -> dict[str, Any]:
        """Apply one payment to an invoice."""
        data = self._call(
            "create_payment",
            "PUT",
            "/Payments",
            params={"summarizeErrors": "false"},
            body={"Payments": [body]},
            key=key,
            summary={
                "invoice_id": body["Invoice"].get("InvoiceID"),
                "account": body["Account"].get("Code"),
                "amount": str(body["Amount"]),
                "date": body.get("Date"),
                "reference": body.get("Reference"),
            },
            owners=owners,
        )
        return self._first(data, "Payments")

    def delete_payment(
        self, payment_id: str, key: str, owners: Sequence[str] = ()
    ) -> dict[str, Any]:
        """Delete a payment (Xero's only change to a payment)."""
        data = self._call(
            "delete_payment",
            "POST",
            f"/Payments/{payment_id}",
            body={"Status": "DELETED"},
            key=key,
            summary={"payment_id": payment_id, "status": "DELETED"},
            owners=owners,
        )
        return self._first(data, "Payments")


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _document_summary(body: Mapping[str, Any], number_field: str) -> dict[str, Any]:
    lines = body.get("LineItems") or []
    return {
        "number": body.get(number_field),
        "contact_id": (body.get("Contact") or {}).get("ContactID"),
        "status": body.get("Status"),
        "line_amount_types": body.get("LineAmountTypes"),
        "lines": [
            {
                "account": line.get("AccountCode"),
                "tax_type": line.get("TaxType"),
                "quantity": str(line.get("Quantity")),
                "unit_amount": str(line.get("UnitAmount")),
            }
            for line in lines
        ],
    }


class XeroConnections:
    """The process's shared HTTP connection pool to Xero, and a ``XeroClient`` per tenant."""

    def __init__(
        self,
        timeout: float = 30.0,
        event_hooks: Mapping[str, list[Callable[..., Any]]] | None = None,
    ) -> None:
        self.timeout = timeout
        self.event_hooks = dict(event_hooks or {})
        self._http: httpx.Client | None = None

    def http(self) -> httpx.Client:
        """The shared pool (opened on first use)."""
        if self._http is None:
            self._http = httpx.Client(
                timeout=httpx.Timeout(self.timeout),
                limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
                event_hooks=self.event_hooks,
            )
        return self._http

    def client(
        self,
        base_url: str,
        tenant_id: str | None,
        *,
        token: TokenProvider | None = None,
        on_call: Callable[[CallRecord], None] | None = None,
        on_limits: Callable[[Limits], None] | None = None,
        pace: Callable[[], None] | None = None,
    ) -> XeroClient:
        """A client for one tenant, sharing the pool."""
        return XeroClient(
            self.http(),
            base_url,
            tenant_id,
            token=token,
            on_call=on_call,
            on_limits=on_limits,
            pace=pace,
        )

    def identity(self, urls: IdentityUrls, client_id: str, client_secret: str) -> XeroIdentity:
        """The identity service for one app, sharing the pool."""
        return XeroIdentity(self.http(), urls, client_id, client_secret)

    def close(self) -> None:
        """Close the pool (a later ``client`` opens a new one)."""
        if self._http is not None:
            self._http.close()
            self._http = None
