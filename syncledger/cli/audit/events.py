"""``audit events`` (the log's events, filtered, a page at a time) and ``audit calls`` (every Xero
call made for one document, and what Xero answered)."""

from __future__ import annotations

import json
from collections.abc import Generator, Sequence
from contextlib import ExitStack, closing
from typing import Any

import click

from projections.audit import KINDS, CallRow, EventFilter, Window
from syncledger.audit import queries
from syncledger.cli.audit import output
from syncledger.cli.audit.common import Common, audit_index, common, echo, emit, note
from syncledger.cli.audit.output import Column

EVENT_COLUMNS = (
    Column("POSITION", "position", right=True),
    Column("AT", "at", 32),
    Column("ORG", "org", 10),
    Column("DOCUMENT", "document", 20),
    Column("NUMBER", "number", 16),
    Column("TYPE", "event_type", 28),
    Column("EMAIL", "email", 28),
    Column("SUMMARY", "summary", 90),
)
DATA_COLUMN = Column("DATA", "data", 200)


@click.command("events")
@click.option("--doc", "doc", metavar="DOC", default=None, help="Only this document's events.")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(KINDS),
    help="Only events of these aggregates (repeatable).",
)
@click.option(
    "--type",
    "types",
    multiple=True,
    metavar="TYPE",
    help="Only these event types, e.g. Invoice.Issued, or SyncFailed for every kind (repeatable).",
)
@click.option("--email", metavar="EMAIL", default=None, help="Only this customer's documents.")
@click.option(
    "--after",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Start after this log position (the next page).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=100,
    show_default=True,
    help="Events per page; 0 for all.",
)
@click.option("--data", "with_data", is_flag=True, help="Include each event's content.")
@common
@click.pass_context
def events_command(
    ctx: click.Context,
    doc: str | None,
    kinds: tuple[str, ...],
    types: tuple[str, ...],
    email: str | None,
    after: int,
    limit: int,
    with_data: bool,
    given: Common,
) -> None:
    """The events of the log matching filters, in log order, a page at a time.

    DOC is an invoice number (INV-00019) or invoice:1042 / payment:3001. Each event has position,
    at, org, kind, document, number, version, event_type, email, summary (and data with --data).
    When more events match than --limit, the table and CSV say on stderr how to get the next
    page; --json gives it as next_after.
    """
    fmt = given.format()
    chosen = given.window()
    org = given.org
    with audit_index(ctx, given.db) as audit, ExitStack() as stack:
        where = EventFilter(
            org=org,
            aggregate_id=queries.resolve(audit, doc, org).doc_id if doc else None,
            kinds=queries.event_kinds(kinds),
            types=queries.event_types(types),
            email=email.strip().casefold() if email else None,
            window=chosen,
        )
        page = _Page(limit)
        views = queries.events(audit, where, after=after, limit=page.fetch, with_data=with_data)
        taken = page.take(views)
        stack.enter_context(closing(taken))  # closed (cursor first) while the ledger is open
        emit(
            fmt,
            (*EVENT_COLUMNS, DATA_COLUMN) if with_data else EVENT_COLUMNS,
            (v.as_json() for v in taken),
            head={"filters": _filters(org, doc, kinds, types, email, chosen)},
            key="events",
            tail=lambda: {"next_after": page.next_after},
            empty="no events match",
        )
    if fmt != output.JSON and page.next_after is not None:
        note(f"more events match: add --after {page.next_after} for the next page")


class _Page:
    """Takes one page of rows and notes where the next page starts."""

    def __init__(self, limit: int) -> None:
        self.limit = limit or None
        self.fetch = self.limit + 1 if self.limit else None
        self.next_after: int | None = None

    def take(
        self, views: Generator[queries.EventView, None, None]
    ) -> Generator[queries.EventView, None, None]:
        last: int | None = None
        with closing(views):
            for count, view in enumerate(views):
                if self.limit is not None and count >= self.limit:
                    self.next_after = last
                    return
                last = view.row.position
                yield view


def _filters(
    org: str | None,
    doc: str | None,
    kinds: Sequence[str],
    types: Sequence[str],
    email: str | None,
    chosen: Window,
) -> dict[str, Any]:
    return {
        "org": org,
        "document": doc,
        "kinds": list(kinds),
        "types": list(types),
        "email": email,
        "since": chosen.since,
        "until": chosen.until,
    }


CALL_COLUMNS = (
    Column("AT", "at", 32),
    Column("OPERATION", "operation", 12),
    Column("CALL", "call", 22),
    Column("METHOD", "method", 6),
    Column("PATH", "path", 40),
    Column("STATUS", "status", 6, right=True),
    Column("OUTCOME", "outcome", 50),
    Column("MS", "duration_ms", 9, right=True),
    Column("RESULT", "result", 9),
    Column("IDEMPOTENCY KEY", "idempotency_key", 24),
    Column("REQUEST", "request", 60),
    Column("RESPONSE", "response", 80),
)


@click.command("calls")
@click.argument("doc", metavar="DOC")
@common
@click.pass_context
def calls_command(
    ctx: click.Context,
    doc: str,
    given: Common,
) -> None:
    """Every Xero call made for one document, and what Xero answered.

    DOC is an invoice number (INV-00019) or invoice:1042 / payment:3001. Each call has at,
    operation (invoice, credit_note, payment), call (create_invoice, find_contact, ...), method,
    path, status, outcome, duration_ms, result (synced, failed, retrying, deferred),
    idempotency_key, and
    request and response summaries (amounts, account codes, contact, Xero ids, numbers,
    statuses). Never tokens or secrets.
    """
    fmt = given.format()
    with audit_index(ctx, given.db) as audit, ExitStack() as stack:
        row, found = queries.calls(audit, doc, given.org, given.window())
        stack.enter_context(closing(found))
        if fmt == output.TABLE:
            echo(f"{row.number} ({row.document}, organisation {row.org}): {row.status}")
        emit(
            fmt,
            CALL_COLUMNS,
            (_call_row(call) for call in found),
            head={"org": row.org, "document": row.document, "number": row.number},
            key="calls",
            empty="no Xero calls recorded for this document",
        )


def _call_row(call: CallRow) -> dict[str, Any]:
    """One Xero call as a row, its request and response summaries as data."""
    return {
        "at": call.at,
        "operation": call.operation,
        "call": call.xero_operation,
        "method": call.method,
        "path": call.path,
        "status": call.status,
        "outcome": call.outcome,
        "duration_ms": call.duration_ms,
        "result": call.result,
        "idempotency_key": call.idempotency_key,
        "request": stored_json(call.request),
        "response": stored_json(call.response),
    }


def stored_json(text: str) -> Any:
    """A stored JSON summary as data (text as it is if unreadable)."""
    try:
        return json.loads(text)
    except ValueError:
        return text
