"""The Xero Accounting API client: httpx calls for the operations we use, with every failure
classified once, here, at the boundary.

    XeroError
    ├── XeroTransientError       worth retrying: timeouts, connection errors, 5xx
    │   │                        (``uncertain`` when the write may have happened anyway)
    │   └── XeroRateLimitError   429, with ``retry_after`` and ``problem`` (minute, day, ...)
    ├── XeroRejectedError        400: Xero refused the request; ``messages`` are Xero's own
    │   └── XeroDuplicateNumberError   "Invoice # must be unique." and its kind
    ├── XeroNotFoundError        404
    └── XeroAuthError            401 (after a refresh) and 403: the connection is unusable

Every call is reported to ``on_call`` as a ``CallRecord`` (operation, idempotency key, a summary of
the request and of Xero's answer, status and duration) so the ledger can record it; tokens and
other headers are never part of a record. Amounts are ``Decimal`` both ways: bodies are written by
``dumps`` (numbers from decimals, keys sorted, so the same payload always gives the same bytes) and
read with ``parse_float=Decimal``.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import httpx

API_PREFIX = "/api.xro/2.0"
MAX_KEY_LENGTH = 128
DUPLICATE_MESSAGES = ("must be unique", "already been used", "already exists")


class XeroError(Exception):
    """Base of every error the Xero client raises."""

    status: int | None = None

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class XeroTransientError(XeroError):
    """A failure worth retrying; ``uncertain`` if the write may nevertheless have happened."""

    def __init__(self, message: str, status: int | None = None, *, uncertain: bool) -> None:
        super().__init__(message, status)
        self.uncertain = uncertain


class XeroRateLimitError(XeroTransientError):
    """429: a Xero limit was reached; nothing was written."""

    def __init__(self, message: str, retry_after: float, problem: str) -> None:
        super().__init__(message, 429, uncertain=False)
        self.retry_after = retry_after
        self.problem = problem

    @property
    def is_daily(self) -> bool:
        """True when the organisation's daily limit is the one reached."""
        return self.problem.lower().startswith("day")


class XeroRejectedError(XeroError):
    """Xero refused the request; ``messages`` are Xero's validation messages."""

    def __init__(self, messages: Sequence[str], status: int = 400) -> None:
        self.messages = tuple(messages) or ("Xero rejected the request",)
        super().__init__("; ".join(self.messages), status)


class XeroDuplicateNumberError(XeroRejectedError):
    """The document number is already used in Xero ("Invoice # must be unique.")."""


class XeroNotFoundError(XeroError):
    """404: the resource does not exist."""


class XeroAuthError(XeroError):
    """401 or 403: the token or the connection to this tenant is not accepted."""


@dataclass(frozen=True)
class Limits:
    """The limits Xero says are left, from the ``X-*-Remaining`` headers of one response."""

    minute: int | None
    day: int | None
    app_minute: int | None


@dataclass
class CallRecord:
    """One HTTP call to Xero, as the ledger records it (never tokens or headers)."""

    operation: str
    method: str
    path: str
    idempotency_key: str | None
    request: dict[str, Any]
    status: int | None = None
    outcome: str = ""
    response: dict[str, Any] = field(default_factory=dict)
    duration_ms: float = 0.0
    at: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The record as plain JSON data."""
        return {
            "operation": self.operation,
            "method": self.method,
            "path": self.path,
            "idempotency_key": self.idempotency_key,
            "request": self.request,
            "status": self.status,
            "outcome": self.outcome,
            "response": self.response,
            "duration_ms": self.duration_ms,
            "at": self.at,
        }


def dumps(value: Any) -> str:
    """Canonical JSON: keys sorted, no spaces, ``Decimal`` as a plain number."""
    if isinstance(value, Mapping):
        items = (f"{json.dumps(str(k))}:{dumps(v)}" for k, v in sorted(value.items()))
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite amount: {value}")
        return format(value, "f")
    if isinstance(value, bool | int | str) or value is None:
        return json.dumps(value, ensure_ascii=False)
    raise TypeError(f"cannot write {type(value).__name__} to Xero JSON")


def idempotency_key(
    tenant_id: str, operation: str, document: UUID | str, generation: str, body: Any
) -> str:
    """A deterministic ``Idempotency-Key`` for one delivery attempt of one payload (≤128 chars)."""
    digest = hashlib.sha256(
        "\x1f".join((tenant_id, operation, str(document), generation, dumps(body))).encode()
    ).hexdigest()
    return f"syncledger-{operation}-{digest}"[:MAX_KEY_LENGTH]


def loads(text: str) -> Any:
    """Parse a Xero JSON body with decimals for numbers."""
    return json.loads(text, parse_float=Decimal)


def _int_header(headers: httpx.Headers, name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _retry_after(headers: httpx.Headers) -> float:
    value = headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return 60.0


def validation_messages(body: Any) -> list[str]:
    """Xero's messages from an error body (ValidationException or a plain Message/Detail)."""
    messages: list[str] = []
    if isinstance(body, Mapping):
        for element in body.get("Elements") or []:
            if isinstance(element, Mapping):
                for error in element.get("ValidationErrors") or []:
                    if isinstance(error, Mapping) and error.get("Message"):
                        messages.append(str(error["Message"]))
        if not messages:
            for key in ("Message", "Detail", "Title", "error"):
                if body.get(key):
                    messages.append(str(body[key]))
                    break
    return list(dict.fromkeys(messages))


def element_errors(element: Mapping[str, Any]) -> list[str]:
    """The validation messages carried by one element of a ``summarizeErrors=false`` response."""
    errors = element.get("ValidationErrors") or []
    return [str(e["Message"]) for e in errors if isinstance(e, Mapping) and e.get("Message")]


def classify(response: httpx.Response, *, write: bool) -> XeroError | None:
    """The error a response means, or None for success (the one status-code mapping)."""
    status = response.status_code
    if 200 <= status < 300:
        return None
    text = response.text
    try:
        body = loads(text) if text else None
    except ValueError:
        body = None
    reason = response.reason_phrase or ""
    if status == 400:
        messages = validation_messages(body) or [text.strip()[:500] or "Bad Request"]
        if any(m for m in messages if any(d in m for d in DUPLICATE_MESSAGES)):
            return XeroDuplicateNumberError(messages, status)
        return XeroRejectedError(messages, status)
    if status in (401, 403):
        detail = "; ".join(validation_messages(body)) or reason
        return XeroAuthError(f"{status} {reason}: {detail}".strip(": "), status)
    if status == 404:
        return XeroNotFoundError(f"404 {reason}: {text.strip()[:200]}", status)
    if status == 429:
        problem = response.headers.get("X-Rate-Limit-Problem", "minute") or "minute"
        return XeroRateLimitError(
            f"429 Too Many Requests ({problem} limit)", _retry_after(response.headers), problem
        )
    if status >= 500:
        detail = "; ".join(validation_messages(body)) or text.strip()[:200]
        message = f"{status} {reason}" + (f": {detail}" if detail and detail != reason else "")
        return XeroTransientError(message, status, uncertain=write and status != 503)
    messages = validation_messages(body) or [f"{status} {reason}"]
    return XeroRejectedError(messages, status)


def classify_exception(exc: httpx.HTTPError, *, write: bool) -> XeroError:
    """The error a transport failure means (the one httpx-exception mapping)."""
    name = type(exc).__name__
    if isinstance(exc, httpx.ConnectTimeout | httpx.ConnectError | httpx.PoolTimeout):
        return XeroTransientError(f"could not reach Xero ({name}: {exc})", uncertain=False)
    if isinstance(exc, httpx.TimeoutException):
        return XeroTransientError(f"timed out waiting for Xero ({name})", uncertain=write)
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return XeroTransientError(
            f"the connection to Xero was lost before an answer ({name}: {exc})", uncertain=write
        )
    if isinstance(exc, httpx.TransportError):
        return XeroTransientError(f"network error talking to Xero ({name}: {exc})", uncertain=write)
    return XeroTransientError(f"HTTP error talking to Xero ({name}: {exc})", uncertain=write)


TokenProvider = Callable[[bool], str | None]
"""Returns the access token to use (``True`` asks for a refreshed one), or None for none."""


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
    ) -> None:
        self.http = http
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
        )
        content = dumps(body).encode() if body is not None else None
        refreshed = False
        started = time.perf_counter()
        try:
            while True:
                headers = self._headers(key, refreshed)
                if content is not None:
                    headers["Content-Type"] = "application/json"
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
            if self.on_call is not None:
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
    def _all(data: Any, collection: str) -> list[dict[str, Any]]:
        items = data.get(collection) if isinstance(data, Mapping) else None
        return [dict(i) for i in items or [] if isinstance(i, Mapping)]

    def get(
        self, operation: str, path: str, params: Mapping[str, str] | None = None
    ) -> Any:
        """Any GET on the Accounting API (``path`` under ``/api.xro/2.0``), parsed with decimals.

        Used for reads the named methods do not cover (listing pages for reconciliation, the
        chart of accounts); failures raise the classified ``XeroError``s."""
        return self._call(operation, "GET", path, params=params, summary=dict(params or {}))

    # contacts ---------------------------------------------------------------------------------

    def find_contacts(
        self, *, email: str | None = None, name: str | None = None
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
        )
        return self._all(data, "Contacts")

    def create_contact(self, body: dict[str, Any], key: str) -> dict[str, Any]:
        """Create one contact."""
        data = self._call(
            "create_contact",
            "PUT",
            "/Contacts",
            params={"summarizeErrors": "false"},
            body={"Contacts": [body]},
            key=key,
            summary={"name": body.get("Name"), "email": body.get("EmailAddress")},
        )
        return self._first(data, "Contacts")

    # invoices ---------------------------------------------------------------------------------

    def find_invoice(self, number: str) -> dict[str, Any] | None:
        """The ACCREC invoice with this number, if Xero has one (voided and deleted ones too)."""
        data = self._call(
            "find_invoice",
            "GET",
            "/Invoices",
            params={"InvoiceNumbers": number},
            summary={"number": number},
        )
        found = [i for i in self._all(data, "Invoices") if i.get("Type", "ACCREC") == "ACCREC"]
        live = [i for i in found if i.get("Status") not in ("VOIDED", "DELETED")]
        candidates = live or found
        return candidates[0] if candidates else None

    def get_invoice(self, invoice_id: str) -> dict[str, Any]:
        """One invoice by InvoiceID."""
        data = self._call(
            "get_invoice", "GET", f"/Invoices/{invoice_id}", summary={"invoice_id": invoice_id}
        )
        return self._first(data, "Invoices")

    def create_invoice(self, body: dict[str, Any], key: str) -> dict[str, Any]:
        """Create one invoice."""
        data = self._call(
            "create_invoice",
            "PUT",
            "/Invoices",
            params={"summarizeErrors": "false", "unitdp": "4"},
            body={"Invoices": [body]},
            key=key,
            summary=_document_summary(body, "InvoiceNumber"),
        )
        return self._first(data, "Invoices")

    # credit notes -----------------------------------------------------------------------------

    def find_credit_note(self, number: str) -> dict[str, Any] | None:
        """The credit note with this number, if Xero has one."""
        data = self._call(
            "find_credit_note",
            "GET",
            "/CreditNotes",
            params={"where": f'CreditNoteNumber=="{_quote(number)}"'},
            summary={"number": number},
        )
        found = self._all(data, "CreditNotes")
        live = [c for c in found if c.get("Status") not in ("VOIDED", "DELETED")]
        return live[0] if live else None

    def create_credit_note(self, body: dict[str, Any], key: str) -> dict[str, Any]:
        """Create one credit note."""
        data = self._call(
            "create_credit_note",
            "PUT",
            "/CreditNotes",
            params={"summarizeErrors": "false", "unitdp": "4"},
            body={"CreditNotes": [body]},
            key=key,
            summary=_document_summary(body, "CreditNoteNumber"),
        )
        return self._first(data, "CreditNotes")

    def allocate_credit_note(
        self, credit_note_id: str, body: dict[str, Any], key: str
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
        )
        return self._first(data, "Allocations")

    # payments ---------------------------------------------------------------------------------

    def find_payments(self, reference: str) -> list[dict[str, Any]]:
        """Payments with this Reference (ours name the OpenSolar payment)."""
        data = self._call(
            "find_payment",
            "GET",
            "/Payments",
            params={"where": f'Reference=="{_quote(reference)}"'},
            summary={"reference": reference},
        )
        return [p for p in self._all(data, "Payments") if p.get("Status") != "DELETED"]

    def create_payment(self, body: dict[str, Any], key: str) -> dict[str, Any]:
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
        )
        return self._first(data, "Payments")


_ID_FIELDS: tuple[tuple[str, str], ...] = (
    ("Contacts", "ContactID"),
    ("Invoices", "InvoiceID"),
    ("CreditNotes", "CreditNoteID"),
    ("Payments", "PaymentID"),
    ("Allocations", "AllocationID"),
)
_SUMMARY_FIELDS: tuple[str, ...] = (
    "InvoiceNumber",
    "CreditNoteNumber",
    "Name",
    "Status",
    "StatusAttributeString",
    "Total",
    "Amount",
    "AmountDue",
    "RemainingCredit",
)


def response_summary(data: Any) -> dict[str, Any]:
    """Xero ids, numbers, statuses and amounts from a response (at most 50 per collection)."""
    summary: dict[str, Any] = {}
    if not isinstance(data, Mapping):
        return summary
    for collection, id_field in _ID_FIELDS:
        items = data.get(collection)
        if not isinstance(items, list):
            continue
        summary[collection] = [
            {
                key: str(item[key])
                for key in (id_field, *_SUMMARY_FIELDS)
                if isinstance(item, Mapping) and item.get(key) is not None
            }
            for item in items[:50]
        ]
    return summary


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

    def __init__(self, timeout: float = 30.0) -> None:
        self.timeout = timeout
        self._http: httpx.Client | None = None

    def client(
        self,
        base_url: str,
        tenant_id: str | None,
        *,
        token: TokenProvider | None = None,
        on_call: Callable[[CallRecord], None] | None = None,
        on_limits: Callable[[Limits], None] | None = None,
    ) -> XeroClient:
        """A client for one tenant, sharing the pool."""
        if self._http is None:
            self._http = httpx.Client(
                timeout=httpx.Timeout(self.timeout),
                limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
            )
        return XeroClient(
            self._http, base_url, tenant_id, token=token, on_call=on_call, on_limits=on_limits
        )

    def close(self) -> None:
        """Close the pool (a later ``client`` opens a new one)."""
        if self._http is not None:
            self._http.close()
            self._http = None
