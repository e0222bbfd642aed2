"""How things look on a terminal and in JSON: the status table, a document's history, event
data, an organisation's settings and the health report."""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from domain.describe import describe
from domain.redaction import redact_text
from domain.vocabulary import Status
from domain.wording import counted
from projections.audit_text import event_fields as event_data
from projections.status import StatusRow, StatusView, money

if TYPE_CHECKING:
    from syncledger.service import Health


def event_type(event: Any) -> str:
    """``Invoice.Issued`` and the like."""
    return type(event).__qualname__


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


def history_document(row: StatusRow, events: Sequence[Any]) -> dict[str, Any]:
    """One document and its history as a JSON object."""
    return {
        "org": row.org,
        "document": row.document,
        "number": row.number,
        "status": row.status,
        "events": history_json(events),
    }


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


def _status_cells(view: StatusView) -> dict[str, str]:
    row = view.row
    detail = row.error or view.reason or (f"Xero {row.xero_id}" if row.xero_id else "")
    if row.status == Status.FAILED and row.action:
        detail = f"{detail} → {row.action}"
    number = row.number
    if row.xero_number and row.xero_number.casefold() != row.number.casefold():
        number = f"{row.number} (Xero {row.xero_number})"
    return {
        "org": row.org,
        "document": row.document,
        "number": number,
        "customer": row.customer or "",
        "amount": f"{money(row.amount)} {row.currency or ''}".strip(),
        "status": row.status,
        "detail": detail,
    }


MIN_DETAIL = 30
"""Narrower than this, DETAIL goes on lines of its own under each row."""
MIN_CUSTOMER = 12
"""On a narrow terminal CUSTOMER is cut down to this, never DETAIL."""


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def status_table(views: Sequence[StatusView], width: int | None = None) -> str:
    """The status table for a terminal ``width`` characters wide: DETAIL (the reason and the
    action) wraps within its column, or on indented lines of its own when the other columns
    leave it too little room; it is never cut. ``width=None``: one line per document."""
    rows = [_status_cells(view) for view in views]
    if not rows:
        return "no documents"
    widths = {key: max(len(title), *(len(r[key]) for r in rows)) for title, key in STATUS_COLUMNS}
    fixed = sum(widths[k] + 2 for _, k in STATUS_COLUMNS[:-1])
    if width is not None and fixed > width:  # long names give way (status --json has them whole)
        cut = min(fixed - width, widths["customer"] - MIN_CUSTOMER)
        if cut > 0:
            widths["customer"] -= cut
            fixed -= cut
            for r in rows:
                r["customer"] = _cut(r["customer"], widths["customer"])
    room = None if width is None else width - fixed
    stacked = room is not None and room < MIN_DETAIL
    titles = STATUS_COLUMNS[:-1] if stacked else STATUS_COLUMNS
    out = ["  ".join(title.ljust(widths[key]) for title, key in titles).rstrip()]
    for r in rows:
        left = "  ".join(
            r[key].rjust(widths[key]) if key == "amount" else r[key].ljust(widths[key])
            for _, key in STATUS_COLUMNS[:-1]
        )
        if stacked:
            assert width is not None
            out.append(left.rstrip())
            if r["detail"]:
                out.extend(_wrap(r["detail"], width - 4, indent="    "))
            continue
        detail = [r["detail"]] if room is None else _wrap(r["detail"], room)
        out.append(f"{left}  {detail[0]}".rstrip())
        out.extend(" " * fixed + more for more in detail[1:])
    return "\n".join(out)


def _wrap(text: str, width: int, indent: str = "") -> list[str]:
    """``text`` in lines of at most ``width`` characters (a word longer than that is split)."""
    lines = textwrap.wrap(text, max(width, 10), break_on_hyphens=False)
    return [indent + line for line in lines] if lines else [""]


def terminal_width() -> int | None:
    """The width to fit the status table to: $COLUMNS, else the terminal's; None (no wrapping)
    when standard output is not a terminal, so pipes and files get one line per document."""
    columns = os.environ.get("COLUMNS", "")
    if columns.strip().isdigit() and int(columns) > 0:
        return int(columns)
    if not sys.stdout.isatty():
        return None
    return shutil.get_terminal_size((120, 24)).columns


def health_line(org: dict[str, Any]) -> str:
    """One organisation in ``health``: its connection as Xero last answered it, not assumed."""
    if not org["connected"]:
        parts = ["not connected"]
    else:
        parts = [f"connected to tenant {org['tenant_id']}"]
    answer, at = org.get("last_answer"), org.get("last_answer_at")
    if answer is None:
        parts.append("no answer from Xero yet")
    elif org.get("reached"):
        parts.append(f"Xero last answered at {at}: {answer}")
    else:
        parts.append(f"Xero NOT reached at {at}: {answer}")
    minute, day = org["calls_left_this_minute"], org["calls_left_today"]
    parts.append(f"calls left this minute {'?' if minute is None else minute}")
    parts.append(f"today {'?' if day is None else day}")
    if org["parked_until"]:
        parts.append(f"parked until {org['parked_until']} ({org['parked_reason']})")
    return ", ".join(parts)


def health_lines(report: Health, running: bool) -> list[str]:
    """The ``health`` report as text lines."""
    lines = [f"log head: {report.head}; relay running: {'yes' if running else 'no'}"]
    for name, values in report.projections.items():
        lag = counted(values["lag"], "event")
        lines.append(f"projection {name}: at {values['position']}, {lag} behind")
    depth = ", ".join(f"{state} {count}" for state, count in report.outbox.items())
    lines.append(f"outbox: {depth}")
    if report.oldest_pending_seconds is not None:
        lines.append(f"oldest pending delivery: {report.oldest_pending_seconds:.0f} s old")
    for org in report.organisations:
        lines.append(f"organisation {org['org']}: " + health_line(org))
    return lines


def settings_lines(org: str, settings: dict[str, Any]) -> list[str]:
    """An organisation's connection and settings (``config show``) as text lines."""
    if settings["connected"]:
        xero = (
            f"  Xero: {settings['xero_url']} tenant {settings['tenant_id']} "
            f"since {settings['connected_at']}"
        )
    else:
        xero = "  Xero: not connected"
    numbering = "sent as NUMBER-2, NUMBER-3 …" if settings["number_suffix"] else "refused (default)"
    return [
        f"organisation {org}",
        xero,
        f"  new invoices: {settings['invoice_status']}",
        f"  payment account: {settings['payment_account'] or '(not set)'}",
        f"  rounding account: {settings['rounding_account']}",
        f"  reissued numbers: {numbering}",
        "  line categories → accounts:",
        *_pairs(settings["accounts"]),
        "  tax rates → tax types:",
        *_pairs(settings["tax_types"]),
    ]


def _pairs(mapping: dict[str, str]) -> list[str]:
    return [f"    {key} → {value}" for key, value in mapping.items()] or ["    (none)"]
