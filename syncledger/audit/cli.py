"""The ``syncledger audit`` commands: ``events``, ``calls``, ``failures``, ``as-of``,
``timings`` and ``reconcile``. Each reads a fresh audit index (brought up to the end of the log
first), takes ``--org``, ``--since`` and ``--until``, and prints a table, ``--csv`` (with a header
row) or ``--json`` (one JSON document). Errors become exit code 1 (2 for usage mistakes);
``reconcile`` also exits 1 when anything differs."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from contextlib import ExitStack, closing, contextmanager
from datetime import UTC, date, datetime, timedelta
from types import TracebackType
from typing import Any

import click
from eventsourcing.persistence import PersistenceError

from domain.redaction import redact_text
from domain.wording import counted
from outbox.reconcile import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, ReconcileError
from projections.audit import KINDS, EventFilter, Window, stamp
from projections.errors import StorageError
from projections.status import STATUSES
from syncledger import config
from syncledger.audit import output, queries
from syncledger.audit.output import Column
from syncledger.audit.reconciling import reconcile as run_reconcile
from syncledger.bootstrap import NoLedgerError, System
from syncledger.clierrors import F, Failure, handle_errors, operational

ONE_DAY = timedelta(days=1)
TINY = timedelta(microseconds=1)


operational(ReconcileError)


def _settings(ctx: click.Context, db: str | None) -> config.Settings:
    root = ctx.find_root().obj
    base = root.get("settings") if isinstance(root, dict) else None
    if not isinstance(base, config.Settings):
        try:
            base = config.load()
        except config.SettingsError as exc:
            raise click.UsageError(str(exc)) from exc
    given = db or (root.get("db") if isinstance(root, dict) else None)
    return base.with_options(db=given)


@contextmanager
def opened(ctx: click.Context, db: str | None) -> Iterator[queries.Audit]:
    """The audit index of this command's ledger, brought up to the end of the log."""
    settings = _settings(ctx, db)
    try:
        system = System.open(settings, create=False)
    except NoLedgerError as exc:
        raise Failure(str(exc)) from exc
    except (StorageError, PersistenceError, OSError) as exc:
        raise Failure(f"cannot open the database {settings.db}: {exc}") from exc
    try:
        audit = queries.Audit.open(system)
        audit.refresh()
        yield audit
    finally:
        system.close()


# options --------------------------------------------------------------------------------------


def parse_moment(value: str, *, end_of_day: bool = False) -> datetime:
    """An ISO 8601 timestamp (UTC without an offset) or date; a date is the start of that day,
    or with ``end_of_day`` the start of the next one."""
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return moment + ONE_DAY if end_of_day else moment
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 date or timestamp such as 2026-11-01 or "
            "2026-11-01T09:30:00Z"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _window(since: str | None, until: str | None) -> Window:
    start = stamp(parse_moment(since)) if since else None
    end = stamp(parse_moment(until, end_of_day=True)) if until else None
    return Window(start, end)


def _format(as_json: bool, as_csv: bool) -> str:
    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    return output.JSON if as_json else output.CSV if as_csv else output.TABLE


def common(func: F) -> F:
    """``--org``, ``--since``, ``--until``, ``--json``, ``--csv`` and ``--db``."""
    decorators = [
        click.option("--org", metavar="ORG", default=None, help="Only this organisation."),
        click.option(
            "--since",
            metavar="WHEN",
            default=None,
            help="From this date or timestamp (ISO 8601, UTC unless an offset is given).",
        ),
        click.option(
            "--until",
            metavar="WHEN",
            default=None,
            help="Before this timestamp; a date includes the whole of that day.",
        ),
        click.option("--json", "as_json", is_flag=True, help="Print one JSON document."),
        click.option("--csv", "as_csv", is_flag=True, help="Print CSV with a header row."),
        click.option(
            "--db",
            metavar="PATH",
            default=None,
            help="Ledger database (SQLite file). Default: $SYNCLEDGER_DB or ./syncledger.db.",
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def _emit(
    fmt: str,
    columns: Sequence[Column],
    rows: Iterator[Mapping[str, Any]],
    *,
    head: Mapping[str, Any],
    key: str,
    tail: Callable[[], Mapping[str, Any]] | None = None,
    empty: str = "nothing found",
) -> int:
    if fmt == output.JSON:
        return output.write_json(echo, head, key, rows, tail)
    if fmt == output.CSV:
        return output.write_csv(echo, columns, rows)
    return output.write_table(echo, columns, rows, empty=empty)


def echo(text: str) -> None:
    """One line on stdout, with anything that looks like a credential redacted."""
    click.echo(redact_text(text))


def _stderr(message: str) -> None:
    click.echo(redact_text(message), err=True)


# the group ------------------------------------------------------------------------------------


@click.group(
    "audit", context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
def audit_group() -> None:
    """Answer questions about the ledger's history, and reconcile it with Xero.

    \b
    Every command reads a fresh audit index of the log and takes --org, --since and --until
    (ISO 8601 dates or timestamps, UTC unless an offset is given; --until is exclusive, and a
    date includes the whole of that day), and prints a table, --csv (with a header row) or
    --json (one JSON document). Tokens and secrets never appear in the output.
    """


# events ---------------------------------------------------------------------------------------

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


@audit_group.command("events")
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
@handle_errors
def events_command(
    ctx: click.Context,
    doc: str | None,
    kinds: tuple[str, ...],
    types: tuple[str, ...],
    email: str | None,
    after: int,
    limit: int,
    with_data: bool,
    org: str | None,
    since: str | None,
    until: str | None,
    as_json: bool,
    as_csv: bool,
    db: str | None,
) -> None:
    """The events of the log matching filters, in log order, a page at a time.

    DOC is an invoice number (INV-00019) or invoice:1042 / payment:3001. Each event has position,
    at, org, kind, document, number, version, event_type, email, summary (and data with --data).
    When more events match than --limit, the table and CSV say on stderr how to get the next
    page; --json gives it as next_after.
    """
    fmt = _format(as_json, as_csv)
    window = _window(since, until)
    with opened(ctx, db) as audit, ExitStack() as stack:
        aggregate_id = queries.resolve(audit, doc, org).doc_id if doc else None
        where = EventFilter(
            org=org,
            aggregate_id=aggregate_id,
            kinds=queries.event_kinds(kinds),
            types=queries.event_types(types),
            email=email.strip().casefold() if email else None,
            window=window,
        )
        page = _Page(limit)
        views = queries.events(audit, where, after=after, limit=page.fetch, with_data=with_data)
        taken = page.take(views)
        rows = (v.as_json() for v in taken)
        columns = (*EVENT_COLUMNS, Column("DATA", "data", 200)) if with_data else EVENT_COLUMNS
        stack.enter_context(closing(taken))  # closed (cursor first) while the ledger is open
        _emit(
            fmt,
            columns,
            rows,
            head={"filters": _filters(org, doc, kinds, types, email, window)},
            key="events",
            tail=lambda: {"next_after": page.next_after},
            empty="no events match",
        )
    if fmt != output.JSON and page.next_after is not None:
        _stderr(f"more events match: add --after {page.next_after} for the next page")


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
    window: Window,
) -> dict[str, Any]:
    return {
        "org": org,
        "document": doc,
        "kinds": list(kinds),
        "types": list(types),
        "email": email,
        "since": window.since,
        "until": window.until,
    }


# calls ----------------------------------------------------------------------------------------

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


@audit_group.command("calls")
@click.argument("doc", metavar="DOC")
@common
@click.pass_context
@handle_errors
def calls_command(
    ctx: click.Context,
    doc: str,
    org: str | None,
    since: str | None,
    until: str | None,
    as_json: bool,
    as_csv: bool,
    db: str | None,
) -> None:
    """Every Xero call made for one document, and what Xero answered.

    DOC is an invoice number (INV-00019) or invoice:1042 / payment:3001. Each call has at,
    operation (invoice, credit_note, payment), call (create_invoice, find_contact, ...), method,
    path, status, outcome, duration_ms, result (synced, failed, retrying, deferred),
    idempotency_key, and
    request and response summaries (amounts, account codes, contact, Xero ids, numbers,
    statuses). Never tokens or secrets.
    """
    fmt = _format(as_json, as_csv)
    with opened(ctx, db) as audit, ExitStack() as stack:
        row, found = queries.calls(audit, doc, org, _window(since, until))
        stack.enter_context(closing(found))
        rows = (
            {
                "at": c.at,
                "operation": c.operation,
                "call": c.xero_operation,
                "method": c.method,
                "path": c.path,
                "status": c.status,
                "outcome": c.outcome,
                "duration_ms": c.duration_ms,
                "result": c.result,
                "idempotency_key": c.idempotency_key,
                "request": queries_json(c.request),
                "response": queries_json(c.response),
            }
            for c in found
        )
        if fmt == output.TABLE:
            echo(f"{row.number} ({row.document}, organisation {row.org}): {row.status}")
        _emit(
            fmt,
            CALL_COLUMNS,
            rows,
            head={"org": row.org, "document": row.document, "number": row.number},
            key="calls",
            empty="no Xero calls recorded for this document",
        )


def queries_json(text: str) -> Any:
    """A stored JSON summary as data (text as it is if unreadable)."""
    try:
        return json.loads(text)
    except ValueError:
        return text


# failures -------------------------------------------------------------------------------------

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


@audit_group.command("failures")
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
@handle_errors
def failures_command(
    ctx: click.Context,
    documents_limit: int,
    org: str | None,
    since: str | None,
    until: str | None,
    as_json: bool,
    as_csv: bool,
    db: str | None,
) -> None:
    """Failures grouped by message, the most frequent first: one configuration mistake is one
    line, with how often it happened, first and last seen, and the documents it affected.

    Counts every failed attempt (final or to be retried) and every amendment after sync. Each
    line has message, category, failures, final_failures, documents_count, first_seen,
    last_seen and documents.
    """
    fmt = _format(as_json, as_csv)
    with opened(ctx, db) as audit:
        views = queries.failures(audit, org, _window(since, until), documents_limit or None)

        def rows() -> Iterator[dict[str, Any]]:
            for view in views:
                data = view.as_json()
                if fmt != output.JSON:
                    data["documents"] = " ".join(
                        f"{n} ({d})" if n != d else d for d, n in view.documents
                    )
                yield data

        _emit(fmt, FAILURE_COLUMNS, rows(), head={}, key="failures", empty="no failures")


# as-of ----------------------------------------------------------------------------------------

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
STATUS_NAMES = {s.lower().replace(" ", "-"): s for s in STATUSES} | {s.lower(): s for s in STATUSES}


@audit_group.command("as-of")
@click.argument("timestamp", metavar="TIMESTAMP")
@click.option(
    "--status",
    "status_name",
    metavar="STATUS",
    default=None,
    help="Only Synced, Pending, Not Attempted (not-attempted) or Failed.",
)
@click.option("--kind", type=click.Choice(["invoice", "payment"]), default=None)
@click.option("--all", "include_hidden", is_flag=True, help="Include drafts and unpaid payments.")
@common
@click.pass_context
@handle_errors
def as_of_command(
    ctx: click.Context,
    timestamp: str,
    status_name: str | None,
    kind: str | None,
    include_hidden: bool,
    org: str | None,
    since: str | None,
    until: str | None,
    as_json: bool,
    as_csv: bool,
    db: str | None,
) -> None:
    """The status of every document as it was at TIMESTAMP, derived from the log.

    TIMESTAMP is ISO 8601 (UTC unless an offset is given); a date alone means the end of that
    day. Each document's events up to that moment are folded with the status rules, so the
    answer does not depend on the current status table. --since/--until keep documents first
    recorded in that window. Each document has org, document, kind, number, status, error,
    reason, xero_id, credit_note_id, amount, currency, date, attempts, updated_at.
    """
    fmt = _format(as_json, as_csv)
    moment = parse_moment(timestamp, end_of_day=True)
    if len(timestamp.strip()) == 10:
        moment -= TINY
    wanted = None
    if status_name is not None:
        wanted = STATUS_NAMES.get(status_name.strip().lower().replace("_", "-"))
        if wanted is None:
            raise click.BadParameter(
                f"{status_name!r}: expected one of {', '.join(STATUSES)}", param_hint="--status"
            )
    with opened(ctx, db) as audit:
        views = queries.as_of(
            audit,
            moment,
            org=org,
            window=_window(since, until),
            include_hidden=include_hidden,
            status=wanted,
            kind=kind,
        )

        def rows() -> Iterator[dict[str, Any]]:
            for view in views:
                data = view.as_json()
                row = view.row
                if fmt == output.TABLE:
                    xero = f"Xero {row.xero_id}" if row.xero_id else ""
                    data["detail"] = row.error or view.reason or xero
                    if row.amount:
                        data["amount"] = f"{row.amount} {row.currency or ''}".strip()
                yield data

        with closing(views):
            _emit(
                fmt,
                AS_OF_CSV_COLUMNS if fmt == output.CSV else AS_OF_COLUMNS,
                rows(),
                head={"as_of": moment.isoformat()},
                key="documents",
                empty=f"no documents as of {moment.isoformat()}",
            )


# timings --------------------------------------------------------------------------------------

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


@audit_group.command("timings")
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
@handle_errors
def timings_command(
    ctx: click.Context,
    start: str,
    slowest: int,
    org: str | None,
    since: str | None,
    until: str | None,
    as_json: bool,
    as_csv: bool,
    db: str | None,
) -> None:
    """Time from issue (or payment, or cancellation for credit notes) to Synced: count, median,
    p95 and max per kind, then the slowest documents.

    Times are the ledger's own record times, of each document's first delivery; --since and
    --until select documents issued in that window. --json gives kinds and slowest; --csv one
    table whose row column says summary or slowest.
    """
    fmt = _format(as_json, as_csv)
    with opened(ctx, db) as audit:
        report = queries.timings(
            audit, org, _window(since, until), from_request=start == "request", slowest=slowest
        )
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
    if fmt == output.JSON:
        output.write_json(
            echo,
            {"from": start, "kinds": kinds},
            "slowest",
            iter(slow),
        )
        return
    if fmt == output.CSV:
        output.write_csv(echo, TIMING_COLUMNS, iter([*kinds, *slow]))
        return
    echo(f"time to Synced, from {start}")
    output.write_table(echo, TIMING_COLUMNS[1:6], iter(kinds))
    if slow:
        echo("")
        echo("slowest")
        output.write_table(
            echo,
            (*TIMING_COLUMNS[1:2], *TIMING_COLUMNS[6:]),
            iter(slow),
        )


# reconcile ------------------------------------------------------------------------------------

DIFFERENCE_COLUMNS = (
    Column("CATEGORY", "category", 18),
    Column("RECORD", "record", 11),
    Column("DOCUMENT", "document", 20),
    Column("NUMBER", "number", 18),
    Column("XERO ID", "xero_id", 36),
    Column("LEDGER", "ledger", 14),
    Column("XERO", "xero", 14),
    Column("DETAIL", "detail", 120),
)


class _Progress:
    """Progress bars on stderr: one per Xero collection read, one for the comparison."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.label: str | None = None

    def _open(self, label: str, length: int) -> None:
        self.close()
        self.label = label
        self.bar = click.progressbar(length=max(length, 1), label=label, file=sys.stderr)
        self.bar.__enter__()

    def page(self, collection: str, page: int, count: int | None) -> None:
        label = f"reading Xero {collection}"
        if self.label != label:
            self._open(label, count or 1)
        if count:
            self.bar.length = max(count, page)
        self.bar.update(1)

    def documents(self, done: int, total: int) -> None:
        if self.label != "comparing ledger documents":
            self._open("comparing ledger documents", total)
        self.bar.update(done - self.bar.pos)

    def close(
        self,
        kind: type[BaseException] | None = None,
        value: BaseException | None = None,
        trace: TracebackType | None = None,
    ) -> None:
        if self.bar is not None:
            self.bar.__exit__(kind, value, trace)
            self.bar = None
            self.label = None


@audit_group.command("reconcile")
@click.option("--org", metavar="ORG", required=True, help="The organisation to reconcile.")
@click.option(
    "--since",
    metavar="DATE",
    default=None,
    help="Only documents dated on or after DATE (YYYY-MM-DD).",
)
@click.option(
    "--until", metavar="DATE", default=None, help="Only documents dated on or before DATE."
)
@click.option(
    "--page-size",
    type=click.IntRange(1, MAX_PAGE_SIZE),
    default=DEFAULT_PAGE_SIZE,
    show_default=True,
    help="Records per Xero page.",
)
@click.option(
    "--max-wait",
    type=click.FloatRange(min=0),
    default=120.0,
    show_default=True,
    help="Longest Retry-After (seconds) to wait out when Xero's rate limit is reached.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.option("--csv", "as_csv", is_flag=True, help="Print the differences as CSV.")
@click.option("--db", metavar="PATH", default=None, help="Ledger database (SQLite file).")
@click.pass_context
@handle_errors
def reconcile_command(
    ctx: click.Context,
    org: str,
    since: str | None,
    until: str | None,
    page_size: int,
    max_wait: float,
    as_json: bool,
    as_csv: bool,
    db: str | None,
) -> None:
    """Compare the ledger with what Xero holds for one organisation, and report what differs.

    \b
    Reads the connected tenant's sales invoices, credit notes and payments page by page (waiting
    out Xero's rate limits; progress on stderr) and reports:
      missing             the ledger holds it Synced; Xero does not have it
      voided / deleted    an invoice or credit note voided or deleted by hand in Xero
      removed             a payment deleted by hand in Xero
      duplicate           the same number twice, a hand-made copy of an invoice (same contact,
                          total and reference), or two payments for one OpenSolar payment
      unexpected          a record syncledger created that the ledger no longer expects
      total_differs       a total (or payment amount) differs from what the ledger sent
      amount_due_differs  amount due differs from total - synced payments - credit allocated
    Records that the reconciliation ran (an Organisation.Reconciled event with the counts), and
    exits 1 when anything differs.
    """
    fmt = _format(as_json, as_csv)
    start = _date(since, "--since")
    end = _date(until, "--until")
    progress = _Progress()
    with opened(ctx, db) as audit:
        try:
            report = run_reconcile(
                audit,
                org,
                since=start,
                until=end + ONE_DAY if end else None,
                page_size=page_size,
                max_wait=max_wait,
                on_page=progress.page,
                on_documents=progress.documents,
            )
        finally:
            progress.close()
    rows = (d.as_json() for d in report.differences)
    if fmt == output.JSON:
        data = report.as_json()
        differences = data.pop("differences")
        output.write_json(echo, data, "differences", iter(differences))
    elif fmt == output.CSV:
        output.write_csv(echo, DIFFERENCE_COLUMNS, rows)
    else:
        echo(
            f"organisation {report.org}, Xero tenant {report.tenant_id}: checked "
            f"{counted(report.checked['invoices'], 'invoice')}, "
            f"{counted(report.checked['credit_notes'], 'credit note')}, "
            f"{counted(report.checked['payments'], 'payment')} against "
            f"{counted(sum(report.xero.values()), 'record')} in Xero"
        )
        if report.differences:
            output.write_table(echo, DIFFERENCE_COLUMNS, rows)
            counts = ", ".join(f"{c} {n}" for c, n in report.summary.items() if n)
            echo(f"{counted(len(report.differences), 'difference')}: {counts}")
        else:
            echo("no differences: Xero holds what the ledger implies")
        for note in report.notes:
            echo(f"note: {note}")
    if report.differences:
        ctx.exit(1)


def _date(value: str | None, hint: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date YYYY-MM-DD", param_hint=hint) from None


__all__ = ["audit_group"]
