"""The document commands: ``ingest`` records OpenSolar changes, ``status`` and ``history`` read
what became of them, ``retry`` and ``sync`` ask for deliveries."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from projections.status import StatusFilter
from syncledger import present, service
from syncledger.cli.shell import (
    KIND_CHOICE,
    db_option,
    json_option,
    opened,
    org_option,
    parse_date,
    parse_status,
    status_option,
)

docs_argument = click.argument("docs", nargs=-1, metavar="[DOC]...")


@click.command()
@click.argument("file", type=click.File("rb"), default="-", metavar="[FILE|-]")
@db_option
@click.pass_context
def ingest(ctx: click.Context, file: Any, db: str | None) -> None:
    """Record OpenSolar changes from an NDJSON file (or - for standard input).

    Each line is one change (see the README for the format). Valid lines are recorded even when
    others are rejected; each rejected line is reported on stderr with its line number and the
    field at fault. A change already recorded (same event_id) counts as a duplicate and changes
    nothing. Exits 1 if any line was rejected.
    """

    def report(rejection: service.Rejection) -> None:
        click.echo(f"line {rejection.line}: {rejection.reason}", err=True)

    with opened(ctx, db, create=True) as system:
        result = service.ingest(system, file, on_reject=report)
    click.echo(result.summary())
    if result.rejected:
        ctx.exit(1)


@click.command()
@org_option
@click.option("--project", metavar="PROJECT", default=None, help="Only this OpenSolar project.")
@status_option("Only Synced, Pending, Not Attempted (not-attempted) or Failed (any case).")
@click.option("--kind", type=KIND_CHOICE, default=None, help="Only invoices or payments.")
@click.option(
    "--all",
    "include_hidden",
    is_flag=True,
    help="Include drafts and unpaid payments (never sent to Xero).",
)
@json_option("Print a JSON list of objects.")
@click.option(
    "--wide",
    is_flag=True,
    help="One line per document, however long (default: DETAIL wraps to the terminal width).",
)
@db_option
@click.pass_context
def status(
    ctx: click.Context,
    org: str | None,
    project: str | None,
    status_name: str | None,
    kind: str | None,
    include_hidden: bool,
    as_json: bool,
    wide: bool,
    db: str | None,
) -> None:
    """Show each document's sync status: Synced, Pending, Not Attempted or Failed, and why.

    DETAIL (the reason, and for Failed documents the action to take) wraps to the terminal
    width ($COLUMNS), never cut; --wide (or a pipe) prints one line per document.

    --json prints a list of objects with org, document, kind, number, status, error, reason,
    xero_id, credit_note_id, project, customer, amount, currency, date, attempts, updated_at.
    """
    wanted = StatusFilter(
        org=org,
        project=project,
        status=parse_status(status_name),
        kind=kind,
        include_hidden=include_hidden,
    )
    with opened(ctx, db) as system:
        views = service.statuses(system, wanted)
    if as_json:
        click.echo(json.dumps([v.as_json() for v in views], indent=2))
    else:
        click.echo(present.status_table(views, None if wide else present.terminal_width()))


@click.command()
@click.argument("doc", metavar="DOC")
@org_option
@json_option()
@db_option
@click.pass_context
def history(ctx: click.Context, doc: str, org: str | None, as_json: bool, db: str | None) -> None:
    """Show every event of one document, in order, with the Xero calls each outcome made.

    DOC is an invoice number (INV-00019) or invoice:1042 / payment:3001.
    """
    with opened(ctx, db) as system:
        row, events = service.history(system, doc, org)
    if as_json:
        click.echo(json.dumps(present.history_document(row, events), indent=2))
        return
    click.echo(f"{row.number} ({row.document}, organisation {row.org}): {row.status}")
    for line in present.history_lines(events):
        click.echo(line)


def _print_report(ctx: click.Context, report: service.CommandReport, nothing: str) -> None:
    """What was done on stdout, what was refused on stderr; exit 1 if anything was refused."""
    for line in report.done:
        click.echo(line)
    for line in report.refused:
        click.echo(f"refused: {line}", err=True)
    if not report.done and not report.refused:
        click.echo(nothing)
    if report.refused:
        ctx.exit(1)


@click.command()
@docs_argument
@click.option("--failed", is_flag=True, help="Retry every Failed document (of --org, if given).")
@org_option
@db_option
@click.pass_context
def retry(
    ctx: click.Context, docs: tuple[str, ...], failed: bool, org: str | None, db: str | None
) -> None:
    """Retry Failed documents: appends a retry event; the relay sends the corrected payload.

    DOC is an invoice number (INV-00019) or invoice:1042 / payment:3001. Exits 1 if any
    document could not be retried.
    """
    if not docs and not failed:
        raise click.UsageError("name at least one DOC, or use --failed")
    with opened(ctx, db) as system:
        report = service.retry(system, docs, failed=failed, org=org)
    _print_report(ctx, report, "no Failed documents")


@click.command()
@docs_argument
@click.option("--not-attempted", is_flag=True, help="Sync every Not Attempted document.")
@org_option
@click.option(
    "--since",
    metavar="DATE",
    default=None,
    help="With --not-attempted: only documents dated on or after DATE (YYYY-MM-DD).",
)
@click.option("--dry-run", is_flag=True, help="Say what would be requested, request nothing.")
@db_option
@click.pass_context
def sync(
    ctx: click.Context,
    docs: tuple[str, ...],
    not_attempted: bool,
    org: str | None,
    since: str | None,
    dry_run: bool,
    db: str | None,
) -> None:
    """Send Not Attempted documents (issued before the Xero connection) to Xero.

    Syncing an invoice also sends its paid payments that were Not Attempted. The relay does the
    sending. Exits 1 if any document could not be requested.
    """
    if not docs and not not_attempted:
        raise click.UsageError("name at least one DOC, or use --not-attempted")
    since_date = None if since is None else parse_date(since, "--since")
    with opened(ctx, db) as system:
        plan = service.plan_sync(
            system, docs, not_attempted=not_attempted, org=org, since=since_date
        )
        for line in service.estimate(system, plan.rows):
            click.echo(line, err=True)
        label = "requesting" if not dry_run else "planning"
        with click.progressbar(length=len(plan.rows), label=label, file=sys.stderr) as bar:
            report = service.sync(
                system,
                docs,
                not_attempted=not_attempted,
                org=org,
                since=since_date,
                dry_run=dry_run,
                progress=bar.update,
            )
    _print_report(ctx, report, "no Not Attempted documents")


COMMANDS: tuple[click.Command, ...] = (ingest, status, history, retry, sync)
