"""Xero's failures, classified once: every status code and transport error becomes one of these
(under the outbox package's root, ``outbox.errors.OutboxError``).

XeroError (OutboxError)
├── XeroTransientError       worth retrying: timeouts, connection errors, 5xx
│   │                        (``uncertain`` when the write may have happened anyway)
│   └── XeroRateLimitError   429, with ``retry_after`` and ``problem`` (minute, day, ...)
├── XeroRejectedError        400: Xero refused the request; ``messages`` are Xero's own
│   └── XeroDuplicateNumberError   "Invoice # must be unique." and its kind
├── XeroNotFoundError        404
└── XeroAuthError            401 (after a refresh) and 403: the connection is unusable
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from outbox.errors import OutboxError
from outbox.xero.wire import loads

DUPLICATE_MESSAGES = ("must be unique", "already been used", "already exists")


class XeroError(OutboxError):
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
