"""Xero's batch semantics for PUT and POST of collections (notes §1.6).

A body is either `{"Invoices": [...]}` or one bare element; at most 50 elements are accepted.
Each element is processed in order and succeeds or fails on its own. With
`summarizeErrors=false` the answer is 200 and every element carries `StatusAttributeString`,
`HasErrors` and `ValidationErrors`; otherwise (Xero's default) any failure turns the whole answer
into a 400 ValidationException listing the failed elements, while the valid ones stay created,
as Xero really behaves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from syncledger.sandbox.call import Call
from syncledger.sandbox.errors import ApiError, ElementError
from syncledger.sandbox.exchange import Response, json_response, validation_error
from syncledger.sandbox.render import envelope

MAX_ELEMENTS = 50
ZERO_GUID = "00000000-0000-0000-0000-000000000000"


def elements(call: Call, key: str) -> list[Any]:
    """The submitted elements: the list under `key`, or the body itself as one element."""
    body = call.json_body()
    if isinstance(body, dict) and key in body:
        items = body[key]
        if not isinstance(items, list):
            raise ApiError(validation_error(message=f"'{key}' must be a list of elements."))
    elif isinstance(body, dict):
        items = [body]
    elif isinstance(body, list):
        items = body
    else:
        raise ApiError(validation_error(message=f"The request body must be a {key} object."))
    if len(items) > MAX_ELEMENTS:
        raise ApiError(
            validation_error(
                message=(
                    f"A batch may contain at most {MAX_ELEMENTS} {key}; "
                    f"this request contains {len(items)}. Split it into smaller requests."
                )
            )
        )
    return items


def summarised(call: Call) -> bool:
    """Xero summarises errors unless the caller sends `summarizeErrors=false`."""
    return call.request.flag("summarizeErrors") is not False


def failed_element(
    raw: Any, id_field: str, messages: list[str], known_id: str | None = None
) -> dict[str, Any]:
    """The submitted element echoed back with its validation errors (and its id, if known)."""
    echo: dict[str, Any] = dict(raw) if isinstance(raw, dict) else {}
    if known_id is not None:
        echo[id_field] = known_id
    echo.setdefault(id_field, ZERO_GUID)
    echo["StatusAttributeString"] = "ERROR"
    echo["HasErrors"] = True
    echo["HasValidationErrors"] = True
    echo["ValidationErrors"] = [{"Message": message} for message in messages]
    return echo


def run(
    call: Call,
    key: str,
    id_field: str,
    items: list[Any],
    process: Callable[[dict[str, Any]], dict[str, Any]],
) -> Response:
    """Process each element with `process` (which renders it or raises ElementError)."""
    outcomes: list[tuple[bool, dict[str, Any]]] = []
    for raw in items:
        try:
            if not isinstance(raw, dict):
                raise ElementError([f"Each element of {key} must be an object."])
            outcomes.append((True, process(raw)))
        except ElementError as exc:
            outcomes.append((False, failed_element(raw, id_field, exc.messages)))
    if summarised(call):
        failures = [payload for ok, payload in outcomes if not ok]
        if failures:
            return validation_error(failures)
        return json_response(200, envelope(key, [payload for _, payload in outcomes]))
    rendered: list[dict[str, Any]] = []
    for ok, payload in outcomes:
        if ok:
            payload["StatusAttributeString"] = "OK"
            payload["HasErrors"] = False
            payload["HasValidationErrors"] = False
            payload["ValidationErrors"] = []
        rendered.append(payload)
    return json_response(200, envelope(key, rendered))


def single(
    call: Call,
    key: str,
    id_field: str,
    raw: Any,
    process: Callable[[dict[str, Any]], dict[str, Any]],
    known_id: str | None = None,
) -> Response:
    """An update of one addressed element: 200 with it, or a 400 ValidationException."""
    if not isinstance(raw, dict):
        return validation_error(message=f"The request body must be a {key} object.")
    try:
        payload = process(raw)
    except ElementError as exc:
        return validation_error([failed_element(raw, id_field, exc.messages, known_id)])
    return json_response(200, envelope(key, [payload]))


def one_element(call: Call, key: str) -> Any:
    """The single element of an update body (`{"Invoices":[{...}]}` or a bare object)."""
    items = elements(call, key)
    if len(items) != 1:
        raise ApiError(validation_error(message=f"Exactly one element of {key} is expected."))
    return items[0]
