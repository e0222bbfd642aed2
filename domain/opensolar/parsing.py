"""Parsing one change: its JSON text (``decode_json``, numbers as ``Decimal``), then the
envelope and the document's fields (``parse_change_object``), into a ``Change`` or a
``ChangeError`` naming every field at fault."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from domain.errors import ChangeError, FieldError
from domain.opensolar.readers import (
    AMOUNT_PLACES,
    CONTROL,
    EMAIL,
    MAX_AMOUNT,
    MAX_DESCRIPTION_LENGTH,
    MAX_EMAIL_LENGTH,
    MAX_EVENT_ID_LENGTH,
    MAX_ID_LENGTH,
    MAX_INTEGER_DIGITS,
    MAX_LINE_ITEMS,
    MAX_NAME_LENGTH,
    MAX_QUANTITY,
    MAX_REFERENCE_LENGTH,
    UNIT_PLACES,
    Errors,
    Unusable,
    positive,
    read_choice,
    read_currency,
    read_date,
    read_decimal,
    read_identifier,
    read_text,
    read_timestamp,
    show,
)
from domain.opensolar.values import Change, Customer, InvoiceFields, LineItem, PaymentFields

INVOICE_STATUSES: tuple[str, ...] = ("not_sent", "sent", "viewed", "pending", "paid", "cancelled")
PAYMENT_STATUSES: tuple[str, ...] = ("pending", "paid", "failed")
EVENTS: tuple[str, ...] = ("CREATE", "UPDATE", "DELETE")


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
    errors = Errors()
    if not isinstance(data, Mapping):
        raise ChangeError([FieldError("(line)", "a change must be a JSON object")])
    event_id = read_identifier(data, "event_id", errors, MAX_EVENT_ID_LENGTH)
    timestamp = read_timestamp(data.get("timestamp"), "timestamp", errors)
    org_id = read_identifier(data, "org_id", errors, MAX_ID_LENGTH)
    model_id = read_identifier(data, "model_id", errors, MAX_ID_LENGTH)
    model = data.get("model")
    if model not in ("Invoice", "Payment"):
        errors.add("model", f"unknown model {show(model)}: expected 'Invoice' or 'Payment'")
    event = data.get("event", "UPDATE")
    if event not in EVENTS:
        errors.add("event", f"unknown event {show(event)}: expected one of {', '.join(EVENTS)}")
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


def _invoice_fields(data: Mapping[str, Any], errors: Errors) -> InvoiceFields | None:
    before = len(errors.items)
    number = read_text(
        data, "invoice_number", "fields.invoice_number", errors, limit=255, required=True
    )
    status = read_choice(data, "status", "fields.status", errors, INVOICE_STATUSES)
    project = read_text(data, "project_id", "fields.project_id", errors, limit=64, required=False)
    issued = read_date(data, "issued_date", "fields.issued_date", errors)
    due = read_date(data, "due_date", "fields.due_date", errors)
    if issued and due and due < issued:
        errors.add("fields.due_date", f"before the issued date {issued.isoformat()}")
    currency = read_currency(data, "fields.currency", errors)
    include_tax = data.get("amounts_include_tax", False)
    if not isinstance(include_tax, bool):
        errors.add("fields.amounts_include_tax", f"must be true or false, not {show(include_tax)}")
        include_tax = False
    customer = _customer(data.get("customer"), errors)
    lines = _line_items(data.get("line_items"), errors, required=status not in ("not_sent", ""))
    stated: Decimal | None = None
    if data.get("total") is not None:
        stated = read_decimal(
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


def _customer(value: Any, errors: Errors) -> Customer | None:
    if not isinstance(value, Mapping):
        errors.add("fields.customer", "required: an object with name and email")
        return None
    before = len(errors.items)
    customer_id = value.get("id")
    cid: str | None = None
    if customer_id is not None:
        if isinstance(customer_id, bool) or not isinstance(customer_id, int | str):
            errors.add("fields.customer.id", f"must be a string or an integer, not {customer_id!r}")
        elif CONTROL.search(str(customer_id)):
            errors.add("fields.customer.id", "contains control characters")
        elif str(customer_id).strip():
            cid = str(customer_id).strip()[:MAX_ID_LENGTH]
    name = read_text(
        value, "name", "fields.customer.name", errors, limit=MAX_NAME_LENGTH, required=True
    )
    email = read_text(
        value, "email", "fields.customer.email", errors, limit=MAX_EMAIL_LENGTH, required=False
    )
    if email is not None and not EMAIL.match(email):
        errors.add("fields.customer.email", f"not an email address: {show(email)}")
        email = None
    elif email is not None and not email.isascii():
        errors.add(
            "fields.customer.email",
            f"Xero refuses accented or other non-ASCII letters in email addresses: {show(email)}",
        )
        email = None
    if len(errors.items) > before or name is None:
        return None
    return Customer(id=cid, name=name, email=email.lower() if email else None)


def _line_items(value: Any, errors: Errors, *, required: bool) -> tuple[LineItem, ...]:
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
        category = read_text(raw, "category", f"{path}.category", errors, limit=255, required=True)
        description = read_text(
            raw,
            "description",
            f"{path}.description",
            errors,
            limit=MAX_DESCRIPTION_LENGTH,
            required=False,
        )
        quantity = read_decimal(
            raw,
            "quantity",
            f"{path}.quantity",
            errors,
            places=UNIT_PLACES,
            limit=MAX_QUANTITY,
            check=positive,
        )
        unit = read_decimal(
            raw, "unit_amount", f"{path}.unit_amount", errors, places=UNIT_PLACES, limit=MAX_AMOUNT
        )
        tax_rate = read_text(raw, "tax_rate", f"{path}.tax_rate", errors, limit=100, required=False)
        if len(errors.items) > before or category is None or quantity is None or unit is None:
            continue
        if abs(quantity * unit) > MAX_AMOUNT:
            errors.add(f"{path}.unit_amount", f"line amount out of range (at most {MAX_AMOUNT})")
            continue
        lines.append(LineItem(category, description or category, quantity, unit, tax_rate))
    return tuple(lines)


def _payment_fields(data: Mapping[str, Any], errors: Errors) -> PaymentFields | None:
    before = len(errors.items)
    invoice_id = read_identifier(
        {"fields.invoice_id": data.get("invoice_id")}, "fields.invoice_id", errors, MAX_ID_LENGTH
    )
    amount = read_decimal(
        data,
        "amount",
        "fields.amount",
        errors,
        places=AMOUNT_PLACES,
        limit=MAX_AMOUNT,
        check=positive,
    )
    currency = read_currency(data, "fields.currency", errors)
    status = read_choice(data, "status", "fields.status", errors, PAYMENT_STATUSES)
    paid = read_date(data, "paid_date", "fields.paid_date", errors)
    reference = read_text(
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
