"""``audit reconcile``: compare the ledger with what Xero holds for one organisation, with
progress on stderr, and report what differs (exit 1 when anything does)."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any

import click

from domain.wording import counted
from outbox.reconcile import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from syncledger.audit.reconciling import ReconcileReport
from syncledger.audit.reconciling import reconcile as run_reconcile
from syncledger.cli.audit import output
from syncledger.cli.audit.common import audit_index, echo, output_format
from syncledger.cli.audit.output import Column
from syncledger.cli.shell import ONE_DAY, json_option, parse_date

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


@click.command("reconcile")
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
@json_option("Print one JSON document.")
@click.option("--csv", "as_csv", is_flag=True, help="Print the differences as CSV.")
@click.option("--db", metavar="PATH", default=None, help="Ledger database (SQLite file).")
@click.pass_context
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
    fmt = output_format(as_json, as_csv)
    start = parse_date(since, "--since", leading=True) if since is not None else None
    end = parse_date(until, "--until", leading=True) if until is not None else None
    progress = _Progress()
    with audit_index(ctx, db) as audit:
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
    _write(fmt, report)
    if report.differences:
        ctx.exit(1)


def _write(fmt: str, report: ReconcileReport) -> None:
    """The report as one JSON document, the differences as CSV, or a summary and a table."""
    rows = (d.as_json() for d in report.differences)
    if fmt == output.JSON:
        data = report.as_json()
        differences = data.pop("differences")
        output.write_json(echo, data, "differences", iter(differences))
        return
    if fmt == output.CSV:
        output.write_csv(echo, DIFFERENCE_COLUMNS, rows)
        return
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
