"""Xero's wire formats: JSON with exact decimals, and the `/Date(ms+0000)/` date notation.

Request bodies are parsed with `parse_float=Decimal` so money never passes through binary
floats; responses are serialised by a small encoder that writes `Decimal` values as plain JSON
numbers (`110.00`, never `1.1E+2`). Dates go out as Xero writes them (`"/Date(1552262400000+0000)/"`
plus an ISO `...String` companion) and come in as `YYYY-MM-DD`, ISO date-times or MS dates.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

_ESCAPE = json.encoder.encode_basestring
_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def loads(body: bytes) -> Any:
    """Parse a JSON request body with exact decimals; raises ValueError when malformed."""
    text = body.decode("utf-8-sig")
    return json.loads(text, parse_float=Decimal)


def dumps(value: Any) -> bytes:
    """Serialise `value` (dicts, lists, str, int, bool, None, Decimal, float) to UTF-8 JSON."""
    parts: list[str] = []
    _encode(value, parts)
    return "".join(parts).encode("utf-8")


def _encode(value: Any, parts: list[str]) -> None:
    if value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, str):
        parts.append(_ESCAPE(value))
    elif isinstance(value, Decimal):
        parts.append(decimal_text(value))
    elif isinstance(value, int | float):
        parts.append(json.dumps(value))
    elif isinstance(value, Mapping):
        parts.append("{")
        first = True
        for key, item in value.items():
            if not first:
                parts.append(",")
            first = False
            parts.append(_ESCAPE(str(key)))
            parts.append(":")
            _encode(item, parts)
        parts.append("}")
    elif isinstance(value, list | tuple):
        parts.append("[")
        for index, item in enumerate(value):
            if index:
                parts.append(",")
            _encode(item, parts)
        parts.append("]")
    else:
        raise TypeError(f"cannot serialise {type(value).__name__} to JSON")


def decimal_text(value: Decimal) -> str:
    """Plain positional text for a decimal (no exponent, no negative zero)."""
    if value.is_zero():
        value = abs(value)
    return format(value, "f")


def to_decimal(value: Any) -> Decimal | None:
    """A JSON number (or numeric string) as a Decimal; None when it is not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            return None
        return result if result.is_finite() else None
    return None


def ms_date(day: dt.date) -> str:
    """Xero's MS-JSON form of a calendar date (midnight UTC)."""
    moment = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    millis = int((moment - _EPOCH).total_seconds()) * 1000
    return f"/Date({millis}+0000)/"


def ms_timestamp(epoch_s: float, *, offset: bool = True) -> str:
    """Xero's MS-JSON form of an instant; `offset=False` gives the bare `/Date(ms)/` form."""
    millis = round(epoch_s * 1000)
    return f"/Date({millis}+0000)/" if offset else f"/Date({millis})/"


def date_string(day: dt.date) -> str:
    """The ISO companion Xero sends next to a date (`2019-03-11T00:00:00`)."""
    return f"{day.isoformat()}T00:00:00"


def iso_timestamp(epoch_s: float) -> str:
    """ISO-8601 UTC text of an instant, as in `UpdatedDateUTCString`."""
    moment = dt.datetime.fromtimestamp(epoch_s, tz=dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def is_guid(text: str) -> bool:
    """True for a GUID written out in full (36 characters), as Xero's ids are."""
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return len(text) == 36


def parse_date(value: Any) -> dt.date | None:
    """Read a request date (`YYYY-MM-DD`, ISO date-time or `/Date(ms)/`); None if unreadable."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    match = _MS_DATE.match(text)
    if match:
        moment = _EPOCH + dt.timedelta(milliseconds=int(match.group(1)))
        return moment.date()
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def utc_today(now: float) -> dt.date:
    """The UTC calendar date of an epoch time."""
    return dt.datetime.fromtimestamp(now, tz=dt.UTC).date()
