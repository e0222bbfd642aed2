"""``audit failures`` (failures grouped by message), ``audit as-of`` (every document's status at
a moment, derived from the log) and ``audit timings`` (time from issue to Synced)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from datetime import timedelta
from typing import Any

import click

from projections.status import StatusView
from syncledger.audit import queries
from syncledger.cli.audit import output
from syncledger.cli.audit.common import Common, audit_index, common, echo, emit
from syncledger.cli.audit.output import Column
from syncledger.cli.shell import KIND_CHOICE, parse_moment, parse_status, status_option

TINY = timedelta(microseconds=1)

FAILURE_COLUMNS = (
    Column("COUNT", "failures", right=True),
    Column("DOCS", "documents_count", right=True),
    Column("CATEGORY", "category", 14),
    Column("FIRST SEEN", "first_seen", 32),
    Column("LAST SEEN", "last_seen", 32),
    Column("FINAL", "final_failures", right=True),
    Column("MESSAGE", "message", 80),
    Column("DOCUMENTS", "documents", 80),
)


@click.command("failures")
@click.option(
    "--documents",
    "documents_limit",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="Documents to name per message; 0 for all.",
)
@common
@click.pass_context
def failures_command(
    ctx: click.Context,
    documents_limit: int,
    given: Common,
) -> None:
    """Failures grouped by message, the most frequent first: one configuration mistake is one
    line, with how often it happened, first and last seen, and the documents it affected.

    Counts every failed attempt (final or to be retried) and every amendment after sync. Each
    line has message, category, failures, final_failures, documents_count, first_seen,
    last_seen and documents.
    """
    fmt = given.format()
    with audit_index(ctx, given.db) as audit:
        views = queries.failures(audit, given.org, given.window(), documents_limit or None)

        def rows() -> Iterator[dict[str, Any]]:
            for view in views:
                data = view.as_json()
                if fmt != output.JSON:
                    data["documents"] = " ".join(
                        f"{n} ({d})" if n != d else d for d, n in view.documents
                    )
                yield data

        emit(fmt, FAILURE_COLUMNS, rows(), head={}, key="failures", empty="no failures")


AS_OF_COLUMNS = (
    Column("ORG", "org", 10),
    Column("DOCUMENT", "document", 20),
    Column("NUMBER", "number", 16),
    Column("AMOUNT", "amount", 14, right=True),
    Column("STATUS", "status", 13),
    Column("DETAIL", "detail", 90),
)
AS_OF_CSV_COLUMNS = tuple(
    Column(key.upper(), key)
    for key in (
        "org",
        "document",
        "kind",
        "number",
        "status",
        "error",
        "reason",
        "xero_id",
        "credit_note_id",
        "amount",
        "currency",
        "date",
        "attempts",
        "updated_at",
    )
)


@click.command("as-of")
@click.argument("timestamp", metavar="TIMESTAMP")
@status_option("Only Synced, Pending, Not Attempted (not-attempted) or Failed.")
@click.option("--kind", type=KIND_CHOICE, default=None)
@click.option("--all", "include_hidden", is_flag=True, help="Include drafts and unpaid payments.")
@common
@click.pass_context
def as_of_command(
    ctx: click.Context,
    timestamp: str,
    status_name: str | None,
    kind: str | None,
    include_hidden: bool,
    given: Common,
) -> None:
    """The status of every document as it was at TIMESTAMP, derived from the log.

    TIMESTAMP is ISO 8601 (UTC unless an offset is given); a date alone means the end of that
    day. Each document's events up to that moment are folded with the status rules, so the
    answer does not depend on the current status table. --since/--until keep documents first
    recorded in that window. Each document has org, document, kind, number, status, error,
    reason, xero_id, credit_note_id, amount, currency, date, attempts, updated_at.
    """
    fmt = given.format()
    moment = parse_moment(timestamp, end_of_day=True)
    if len(timestamp.strip()) == 10:
        moment -= TINY
    wanted = parse_status(status_name)
    with audit_index(ctx, given.db) as audit:
        views = queries.as_of(
            audit,
            moment,
            org=given.org,
            window=given.window(),
            include_hidden=include_hidden,
            status=wanted,
            kind=kind,
        )
        with closing(views):
            emit(
                fmt,
                AS_OF_CSV_COLUMNS if fmt == output.CSV else AS_OF_COLUMNS,
                (_as_of_row(view, fmt) for view in views),
                head={"as_of": moment.isoformat()},
                key="documents",
                empty=f"no documents as of {moment.isoformat()}",
            )


def _as_of_row(view: StatusView, fmt: str) -> dict[str, Any]:
    """A document's status then; on a terminal with its detail and amount as one cell each."""
    data: dict[str, Any] = view.as_json()
    row = view.row
    if fmt == output.TABLE:
        xero = f"Xero {row.xero_id}" if row.xero_id else ""
        data["detail"] = row.error or view.reason or xero
        if row.amount:
            data["amount"] = f"{row.amount} {row.currency or ''}".strip()
    return data


TIMING_COLUMNS = (
    Column("ROW", "row", 8),
    Column("KIND", "kind", 12),
    Column("COUNT", "count", right=True),
    Column("MEDIAN S", "median_s", right=True),
    Column("P95 S", "p95_s", right=True),
    Column("MAX S", "max_s", right=True),
    Column("DOCUMENT", "document", 20),
    Column("NUMBER", "number", 16),
    Column("STARTED", "started_at", 32),
    Column("SYNCED", "synced_at", 32),
    Column("SECONDS", "seconds", right=True),
)


def _seconds(millis: float | int | None) -> float | None:
    return round(millis / 1000, 3) if millis is not None else None


@click.command("timings")
@click.option(
    "--from",
    "start",
    type=click.Choice(["issue", "request"]),
    default="issue",
    show_default=True,
    help="Measure from issue (payment, cancellation) or from the delivery request.",
)
@click.option(
    "--slowest",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="How many of the slowest documents to list.",
)
@common
@click.pass_context
def timings_command(
    ctx: click.Context,
    start: str,
    slowest: int,
    given: Common,
) -> None:
    """Time from issue (or payment, or cancellation for credit notes) to Synced: count, median,
    p95 and max per kind, then the slowest documents.

    Times are the ledger's own record times, of each document's first delivery; --since and
    --until select documents issued in that window. --json gives kinds and slowest; --csv one
    table whose row column says summary or slowest.
    """
    fmt = given.format()
    with audit_index(ctx, given.db) as audit:
        report = queries.timings(
            audit, given.org, given.window(), from_request=start == "request", slowest=slowest
        )
    kinds, slow = _timing_rows(report)
    if fmt == output.JSON:
        output.write_json(echo, {"from": start, "kinds": kinds}, "slowest", iter(slow))
    elif fmt == output.CSV:
        output.write_csv(echo, TIMING_COLUMNS, iter([*kinds, *slow]))
    else:
        echo(f"time to Synced, from {start}")
        output.write_table(echo, TIMING_COLUMNS[1:6], iter(kinds))
        if slow:
            echo("")
            echo("slowest")
            output.write_table(echo, (*TIMING_COLUMNS[1:2], *TIMING_COLUMNS[6:]), iter(slow))


def _timing_rows(
    report: queries.TimingsReport,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The summary row of each kind, and a row for each of the slowest documents."""
    kinds = [
        {
            "row": "summary",
            "kind": s.operation,
            "count": s.count,
            "median_s": _seconds(s.median),
            "p95_s": _seconds(s.p95),
            "max_s": _seconds(s.max),
        }
        for s in report.stats
    ]
    slow = [
        {
            "row": "slowest",
            "kind": t.operation,
            "document": t.document,
            "number": t.number,
            "started_at": t.requested_at if report.from_request else t.started_at,
            "synced_at": t.synced_at,
            "seconds": _seconds(t.delivery_millis if report.from_request else t.millis),
        }
        for t in report.slowest
    ]
    return kinds, slow
