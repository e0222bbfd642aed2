"""Shared list-query handling for GET collections: `where`, `order`, modified-since and paging.

A bad `where` or `order` answers Xero's 400 QueryParseException. `page` returns 100 items per
page (or `pageSize`, at most 1,000) and adds a `pagination` object; without `page` every match is
returned, as Xero does (and, for invoices and credit notes, without line items).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from syncledger.sandbox.call import Call
from syncledger.sandbox.errors import ApiError, WhereError
from syncledger.sandbox.exchange import message_error
from syncledger.sandbox.where import Field, compile_where, sort_items

T = TypeVar("T")

PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


@dataclass
class Selection(Generic[T]):
    """The items of one page (or all), and the pagination object when paged."""

    items: list[T]
    paged: bool
    pagination: dict[str, Any]


def query_error(message: str) -> ApiError:
    """Xero's 400 for an unreadable filter or ordering."""
    return ApiError(message_error(400, 16, "QueryParseException", message))


def _modified_since(call: Call) -> float | None:
    header = call.request.header("If-Modified-Since")
    if not header:
        return None
    try:
        moment = dt.datetime.fromisoformat(header.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def _positive_int(call: Call, name: str) -> int | None:
    text = call.request.param(name)
    if text is None or not text.strip():
        return None
    try:
        value = int(text)
    except ValueError:
        raise query_error(f"The value '{text}' is not valid for {name}.") from None
    if value < 1:
        raise query_error(f"{name} must be 1 or more.")
    return value


def select(
    call: Call,
    items: Sequence[T],
    fields: Mapping[str, Field[T]],
    type_name: str,
    *,
    modified: Callable[[T], float] | None = None,
) -> Selection[T]:
    """Filter, order and page `items` as the request asks."""
    try:
        predicate = compile_where(call.request.param("where") or "", fields, type_name)
        chosen = [item for item in items if predicate(item)]
        order = call.request.param("order")
        if order:
            chosen = sort_items(chosen, order, fields, type_name)
    except WhereError as exc:
        raise query_error(str(exc)) from exc
    since = _modified_since(call)
    if since is not None and modified is not None:
        chosen = [item for item in chosen if modified(item) >= since]
    page = _positive_int(call, "page")
    if page is None:
        return Selection(chosen, False, {})
    size = min(_positive_int(call, "pageSize") or PAGE_SIZE, MAX_PAGE_SIZE)
    start = (page - 1) * size
    pagination = {
        "page": page,
        "pageSize": size,
        "pageCount": max(1, math.ceil(len(chosen) / size)) if chosen else 0,
        "itemCount": len(chosen),
    }
    return Selection(chosen[start : start + size], True, pagination)
