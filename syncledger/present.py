"""How things look on a terminal and in JSON: the status table, history lines, event data."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.describe import describe
from domain.redaction import redact_text
from projections.status import StatusView, money


def plain(value: Any) -> Any:
    """A value as plain JSON data (decimals as strings, dates as ISO text)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return value


_SKIP = {"originator_id", "originator_version", "timestamp", "originator_topic"}


def event_type(event: Any) -> str:
    """``Invoice.Issued`` and the like."""
    return type(event).__qualname__


def event_data(event: Any) -> dict[str, Any]:
    """An event's own attributes as plain data."""
    return {k: plain(v) for k, v in vars(event).items() if k not in _SKIP}


def event_summary(event: Any) -> str:
    """One human line saying what an event means (secrets redacted)."""
    return redact_text(describe(event))


def history_json(events: Sequence[Any]) -> list[dict[str, Any]]:
    """Every event of a history as JSON objects, in order."""
    return [
        {
            "version": e.originator_version,
            "time": e.timestamp.isoformat(),
            "type": event_type(e),
            "summary": event_summary(e),
            "data": event_data(e),
        }
        for e in events
    ]


def history_lines(events: Sequence[Any]) -> list[str]:
    """Every event of a history as text lines, with the Xero calls each outcome made."""
    lines: list[str] = []
    for e in events:
        stamp = e.timestamp.strftime("%Y-%m-%d %H:%M:%S")
        lines.append(f"{e.originator_version:>3}  {stamp}  {event_type(e):<28} {event_summary(e)}")
        for call in getattr(e, "calls", None) or []:
            key = call.get("idempotency_key")
            tail = f" key={key[:24]}…" if key else ""
            lines.append(
                f"{'':>27}↳ {call.get('method')} {call.get('path')} → {call.get('status') or '-'}"
                f" {call.get('outcome')} ({call.get('duration_ms')} ms){tail}"
            )
    return lines


STATUS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("ORG", "org"),
    ("DOCUMENT", "document"),
    ("NUMBER", "number"),
    ("CUSTOMER", "customer"),
    ("AMOUNT", "amount"),
    ("STATUS", "status"),
    ("DETAIL", "detail"),
)


def status_table(views: Sequence[StatusView], width: int = 160) -> str:
    """The status table for a terminal."""
    rows: list[dict[str, str]] = []
    for view in views:
        row = view.row
        detail = row.error or view.reason or (f"Xero {row.xero_id}" if row.xero_id else "")
        if row.status == "Failed" and row.action:
            detail = f"{detail} → {row.action}"
        number = row.number
        if row.xero_number and row.xero_number.casefold() != row.number.casefold():
            number = f"{row.number} (Xero {row.xero_number})"
        rows.append(
            {
                "org": row.org,
                "document": row.document,
                "number": number,
                "customer": row.customer or "",
                "amount": f"{money(row.amount)} {row.currency or ''}".strip(),
                "status": row.status,
                "detail": detail,
            }
        )
    if not rows:
        return "no documents"
    widths = {key: max(len(title), *(len(r[key]) for r in rows)) for title, key in STATUS_COLUMNS}
    fixed = sum(widths[k] + 2 for _, k in STATUS_COLUMNS[:-1])
    widths["detail"] = max(20, min(widths["detail"], width - fixed))
    out = ["  ".join(title.ljust(widths[key]) for title, key in STATUS_COLUMNS).rstrip()]
    for r in rows:
        cells = []
        for _, key in STATUS_COLUMNS:
            text = r[key]
            if len(text) > widths[key]:
                text = text[: widths[key] - 1] + "…"
            cells.append(text.rjust(widths[key]) if key == "amount" else text.ljust(widths[key]))
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)
