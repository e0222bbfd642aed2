"""One call to Xero's Accounting API, for one tenant: headers (tenant, ``Idempotency-Key``,
bearer token, refreshed once after a 401), pacing, the limits Xero reports in its
``X-*-Remaining`` headers (to ``on_limits``), failures classified by ``outbox.xero.errors``, and
a ``CallRecord`` of every call (to ``on_call``) that never holds tokens or other headers."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from outbox.xero.errors import XeroTransientError, classify, classify_exception
from outbox.xero.records import CallRecord, Split, response_summary
from outbox.xero.wire import dumps, loads

API_PREFIX = "/api.xro/2.0"

TokenProvider = Callable[[bool], str | None]
"""Returns the access token to use (``True`` asks for a refreshed one), or None for none."""


@dataclass(frozen=True)
class Limits:
    """The limits Xero says are left, from the ``X-*-Remaining`` headers of one response."""

    minute: int | None
    day: int | None
    app_minute: int | None


def _int_header(headers: httpx.Headers, name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class XeroTransport:
    """Makes calls on Xero's Accounting API for one tenant (``XeroClient`` names them)."""

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
