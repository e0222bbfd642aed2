"""Transport-neutral request and response values, and builders for Xero's answer shapes.

The HTTP server turns each request into a `Request`, the application answers with a `Response`
(or one marked `drop`, meaning "close the connection without answering"). The builders here
produce the bodies Xero sends (notes §4): the 400 ValidationException, the 401/403 problem
objects, the 500 error, the plain-text 503 and the 404 page.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any
from urllib.parse import parse_qsl

from syncledger.sandbox import wire

JSON_TYPE = "application/json; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"


@dataclass(frozen=True)
class Request:
    """One HTTP request as the application sees it; header names are lower-case."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes
    received_at: float
    _params: dict[str, list[str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        params: dict[str, list[str]] = {}
        for key, value in parse_qsl(self.query, keep_blank_values=True):
            params.setdefault(key.lower(), []).append(value)
        object.__setattr__(self, "_params", params)

    def header(self, name: str) -> str | None:
        """A header's value, looked up case-insensitively."""
        return self.headers.get(name.lower())

    def param(self, name: str) -> str | None:
        """The first value of a query parameter, looked up case-insensitively (as Xero does)."""
        values = self._params.get(name.lower())
        return values[0] if values else None

    def flag(self, name: str) -> bool | None:
        """A boolean query parameter: True, False, or None when absent."""
        value = self.param(name)
        if value is None:
            return None
        return value.strip().lower() in {"true", "1", "yes"}

    def list_param(self, name: str) -> list[str]:
        """A comma-separated query parameter (also repeated ones) as a list of trimmed values."""
        values = self._params.get(name.lower(), [])
        return [item.strip() for value in values for item in value.split(",") if item.strip()]


@dataclass
class Response:
    """An answer to send, or (`drop=True`) a connection to close without answering."""

    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    drop: bool = False

    def header(self, name: str) -> str | None:
        """The first value of a response header, case-insensitively."""
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None

    def with_headers(self, extra: Iterable[tuple[str, str]]) -> Response:
        """A copy with more headers appended."""
        return Response(self.status, self.body, self.content_type, [*self.headers, *extra])


def json_response(status: int, payload: Any, headers: Sequence[tuple[str, str]] = ()) -> Response:
    """A JSON response."""
    return Response(status, wire.dumps(payload), JSON_TYPE, list(headers))


def text_response(status: int, text: str, headers: Sequence[tuple[str, str]] = ()) -> Response:
    """A plain-text response."""
    return Response(status, text.encode("utf-8"), TEXT_TYPE, list(headers))


def html_response(status: int, title: str, message: str) -> Response:
    """A tiny HTML page, as the identity service shows for bad authorisation requests."""
    page = (
        f"<!doctype html><html><head><title>{escape(title)}</title></head>"
        f"<body><h1>{escape(title)}</h1><p>{escape(message)}</p></body></html>"
    )
    return Response(status, page.encode("utf-8"), HTML_TYPE, [])


def validation_error(
    elements: Sequence[Mapping[str, Any]] = (), message: str = "A validation exception occurred"
) -> Response:
    """Xero's 400 ValidationException; `elements` carry their own `ValidationErrors`."""
    payload: dict[str, Any] = {
        "ErrorNumber": 10,
        "Type": "ValidationException",
        "Message": message,
    }
    if elements:
        payload["Elements"] = list(elements)
    return json_response(400, payload)


def message_error(status: int, number: int, kind: str, message: str) -> Response:
    """A Xero error object without elements (bad query, bad JSON, idempotency misuse ...)."""
    return json_response(status, {"ErrorNumber": number, "Type": kind, "Message": message})


def problem(
    status: int, title: str, detail: str, headers: Sequence[tuple[str, str]] = ()
) -> Response:
    """The problem object Xero answers 401 and 403 with."""
    payload: dict[str, Any] = {
        "Type": None,
        "Title": title,
        "Status": status,
        "Detail": detail,
        "Instance": str(uuid.uuid4()),
        "Extensions": {},
    }
    return json_response(status, payload, headers)


def not_found() -> Response:
    """Xero's 404 for an unknown id or path."""
    return text_response(404, "The resource you have specified cannot be found")


def internal_error() -> Response:
    """Xero's 500 (notes §4: "An unhandled error with the Xero API")."""
    return message_error(500, 500, "UnhandledException", "An unhandled error with the Xero API")


def maintenance() -> Response:
    """Xero's plain-text 503 (notes §4)."""
    return text_response(503, "The Xero API is currently offline for maintenance")


def bad_gateway() -> Response:
    """A gateway failure in front of the API."""
    return text_response(502, "Bad Gateway")


def drop() -> Response:
    """Close the connection without sending anything."""
    return Response(0, drop=True)
