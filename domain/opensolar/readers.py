"""Reading one field of a change: each reader returns the typed value, or records a
``FieldError`` naming the field (by its dotted path) and returns nothing, so that every fault of a
change is reported at once. The limits are Xero's, or what OpenSolar can send."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from domain.currencies import XERO_CURRENCIES
from domain.errors import FieldError

MAX_ID_LENGTH = 64
MAX_EVENT_ID_LENGTH = 200
MAX_NAME_LENGTH = 255
MAX_DESCRIPTION_LENGTH = 4000
MAX_REFERENCE_LENGTH = 255
MAX_LINE_ITEMS = 500
MAX_AMOUNT = Decimal("9999999999.99")
MAX_QUANTITY = Decimal("99999999")
AMOUNT_PLACES = 2
UNIT_PLACES = 4
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_EMAIL_LENGTH = 255
"""Xero's limit on a contact's EmailAddress (which also refuses accented letters)."""
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
"""Control characters, and lone surrogates (valid JSON escapes that are not text)."""
MAX_INTEGER_DIGITS = 30
MAX_MAGNITUDE = 15
"""Amounts whose decimal exponent says more than 10^15 are out of range before any arithmetic."""


class Errors:
    """Collects field errors while a change is read."""

    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, field: str, message: str) -> None:
        self.items.append(FieldError(field, message))


@dataclass(frozen=True)
class Unusable:
    """A JSON literal that is no usable value (NaN, Infinity, an integer of absurd length):
    kept in place so the field it stands in is named when it is refused."""

    text: str

    def __repr__(self) -> str:
        return self.text


def show(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def read_identifier(data: Mapping[str, Any], field: str, errors: Errors, limit: int) -> str | None:
    value = data.get(field)
    if value is None:
        errors.add(field, "required")
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        errors.add(field, f"must be a string or an integer, not {show(value)}")
        return None
    text = str(value).strip()
    if not text:
        errors.add(field, "must not be empty")
        return None
    if len(text) > limit:
        errors.add(field, f"too long ({len(text)} characters; at most {limit})")
        return None
    if CONTROL.search(text) or (":" in text and field != "event_id"):
        errors.add(field, f"contains characters that are not allowed: {show(text)}")
        return None
    return text


def read_text(
    data: Mapping[str, Any],
    field: str,
    path: str,
    errors: Errors,
    *,
    limit: int,
    required: bool,
) -> str | None:
    value = data.get(field)
    if value is None:
        if required:
            errors.add(path, "required")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        errors.add(path, f"must be a string, not {show(value)}")
        return None
    text = str(value).strip()
    if not text:
        if required:
            errors.add(path, "must not be empty")
        return None
    if len(text) > limit:
        errors.add(path, f"too long ({len(text)} characters; at most {limit})")
        return None
    if CONTROL.search(text):
        errors.add(path, "contains control characters or broken text (a lone surrogate)")
        return None
    return text


def read_timestamp(value: Any, path: str, errors: Errors) -> datetime | None:
    if value is None:
        errors.add(path, "required")
        return None
    if isinstance(value, bool):
        errors.add(path, f"not a timestamp: {show(value)}")
        return None
    seconds: Decimal | None = None
    if isinstance(value, int | Decimal):
        seconds = Decimal(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*\d{1,12}(\.\d+)?\s*", value):
        seconds = Decimal(value.strip())
    if seconds is not None:
        if not seconds.is_finite() or seconds < 0 or seconds > Decimal(253402300799):
            errors.add(path, f"Unix time out of range: {show(value)}")
            return None
        return datetime.fromtimestamp(float(seconds), tz=UTC)
    if not isinstance(value, str):
        errors.add(path, f"not a timestamp: {show(value)}")
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        moment = parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        errors.add(path, f"not an ISO 8601 timestamp or Unix seconds: {show(value)}")
        return None
    if not 1970 <= moment.year <= 2999:
        errors.add(path, f"timestamp out of range: {show(value)}")
        return None
    return moment


def read_date(data: Mapping[str, Any], field: str, path: str, errors: Errors) -> date | None:
    value = data.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        errors.add(path, f"must be a date YYYY-MM-DD, not {show(value)}")
        return None
    try:
        parsed = date.fromisoformat(value.strip())
    except ValueError:
        errors.add(path, f"not a valid date YYYY-MM-DD: {show(value)}")
        return None
    if not 1900 <= parsed.year <= 2999:
        errors.add(path, f"date out of range: {show(value)}")
        return None
    return parsed


def read_decimal(
    data: Mapping[str, Any],
    field: str,
    path: str,
    errors: Errors,
    *,
    places: int,
    limit: Decimal,
    check: Callable[[Decimal], str | None] | None = None,
) -> Decimal | None:
    value = data.get(field)
    if value is None:
        errors.add(path, "required")
        return None
    if isinstance(value, Unusable):
        errors.add(path, f"not a finite amount: {value.text}")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal | float):
        errors.add(path, f"must be a decimal amount, not {show(value)}")
        return None
    if isinstance(value, float):  # only reachable for callers passing Python floats
        if not math.isfinite(value):
            errors.add(path, f"not a finite amount: {show(value)}")
            return None
        value = repr(value)
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, ValueError):
        errors.add(path, f"not a decimal amount: {show(value)}")
        return None
    if not amount.is_finite():
        errors.add(path, f"not a finite amount: {show(value)}")
        return None
    if amount and amount.adjusted() > MAX_MAGNITUDE:
        errors.add(path, f"out of range: {show(value)} (at most {limit})")
        return None
    if abs(amount) > limit:
        errors.add(path, f"out of range: {show(value)} (at most {limit})")
        return None
    exponent = amount.as_tuple().exponent
    if (
        isinstance(exponent, int)
        and -exponent > places
        and amount != amount.quantize(Decimal(1).scaleb(-places))
    ):
        errors.add(path, f"more than {places} decimal places: {show(value)}")
        return None
    if check is not None:
        problem = check(amount)
        if problem:
            errors.add(path, f"{problem}: {show(value)}")
            return None
    return amount.quantize(Decimal(1).scaleb(-places)) if places == AMOUNT_PLACES else amount


def read_currency(data: Mapping[str, Any], path: str, errors: Errors) -> str:
    value = data.get("currency")
    if value is None:
        errors.add(path, "required")
        return ""
    if not isinstance(value, str) or value.strip().upper() not in XERO_CURRENCIES:
        errors.add(path, f"unknown currency {show(value)}: expected an ISO 4217 code Xero knows")
        return ""
    return value.strip().upper()


def read_choice(
    data: Mapping[str, Any], field: str, path: str, errors: Errors, allowed: tuple[str, ...]
) -> str:
    value = data.get(field)
    if value is None:
        errors.add(path, "required")
        return ""
    if not isinstance(value, str) or value.strip().lower() not in allowed:
        errors.add(path, f"unknown value {show(value)}: expected one of {', '.join(allowed)}")
        return ""
    return value.strip().lower()


def positive(amount: Decimal) -> str | None:
    return None if amount > 0 else "must be greater than zero"
