"""Builders of OpenSolar change objects with sensible defaults, one JSON object per change: the
tests, the benchmarks and the live check build their inputs with them."""

from __future__ import annotations

import itertools
import json
from typing import Any

_ids = itertools.count(1)


def invoice_change(
    model_id: int | str = 1042,
    *,
    number: str | None = None,
    status: str = "sent",
    timestamp: str = "2026-11-20T09:30:00Z",
    org_id: int | str = 42,
    event_id: str | None = None,
    customer: dict[str, Any] | None = None,
    lines: list[dict[str, Any]] | None = None,
    include_tax: bool = True,
    project_id: int | None = 777,
    event: str = "UPDATE",
    **fields: Any,
) -> dict[str, Any]:
    """An Invoice change like OpenSolar's webhook payloads."""
    body: dict[str, Any] = {
        "invoice_number": number or f"INV-{model_id}",
        "status": status,
        "project_id": project_id,
        "issued_date": timestamp[:10] if not timestamp.isdigit() else "2026-11-20",
        "due_date": "2026-12-31",
        "currency": "AUD",
        "amounts_include_tax": include_tax,
        "customer": customer or {"id": 555, "name": "Jane Citizen", "email": "jane@example.com"},
        "line_items": lines
        if lines is not None
        else [
            {
                "category": "sales",
                "description": "6.6 kW system",
                "quantity": 1,
                "unit_amount": "9900.00",
                "tax_rate": "GST",
            },
            {
                "category": "discounts",
                "description": "Referral",
                "quantity": 1,
                "unit_amount": "-250.00",
                "tax_rate": "GST",
            },
        ],
    }
    body.update(fields)
    return {
        "event_id": event_id or f"evt-{next(_ids)}",
        "timestamp": timestamp,
        "org_id": org_id,
        "model": "Invoice",
        "model_id": model_id,
        "event": event,
        "fields": body,
    }


def payment_change(
    model_id: int | str = 3001,
    *,
    invoice_id: int | str = 1042,
    amount: str = "2000.00",
    status: str = "paid",
    timestamp: str = "2026-11-22T10:00:00Z",
    org_id: int | str = 42,
    event_id: str | None = None,
    reference: str | None = "Card 4242",
    paid_date: str | None = None,
    currency: str = "AUD",
    event: str = "UPDATE",
) -> dict[str, Any]:
    """A Payment change like OpenSolar's webhook payloads (``paid_date`` defaults to the
    timestamp's day)."""
    return {
        "event_id": event_id or f"evt-{next(_ids)}",
        "timestamp": timestamp,
        "org_id": org_id,
        "model": "Payment",
        "model_id": model_id,
        "event": event,
        "fields": {
            "invoice_id": invoice_id,
            "amount": amount,
            "currency": currency,
            "status": status,
            "paid_date": paid_date or (timestamp[:10] if not timestamp.isdigit() else "2026-11-22"),
            "reference": reference,
        },
    }


def ndjson(*changes: dict[str, Any]) -> str:
    """Changes as NDJSON text."""
    return "".join(json.dumps(c) + "\n" for c in changes)
