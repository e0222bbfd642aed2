"""The OpenSolar change envelope: parsing one JSON change into typed values, or a clear error.

A change is one JSON object modelled on OpenSolar's webhook payloads (see the README for the
format). ``parse_change`` turns its text into a ``Change`` or raises ``ChangeError`` naming every
field at fault, so that a batch can report the line and move on. Amounts are ``Decimal`` from the
first byte: JSON numbers are never read as floats.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from domain.currencies import XERO_CURRENCIES
from domain.errors import ChangeError, FieldError

Model = Literal["Invoice", "Payment"]
InvoiceStatus = Literal["not_sent", "sent", "viewed", "pending", "paid", "cancelled"]
PaymentStatus = Literal["pending", "paid", "failed"]

INVOICE_STATUSES: tuple[str, ...] = ("not_sent", "sent", "viewed", "pending", "paid", "cancelled")
PAYMENT_STATUSES: tuple[str, ...] = ("pending", "paid", "failed")
EVENTS: tuple[str, ...] = ("CREATE", "UPDATE", "DELETE")

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
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_EMAIL_LENGTH = 255
"""Xero's limit on a contact's EmailAddress (which also refuses accented letters)."""
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
"""Control characters, and lone surrogates (valid JSON escapes that are not text)."""
MAX_INTEGER_DIGITS = 30
MAX_MAGNITUDE = 15
"""Amounts whose decimal exponent says more than 10^15 are out of range before any arithmetic."""


@dataclass(frozen=True)
class Customer:
    """The customer an invoice is addressed to."""

    id: str | None
    name: str
    email: str | None


@dataclass(frozen=True)
class LineItem:
    """One invoice line; ``category`` is mapped to a Xero account by the organisation."""

    category: str
    description: str
    quantity: Decimal
    unit_amount: Decimal
    tax_rate: str | None

    @property
    def amount(self) -> Decimal:
        """Quantity times unit amount, rounded to cents as Xero rounds a line."""
        return round_money(self.quantity * self.unit_amount)


@dataclass(frozen=True)
class InvoiceFields:
    """An invoice as OpenSolar describes it in one change."""

    invoice_number: str
    status: InvoiceStatus
    project_id: str | None
    issued_date: date | None
    due_date: date | None
    currency: str
    amounts_include_tax: bool
    customer: Customer
    line_items: tuple[LineItem, ...]
    stated_total: Decimal | None = None
    """OpenSolar's own invoice total, tax included (optional): when given, Xero's total is made
    equal to it, with a rounding line if Xero's per-line tax rounding gives a few cents less
    or more."""

    @property
    def total(self) -> Decimal:
        """The sum of the lines as OpenSolar states them (tax inclusive or not, per the flag)."""
        return sum((line.amount for line in self.line_items), Decimal("0.00"))


@dataclass(frozen=True)
class PaymentFields:
    """A payment against an invoice as OpenSolar describes it in one change."""

    invoice_id: str
    amount: Decimal
    currency: str
    status: PaymentStatus
    paid_date: date | None
    reference: str | None


@dataclass(frozen=True)
class Change:
    """One OpenSolar change, validated and typed."""

    event_id: str
    timestamp: datetime
    org_id: str
    model: Model
    model_id: str
    event: str
    fields: InvoiceFields | PaymentFields | None

    @property
    def kind(self) -> str:
        """``invoice`` or ``payment``: the document kind this change is about."""
        return self.model.lower()

    @property
    def reference(self) -> str:
        """The document reference used on the CLI, e.g. ``invoice:1042``."""
        return f"{self.kind}:{self.model_id}"


def round_money(value: Decimal) -> Decimal:
    """Round to cents, half up, as Xero does."""
    return value.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")


class _Errors:
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


def _integer(text: str) -> int | Unusable:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        return Unusable(f"{text[:12]}… ({len(text)} digits)")
    return int(text)


def decode_json(text: str) -> Any:
    """Decode JSON with decimals for numbers; NaN, Infinity and overlong integers become
    ``Unusable`` values that the field checks refuse by name. Raises ``ChangeError``."""
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=Unusable, parse_int=_integer)
    except RecursionError:
        raise ChangeError([FieldError("(line)", "JSON is nested too deeply")]) from None
    except ValueError as exc:
        raise ChangeError([FieldError("(line)", f"not valid JSON: {exc}")]) from None


def parse_change(text: str) -> Change:
    """Parse one change from its JSON text."""
    return parse_change_object(decode_json(text))


def parse_change_object(data: Any) -> Change:
    """Validate one decoded change; raises ``ChangeError`` naming every field at fault."""
    errors = _Errors()
    if not isinstance(data, Mapping):
        raise ChangeError([FieldError("(line)", "a change must be a JSON object")])
    event_id = _identifier(data, "event_id", errors, MAX_EVENT_ID_LENGTH)
    timestamp = _timestamp(data.get("timestamp"), "timestamp", errors)
    org_id = _identifier(data, "org_id", errors, MAX_ID_LENGTH)
    model_id = _identifier(data, "model_id", errors, MAX_ID_LENGTH)
    model = data.get("model")
    if model not in ("Invoice", "Payment"):
        errors.add("model", f"unknown model {_show(model)}: expected 'Invoice' or 'Payment'")
    event = data.get("event", "UPDATE")
    if event not in EVENTS:
        errors.add("event", f"unknown event {_show(event)}: expected one of {', '.join(EVENTS)}")
    raw_fields = data.get("fields")
    fields: InvoiceFields | PaymentFields | None = None
    if raw_fields is None and event == "DELETE":
        fields = None
    elif not isinstance(raw_fields, Mapping):
        errors.add("fields", "required: an object with the document's fields")
    elif model == "Invoice":
        fields = _invoice_fields(raw_fields, errors)
    elif model == "Payment":
        fields = _payment_fields(raw_fields, errors)
    document = f"{str(model).lower()}:{model_id}" if model in ("Invoice", "Payment") else None
    if errors.items or event_id is None or timestamp is None or org_id is None or not model_id:
        raise ChangeError(errors.items, document if model_id else None)
    return Change(
        event_id=event_id,
        timestamp=timestamp,
        org_id=org_id,
        model=model,  # type: ignore[arg-type]
        model_id=model_id,
        event=str(event),
        fields=fields,
    )


def _show(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _identifier(data: Mapping[str, Any], field: str, errors: _Errors, limit: int) -> str | None:
    value = data.get(field)
    if value is None:
        errors.add(field, "required")
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        errors.add(field, f"must be a string or an integer, not {_show(value)}")
        return None
    text = str(value).strip()
    if not text:
        errors.add(field, "must not be empty")
        return None
    if len(text) > limit:
        errors.add(field, f"too long ({len(text)} characters; at most {limit})")
        return None
    if _CONTROL.search(text) or (":" in text and field != "event_id"):
        errors.add(field, f"contains characters that are not allowed: {_show(text)}")
        return None
    return text


def _text(
    data: Mapping[str, Any],
    field: str,
    path: str,
    errors: _Errors,
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
        errors.add(path, f"must be a string, not {_show(value)}")
        return None
    text = str(value).strip()
    if not text:
        if required:
            errors.add(path, "must not be empty")
        return None
    if len(text) > limit:
        errors.add(path, f"too long ({len(text)} characters; at most {limit})")
        return None
    if _CONTROL.search(text):
        errors.add(path, "contains control characters or broken text (a lone surrogate)")
        return None
    return text


def _timestamp(value: Any, path: str, errors: _Errors) -> datetime | None:
    if value is None:
        errors.add(path, "required")
        return None
    if isinstance(value, bool):
        errors.add(path, f"not a timestamp: {_show(value)}")
        return None
    seconds: Decimal | None = None
    if isinstance(value, int | Decimal):
        seconds = Decimal(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*\d{1,12}(\.\d+)?\s*", value):
        seconds = Decimal(value.strip())
    if seconds is not None:
        if not seconds.is_finite() or seconds < 0 or seconds > Decimal(253402300799):
            errors.add(path, f"Unix time out of range: {_show(value)}")
            return None
        return datetime.fromtimestamp(float(seconds), tz=UTC)
    if not isinstance(value, str):
        errors.add(path, f"not a timestamp: {_show(value)}")
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        moment = parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        errors.add(path, f"not an ISO 8601 timestamp or Unix seconds: {_show(value)}")
        return None
    if not 1970 <= moment.year <= 2999:
        errors.add(path, f"timestamp out of range: {_show(value)}")
        return None
    return moment


def _date(data: Mapping[str, Any], field: str, path: str, errors: _Errors) -> date | None:
    value = data.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        errors.add(path, f"must be a date YYYY-MM-DD, not {_show(value)}")
        return None
    try:
        parsed = date.fromisoformat(value.strip())
    except ValueError:
        errors.add(path, f"not a valid date YYYY-MM-DD: {_show(value)}")
        return None
    if not 1900 <= parsed.year <= 2999:
        errors.add(path, f"date out of range: {_show(value)}")
        return None
    return parsed


def _decimal(
    data: Mapping[str, Any],
    field: str,
    path: str,
    errors: _Errors,
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
        errors.add(path, f"must be a decimal amount, not {_show(value)}")
        return None
    if isinstance(value, float):  # only reachable for callers passing Python floats
        if not math.isfinite(value):
            errors.add(path, f"not a finite amount: {_show(value)}")
            return None
        value = repr(value)
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, ValueError):
        errors.add(path, f"not a decimal amount: {_show(value)}")
        return None
    if not amount.is_finite():
        errors.add(path, f"not a finite amount: {_show(value)}")
        return None
    if amount and amount.adjusted() > MAX_MAGNITUDE:
        errors.add(path, f"out of range: {_show(value)} (at most {limit})")
        return None
    if abs(amount) > limit:
        errors.add(path, f"out of range: {_show(value)} (at most {limit})")
        return None
    exponent = amount.as_tuple().exponent
    if (
        isinstance(exponent, int)
        and -exponent > places
        and amount != amount.quantize(Decimal(1).scaleb(-places))
    ):
        errors.add(path, f"more than {places} decimal places: {_show(value)}")
        return None
    if check is not None:
        problem = check(amount)
        if problem:
            errors.add(path, f"{problem}: {_show(value)}")
            return None
    return amount.quantize(Decimal(1).scaleb(-places)) if places == AMOUNT_PLACES else amount


def _currency(data: Mapping[str, Any], path: str, errors: _Errors) -> str:
    value = data.get("currency")
    if value is None:
        errors.add(path, "required")
        return ""
    if not isinstance(value, str) or value.strip().upper() not in XERO_CURRENCIES:
        errors.add(path, f"unknown currency {_show(value)}: expected an ISO 4217 code Xero knows")
        return ""
    return value.strip().upper()


def _choice(
    data: Mapping[str, Any], field: str, path: str, errors: _Errors, allowed: tuple[str, ...]
) -> str:
    value = data.get(field)
    if value is None:
        errors.add(path, "required")
        return ""
    if not isinstance(value, str) or value.strip().lower() not in allowed:
        errors.add(path, f"unknown value {_show(value)}: expected one of {', '.join(allowed)}")
        return ""
    return value.strip().lower()


def _positive(amount: Decimal) -> str | None:
    return None if amount > 0 else "must be greater than zero"


def _invoice_fields(data: Mapping[str, Any], errors: _Errors) -> InvoiceFields | None:
    before = len(errors.items)
    number = _text(
        data, "invoice_number", "fields.invoice_number", errors, limit=255, required=True
    )
    status = _choice(data, "status", "fields.status", errors, INVOICE_STATUSES)
    project = _text(data, "project_id", "fields.project_id", errors, limit=64, required=False)
    issued = _date(data, "issued_date", "fields.issued_date", errors)
    due = _date(data, "due_date", "fields.due_date", errors)
    if issued and due and due < issued:
        errors.add("fields.due_date", f"before the issued date {issued.isoformat()}")
    currency = _currency(data, "fields.currency", errors)
    include_tax = data.get("amounts_include_tax", False)
    if not isinstance(include_tax, bool):
        errors.add("fields.amounts_include_tax", f"must be true or false, not {_show(include_tax)}")
        include_tax = False
    customer = _customer(data.get("customer"), errors)
    lines = _line_items(data.get("line_items"), errors, required=status not in ("not_sent", ""))
    stated: Decimal | None = None
    if data.get("total") is not None:
        stated = _decimal(
            data, "total", "fields.total", errors, places=AMOUNT_PLACES, limit=MAX_AMOUNT
        )
    if len(errors.items) > before or customer is None or number is None:
        return None
    return InvoiceFields(
        invoice_number=number,
        status=status,  # type: ignore[arg-type]
        project_id=project,
        issued_date=issued,
        due_date=due,
        currency=currency,
        amounts_include_tax=include_tax,
        customer=customer,
        line_items=lines,
        stated_total=stated,
    )


def _customer(value: Any, errors: _Errors) -> Customer | None:
    if not isinstance(value, Mapping):
        errors.add("fields.customer", "required: an object with name and email")
        return None
    before = len(errors.items)
    customer_id = value.get("id")
    cid: str | None = None
    if customer_id is not None:
        if isinstance(customer_id, bool) or not isinstance(customer_id, int | str):
            errors.add("fields.customer.id", f"must be a string or an integer, not {customer_id!r}")
        elif _CONTROL.search(str(customer_id)):
            errors.add("fields.customer.id", "contains control characters")
        elif str(customer_id).strip():
            cid = str(customer_id).strip()[:MAX_ID_LENGTH]
    name = _text(
        value, "name", "fields.customer.name", errors, limit=MAX_NAME_LENGTH, required=True
    )
    email = _text(
        value, "email", "fields.customer.email", errors, limit=MAX_EMAIL_LENGTH, required=False
    )
    if email is not None and not _EMAIL.match(email):
        errors.add("fields.customer.email", f"not an email address: {_show(email)}")
        email = None
    elif email is not None and not email.isascii():
        errors.add(
            "fields.customer.email",
            f"Xero refuses accented or other non-ASCII letters in email addresses: {_show(email)}",
        )
        email = None
    if len(errors.items) > before or name is None:
        return None
    return Customer(id=cid, name=name, email=email.lower() if email else None)


def _line_items(value: Any, errors: _Errors, *, required: bool) -> tuple[LineItem, ...]:
    if value is None:
        if required:
            errors.add("fields.line_items", "required: an issued invoice needs at least one line")
        return ()
    if not isinstance(value, list):
        errors.add("fields.line_items", "must be a list of line objects")
        return ()
    if required and not value:
        errors.add("fields.line_items", "an issued invoice needs at least one line")
        return ()
    if len(value) > MAX_LINE_ITEMS:
        errors.add("fields.line_items", f"too many lines ({len(value)}; at most {MAX_LINE_ITEMS})")
        return ()
    lines: list[LineItem] = []
    for index, raw in enumerate(value):
        path = f"fields.line_items[{index}]"
        if not isinstance(raw, Mapping):
            errors.add(path, "must be an object")
            continue
        before = len(errors.items)
        category = _text(raw, "category", f"{path}.category", errors, limit=255, required=True)
        description = _text(
            raw,
            "description",
            f"{path}.description",
            errors,
            limit=MAX_DESCRIPTION_LENGTH,
            required=False,
        )
        quantity = _decimal(
            raw,
            "quantity",
            f"{path}.quantity",
            errors,
            places=UNIT_PLACES,
            limit=MAX_QUANTITY,
            check=_positive,
        )
        unit = _decimal(
            raw, "unit_amount", f"{path}.unit_amount", errors, places=UNIT_PLACES, limit=MAX_AMOUNT
        )
        tax_rate = _text(raw, "tax_rate", f"{path}.tax_rate", errors, limit=100, required=False)
        if len(errors.items) > before or category is None or quantity is None or unit is None:
            continue
        if abs(quantity * unit) > MAX_AMOUNT:
            errors.add(f"{path}.unit_amount", f"line amount out of range (at most {MAX_AMOUNT})")
            continue
        lines.append(LineItem(category, description or category, quantity, unit, tax_rate))
    return tuple(lines)


def _payment_fields(data: Mapping[str, Any], errors: _Errors) -> PaymentFields | None:
    before = len(errors.items)
    invoice_id = _identifier(
        {"fields.invoice_id": data.get("invoice_id")}, "fields.invoice_id", errors, MAX_ID_LENGTH
    )
    amount = _decimal(
        data,
        "amount",
        "fields.amount",
        errors,
        places=AMOUNT_PLACES,
        limit=MAX_AMOUNT,
        check=_positive,
    )
    currency = _currency(data, "fields.currency", errors)
    status = _choice(data, "status", "fields.status", errors, PAYMENT_STATUSES)
    paid = _date(data, "paid_date", "fields.paid_date", errors)
    reference = _text(
        data, "reference", "fields.reference", errors, limit=MAX_REFERENCE_LENGTH, required=False
    )
    if len(errors.items) > before or invoice_id is None or amount is None:
        return None
    return PaymentFields(
        invoice_id=invoice_id,
        amount=amount,
        currency=currency,
        status=status,  # type: ignore[arg-type]
        paid_date=paid,
        reference=reference,
    )
