"""The operations commands: ``relay`` delivers to Xero, ``health`` says how the system is
doing, ``replay`` rebuilds projections from the log, ``db`` creates and checks the tables, and
``demo`` runs the whole path against a local Xero sandbox."""

from __future__ import annotations

import json
import signal
import sys
import threading
from types import FrameType
from typing import Any

import click

from domain.wording import counted
from syncledger import organisations, present, service
from syncledger.bootstrap import describe_database
from syncledger.cli.errors import Failure, Shell
from syncledger.cli.shell import (
    db_option,
    json_option,
    log_deliveries,
    opened,
    org_option,
    settings,
)


class _Stop:
    """SIGTERM and SIGINT set ``event`` while inside (the call in flight finishes first)."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.previous: dict[int, Any] = {}

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.event.set()

    def __enter__(self) -> threading.Event:
        self.previous = {
            s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT)
        }
        return self.event

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)


@click.command()
@click.option(
    "--until-idle",
    is_flag=True,
    help="Stop once nothing is left to deliver now (for scripts and tests).",
)
@db_option
@click.pass_context
def relay(ctx: click.Context, until_idle: bool, db: str | None) -> None:
    """Deliver pending documents to Xero and record what Xero answers.

    Runs until SIGTERM or SIGINT (the call in flight finishes and its outcome is recorded), or
    with --until-idle until nothing is left to do. Only one relay may run against a SQLite
    database. Logs one line per delivery on stderr, and at the end a line for each organisation
    whose deliveries wait: one it could not reach (no answer, or Xero refusing or having
    dropped the connection) makes it exit 1; one disconnected on purpose is only named.
    """
    log_deliveries(ctx)
    with _Stop() as stop, opened(ctx, db) as system, system.relay_lock():
        relay_ = system.relay()
        if not until_idle:
            click.echo(
                f"relay {relay_.owner} started on {describe_database(system.settings)}; "
                "stop it with SIGTERM or Ctrl-C",
                err=True,
            )
        report = relay_.run(until_idle=until_idle, stop=stop)
        service.refresh(system)
        stuck, failing = organisations.unserved(system, report.reach)
    click.echo(
        f"delivered {report.delivered}, failed {report.failed}, retrying {report.retrying}, "
        f"skipped {report.skipped}"
    )
    for line in stuck:
        click.echo(line, err=True)
    if failing:
        ctx.exit(1)


@click.command()
@click.argument("doc", metavar="[DOC]", required=False)
@click.option(
    "--projection",
    type=click.Choice(["status", "outbox", "audit", "all"]),
    default="all",
    show_default=True,
    help="Which projection to rebuild.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Change nothing: say how many events would be replayed, or with DOC print each call "
    "that would be sent to Xero.",
)
@org_option
@db_option
@click.pass_context
def replay(
    ctx: click.Context,
    doc: str | None,
    projection: str,
    dry_run: bool,
    org: str | None,
    db: str | None,
) -> None:
    """Drop projections and rebuild them from the log, or re-drive one document's deliveries.

    Rebuilding the outbox never re-sends what is already Synced: messages are finished by the
    outcomes recorded in the log. Refuses to rebuild the outbox while a relay is running.
    With DOC (INV-00019, invoice:1042), the document's open deliveries are made due now
    (idempotent: a Synced document sends nothing); --dry-run prints the calls instead.
    """
    with opened(ctx, db) as system:
        if doc is not None:
            for line in service.replay_document(system, doc, org, dry_run=dry_run, echo=click.echo):
                click.echo(line)
            return
        rebuilds_outbox = projection in ("outbox", "all") and not dry_run
        if rebuilds_outbox and service.relay_running(system):
            raise Failure(
                "a relay is running against this database: stop it before replaying the outbox"
            )
        head = system.log.head()
        with click.progressbar(length=max(head, 1), label="replaying", file=sys.stderr) as bar:
            last: dict[str, int] = {}

            def progress(name: str, done: int, total: int) -> None:
                bar.update(done - last.get(name, 0))
                last[name] = done

            applied = service.replay(system, projection, dry_run=dry_run, progress=progress)
    verb = "would replay" if dry_run else "replayed"
    for name, count in applied.items():
        click.echo(f"{name}: {verb} {counted(count, 'event')}")


@click.command()
@json_option()
@db_option
@click.pass_context
def health(ctx: click.Context, as_json: bool, db: str | None) -> None:
    """Show how far behind each projection is, the outbox depth by state, the oldest pending
    delivery's age, and per organisation: its connection, Xero's last answer (when, and what:
    reached, refused, or no answer at all), calls left this minute and today, and whether it is
    parked. Reads only; it brings nothing up to date."""
    with opened(ctx, db) as system:
        running = service.relay_running(system)
        report = service.health(system, running)
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2))
        return
    for line in present.health_lines(report, running):
        click.echo(line)


@click.group("db", cls=Shell)
def db_group() -> None:
    """The database: create or upgrade its tables, check what is there."""


@db_group.command("init")
@db_option
@click.pass_context
def db_init(ctx: click.Context, db: str | None) -> None:
    """Create the ledger's tables, the projections', the outbox's and the web's (or add any that
    are missing); safe to run again. On PostgreSQL the schema is created too."""
    with opened(ctx, db, create=True) as system:
        tables = service.db_init(system)
        description = system.database.description
    expected = service.expected_tables(system.is_postgres)
    ready = len([t for t in expected if t in tables])
    click.echo(f"{description}: {ready} of {len(expected)} tables ready")


@db_group.command("check")
@json_option()
@db_option
@click.pass_context
def db_check(ctx: click.Context, as_json: bool, db: str | None) -> None:
    """Say which tables the database has and which are missing (creates nothing). Exits 1 when
    any is missing: run `syncledger db init`."""
    description, found, missing = service.db_check(settings(ctx, db))
    if as_json:
        click.echo(
            json.dumps({"database": description, "present": found, "missing": missing}, indent=2)
        )
    else:
        click.echo(f"{description}: {counted(len(found), 'table')} present, {len(missing)} missing")
        for table in missing:
            click.echo(f"  missing: {table}")
    if missing:
        ctx.exit(1)


@click.command()
@click.option(
    "--db",
    metavar="PATH",
    default="syncledger-demo.db",
    show_default=True,
    help="Where the demo ledger goes (replaced on each run).",
)
@click.pass_context
def demo(ctx: click.Context, db: str) -> None:
    """Run the whole path once against a local Xero sandbox and explain what happened.

    Starts a sandbox, ingests a bundled sample that shows all four statuses, runs the relay until
    idle, prints the status table, says how to fix the Failed document, and does it.
    """
    from syncledger.demo import run_demo

    run_demo(settings(ctx).with_options(db=db), click.echo)


COMMANDS: tuple[click.Command, ...] = (relay, replay, health, db_group, demo)
