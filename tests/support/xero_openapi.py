"""Checks an httpx request/response pair against Xero's official Accounting API spec.

`validate_exchange(request, response)` validates any exchange whose path is under
`/api.xro/2.0/` against `tests/support/xero/xero_accounting.yaml` (Xero's spec, vendored with
its licence) with openapi-core, and raises one `AssertionError` naming every violation (parameters, security,
request body, response status and body). Other paths (identity, `/sandbox/`) are ignored. The
spec is loaded once per process (about half a second). Use it directly, or as an httpx event
hook: `httpx.Client(event_hooks={"response": [check_response]})`. In an async client's hook,
`await response.aread()` before calling `validate_exchange`.

Narrow, commented exceptions where the official spec is wrong about real Xero behaviour that
`notes/xero-api.md` documents:
* the spec declares only 200/204/400 answers; Xero also answers 401/403 (§4), 404, 413 (§1.6),
  429 (§3), 500, 502 and 503 (§4), and 400 on reads (bad `where`, §4). Those answers are checked
  against the shapes the notes document instead of being reported as "unknown status";
* `GET /Invoices/{InvoiceID}` and `GET /CreditNotes/{CreditNoteID}` also accept the document
  number in place of the id (§1.2 "GET it by number"); the spec types the parameter as a uuid;
* a custom connection (client-credentials token) needs no `xero-tenant-id` header (§0, §5);
  pass `custom_connection=True` for such calls; the spec marks the header required;
* openapi-core cannot check OAuth2 security schemes (it only warns), so a Bearer-token check
  stands in for it. `/Date(...)/` dates need no exception: the spec types them as plain strings.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
from jsonschema_path import SchemaPath
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.security.exceptions import SecurityProviderError
from openapi_core.security.factories import SecurityProviderFactory
from openapi_core.security.providers import BaseProvider
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.validation.request.exceptions import InvalidParameter, SecurityValidationError
from openapi_core.validation.request.validators import (
    V30RequestBodyValidator,
    V30RequestParametersValidator,
    V30RequestSecurityValidator,
)
from werkzeug.datastructures import Headers, ImmutableMultiDict

SPEC_PATH = Path(__file__).resolve().parent / "xero" / "xero_accounting.yaml"
SERVER = "https://api.xero.com"
API_PREFIX = "/api.xro/2.0/"

_lock = threading.Lock()
_loaded: dict[str, Any] = {}


class _BearerProvider(BaseProvider):
    """Stands in for openapi-core's unsupported OAuth2 provider: a Bearer token must be sent."""

    def __call__(self, parameters: RequestParameters) -> Any:
        header = parameters.header.get("Authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise SecurityProviderError("Missing 'Authorization: Bearer <token>' header.")
        return token.strip()


class _SecurityProviders(SecurityProviderFactory):
    PROVIDERS = {  # noqa: RUF012 - the base class declares it as a plain class attribute
        **SecurityProviderFactory.PROVIDERS,
        "oauth2": _BearerProvider,
    }


def spec() -> OpenAPI:
    """The loaded spec (loaded on first use, then shared)."""
    with _lock:
        if "api" not in _loaded:
            providers = _SecurityProviders()
            api = OpenAPI.from_file_path(
                str(SPEC_PATH),
                config=Config(spec_validator_cls=None, security_provider_factory=providers),
            )
            # Security, parameters and body separately, so one failure does not hide the others.
            _loaded["request_validators"] = [
                V30RequestSecurityValidator(api.spec, security_provider_factory=providers),
                V30RequestParametersValidator(api.spec, security_provider_factory=providers),
                V30RequestBodyValidator(api.spec, security_provider_factory=providers),
            ]
            _loaded["api"] = api
        loaded: OpenAPI = _loaded["api"]
        return loaded


@dataclass
class _Request:
    """An httpx.Request seen through openapi-core's Request protocol."""

    method: str
    path: str
    parameters: RequestParameters
    body: bytes | None
    content_type: str
    host_url: str = SERVER


@dataclass
class _Response:
    """An httpx.Response seen through openapi-core's Response protocol."""

    status_code: int
    data: bytes | None
    content_type: str
    headers: Headers


def _adapt_request(request: httpx.Request) -> _Request:
    try:
        body = request.content
    except httpx.RequestNotRead:
        body = request.read()
    query = parse_qs(request.url.query.decode("ascii"), keep_blank_values=True)
    return _Request(
        method=request.method.lower(),
        path=request.url.path,
        parameters=RequestParameters(
            query=ImmutableMultiDict(query),
            header=Headers(list(request.headers.multi_items())),
            cookie=ImmutableMultiDict({}),
        ),
        body=body or None,
        content_type=request.headers.get("Content-Type", ""),
    )


def _adapt_response(response: httpx.Response) -> _Response:
    try:
        data = response.content
    except httpx.ResponseNotRead:
        data = response.read()
    return _Response(
        status_code=response.status_code,
        data=data,
        content_type=response.headers.get("Content-Type", ""),
        headers=Headers(list(response.headers.multi_items())),
    )


def _describe(error: BaseException) -> list[str]:
    """One line per violation, with the JSON path where jsonschema gives one."""
    cause = error.__cause__
    schema_errors = getattr(cause, "schema_errors", None)
    if schema_errors:
        lines = []
        for item in schema_errors:
            where = "/".join(str(p) for p in getattr(item, "absolute_path", ())) or "(root)"
            lines.append(f"{error.__class__.__name__} at {where}: {item.message}")
        return lines
    if isinstance(error, SecurityValidationError):
        return ["security: no 'Authorization: Bearer <token>' header (spec: OAuth2 on every path)"]
    detail = f" ({cause})" if cause is not None else ""
    return [f"{error.__class__.__name__}: {error}{detail}"]


def _number_in_place_of_id(request: httpx.Request, error: BaseException) -> bool:
    """Xero accepts the document number where the spec types the path id as a uuid (§1.2)."""
    return (
        request.method == "GET"
        and isinstance(error, InvalidParameter)
        and error.location == "path"
        and error.name in {"InvoiceID", "CreditNoteID"}
    )


def _tenant_header_waived(error: BaseException, custom_connection: bool) -> bool:
    """Custom connections need no xero-tenant-id header (notes §0, §5)."""
    return (
        custom_connection
        and getattr(error, "location", None) == "header"
        and getattr(error, "name", "").lower() == "xero-tenant-id"
    )


def _json(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def _documented_shape(response: httpx.Response) -> list[str]:
    """Check an answer the spec does not declare against the shape the notes document."""
    status = response.status_code
    body = _json(response)
    problems: list[str] = []
    if status == 400:
        # notes §4: {"ErrorNumber", "Type", "Message", "Elements": [{..., "ValidationErrors"}]}
        if not isinstance(body, dict) or not isinstance(body.get("Message"), str):
            problems.append("400 body is not a Xero error object with a Message")
        elif "Elements" in body and not all(
            isinstance(e, dict) and isinstance(e.get("ValidationErrors"), list)
            for e in body["Elements"]
        ):
            problems.append("400 Elements without ValidationErrors")
    elif status in {401, 403}:
        # notes §4: {"Type": null, "Title": ..., "Status": <code>, "Detail": ...}
        if not isinstance(body, dict) or body.get("Status") != status:
            problems.append(f"{status} body is not a problem object with Status {status}")
        elif not isinstance(body.get("Title"), str) or not isinstance(body.get("Detail"), str):
            problems.append(f"{status} body lacks Title or Detail")
        if status == 401 and "WWW-Authenticate" not in response.headers:
            problems.append("401 without a WWW-Authenticate header")
    elif status == 429:
        # notes §3: Retry-After in seconds and X-Rate-Limit-Problem name the broken limit
        if not response.headers.get("Retry-After", "").isdigit():
            problems.append("429 without a whole-seconds Retry-After header")
        if not response.headers.get("X-Rate-Limit-Problem"):
            problems.append("429 without an X-Rate-Limit-Problem header")
    elif status == 500:
        # notes §4: "An unhandled error with the Xero API"
        if not isinstance(body, dict) or not isinstance(body.get("Message"), str):
            problems.append("500 body is not a Xero error object with a Message")
    elif status == 503:
        # notes §4: plain text when the API is offline
        if not response.headers.get("Content-Type", "").startswith("text/plain"):
            problems.append("503 is not plain text")
    elif status not in {404, 413, 502}:
        problems.append(f"HTTP {status} is neither in the spec nor documented in the notes")
    return problems


def violations(
    request: httpx.Request,
    response: httpx.Response | None = None,
    *,
    custom_connection: bool = False,
) -> list[str]:
    """Every spec violation of the exchange (empty when it conforms or is not an API call)."""
    if not request.url.path.startswith(API_PREFIX):
        return []
    api = spec()
    adapted = _adapt_request(request)
    found: list[str] = []
    seen: set[str] = set()
    for validator in _loaded["request_validators"]:
        for error in validator.iter_errors(adapted):
            if _number_in_place_of_id(request, error):
                continue
            if _tenant_header_waived(error, custom_connection):
                continue
            for line in _describe(error):
                if line not in seen:
                    seen.add(line)
                    found.append(f"request: {line}")
    if response is not None:
        for error in api.iter_response_errors(adapted, _adapt_response(response)):
            if isinstance(error, ResponseNotFound):
                found.extend(f"response: {line}" for line in _documented_shape(response))
                continue
            found.extend(f"response: {line}" for line in _describe(error))
    return found


def validate_exchange(
    request: httpx.Request,
    response: httpx.Response | None = None,
    *,
    custom_connection: bool = False,
) -> None:
    """Raise AssertionError listing each way the exchange departs from Xero's spec."""
    found = violations(request, response, custom_connection=custom_connection)
    if found:
        status = f" -> {response.status_code}" if response is not None else ""
        listing = "\n".join(f"  - {line}" for line in found)
        raise AssertionError(
            f"Xero spec violations for {request.method} {request.url.path}{status}:\n{listing}"
        )


def check_response(response: httpx.Response) -> None:
    """An httpx `response` event hook (sync clients) that validates every exchange."""
    response.read()
    validate_exchange(response.request, response)


def check_custom_connection_response(response: httpx.Response) -> None:
    """Like `check_response`, for a custom connection (no xero-tenant-id header needed)."""
    response.read()
    validate_exchange(response.request, response, custom_connection=True)


def schema(name: str) -> SchemaPath:
    """A component schema of the spec, e.g. `schema("Invoice")`, for ad-hoc checks."""
    return spec().spec / "components" / "schemas" / name
