"""The ``syncledger`` command line. The only place errors become exit codes: 2 for usage mistakes,
1 for operational failures (and for ingest batches with rejected lines)."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, date, datetime
from types import FrameType
from typing import Any

import click
from eventsourcing.persistence import PersistenceError

from domain.wording import counted
from outbox.secrets import SecretBox
from outbox.xero import IdentityUrls, Tenant
from projections.errors import StorageError
from projections.status import STATUSES, StatusFilter
from syncledger import config, organisations, present, service
from syncledger.bootstrap import NoLedgerError, System, describe_database
from syncledger.clierrors import Failure, handle_errors
from syncledger.connect import OAuthRequest
from syncledger.locks import RelayLock

STATUS_CHOICES = (
    {s.lower().replace(" ", "-"): s for s in STATUSES}
    | {s.lower().replace(" ", "_"): s for s in STATUSES}
    | {s.lower(): s for s in STATUSES}
)


def _settings(ctx: click.Context, db: str | None) -> config.Settings:
    base: config.Settings = ctx.obj["settings"]
    return base.with_options(db=db or ctx.obj.get("db"))


@contextmanager
def opened(ctx: click.Context, db: str | None, *, create: bool = False) -> Iterator[System]:
    """The system for this command's database, with errors turned into clean exits. Only the
    commands that bring a ledger into being (``db init``, ``connect``, ``ingest``) create one;
    every other command needs it to exist ("no ledger at …")."""
    settings = _settings(ctx, db)
    try:
        system = System.open(settings, create=create)
    except NoLedgerError as exc:
        raise Failure(str(exc)) from exc
    except (StorageError, PersistenceError, OSError) as exc:
        raise Failure(f"cannot open the database {settings.db}: {exc}") from exc
    try:
        yield system
    finally:
        system.close()


db_option = click.option(
    "--db",
    metavar="PATH",
    default=None,
    help="Ledger database (SQLite file). Default: $SYNCLEDGER_DB or ./syncledger.db.",
)
org_option = click.option("--org", metavar="ORG", default=None, help="OpenSolar organisation id.")


def parse_moment(value: str) -> datetime:
    """An ISO 8601 timestamp or date (UTC when no offset is given)."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 timestamp such as 2026-11-01T00:00:00Z"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _configure_logging(level: str, fmt: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("syncledger")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


class JsonFormatter(logging.Formatter):
    """One JSON object per log line, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            data["error"] = self.formatException(record.exc_info)
        return json.dumps(data)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--db", metavar="PATH", default=None, help="Ledger database for every command.")
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
    default=None,
    help="Log level (default: $SYNCLEDGER_LOG_LEVEL, else warning; the relay logs at info).",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default=None,
    help="Log line format; json for log shippers (default: $SYNCLEDGER_LOG_FORMAT or text).",
)
@click.version_option(package_name="syncledger")
@click.pass_context
def main(ctx: click.Context, db: str | None, log_level: str | None, log_format: str | None) -> None:
    """syncledger: pushes OpenSolar invoices, credit notes and payments one-way into Xero, and
    keeps an event-sourced ledger of what was sent, what Xero answered, and why.

    \b
    Typical flow:
      syncledger connect 42 --xero-url URL --tenant-id ID
      syncledger config map-account 42 sales 200
      syncledger ingest changes.ndjson
      syncledger relay --until-idle
      syncledger status

    Try `syncledger demo` to see it all against a local Xero sandbox.
    """
    try:
        settings = config.load()
    except config.SettingsError as exc:
        raise click.UsageError(str(exc)) from exc
    ctx.ensure_object(dict)
    ctx.obj["settings"] = settings
    ctx.obj["db"] = db
    ctx.obj["log_level"] = log_level
    _configure_logging(log_level or settings.log_level, log_format or settings.log_format)


# ingest ---------------------------------------------------------------------------------------


@main.command()
@click.argument("file", type=click.File("rb"), default="-", metavar="[FILE|-]")
@db_option
@click.pass_context
@handle_errors
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


# connection and configuration -----------------------------------------------------------------


@main.command()
@click.argument("org")
@click.option(
    "--xero-url",
    metavar="URL",
    default=None,
    help="Xero base URL. With OAuth, the sandbox's URL (it serves login, identity and API); "
    "omit it for the real Xero. With --tenant-id and no client id: the API base URL.",
)
@click.option("--tenant-id", metavar="ID", default=None, help="The Xero tenant (organisation) id.")
@click.option(
    "--tenant-name", metavar="NAME", default=None, help="Pick the connected tenant by name."
)
@click.option(
    "--client-id",
    metavar="ID",
    default=None,
    help="Xero app client id (default $SYNCLEDGER_XERO_CLIENT_ID). Selects OAuth.",
)
@click.option(
    "--client-secret",
    metavar="SECRET",
    default=None,
    help="Xero app client secret (default $SYNCLEDGER_XERO_CLIENT_SECRET; asked for if missing).",
)
@click.option(
    "--custom-connection",
    is_flag=True,
    help="Use a Xero custom connection (client credentials, one organisation, no tenant header).",
)
@click.option(
    "--broad-scopes",
    is_flag=True,
    help="Ask for the broad scopes (accounting.transactions) of apps created before March 2026.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="Local port for Xero's redirect (http://localhost:PORT/callback; 0 picks one).",
)
@click.option(
    "--no-browser", is_flag=True, help="Print the authorize URL without opening a browser."
)
@click.option(
    "--at",
    "at",
    metavar="TIMESTAMP",
    default=None,
    help="When the connection began (ISO 8601; default now). Documents issued before it are "
    "Not Attempted until synced by hand.",
)
@click.option(
    "--no-check",
    is_flag=True,
    help="Without OAuth: record the connection without first asking Xero at --xero-url for "
    "the tenant's organisation.",
)
@click.option(
    "--switch-tenant",
    is_flag=True,
    help="Allow moving the organisation to another Xero organisation than the one its "
    "documents were synced to (they stay there; syncledger never acts on them again).",
)
@db_option
@click.pass_context
@handle_errors
def connect(
    ctx: click.Context,
    org: str,
    xero_url: str | None,
    tenant_id: str | None,
    tenant_name: str | None,
    client_id: str | None,
    client_secret: str | None,
    custom_connection: bool,
    broad_scopes: bool,
    port: int,
    no_browser: bool,
    at: str | None,
    no_check: bool,
    switch_tenant: bool,
    db: str | None,
) -> None:
    """Connect an OpenSolar organisation to a Xero organisation.

    \b
    OAuth 2.0 (a Xero app's client id and secret):
      syncledger connect 42 --client-id ID
    prints the authorize URL, waits for Xero's redirect on http://localhost:PORT/callback,
    stores the tokens encrypted (SYNCLEDGER_SECRET_KEY) and lets you pick the organisation.
    --custom-connection uses client credentials instead.

    \b
    Without OAuth (a sandbox in open mode):
      syncledger connect 42 --xero-url URL --tenant-id ID
    first asks Xero at URL for the tenant's organisation and refuses (exit 1) when nothing
    answers there or the tenant is unknown; --no-check skips that.

    From the connection time on, every invoice issued and every payment paid is pushed to Xero.
    Documents already recorded as issued at or after that time are requested now, and so is
    what happened while the organisation was disconnected.

    One ledger organisation belongs to one Xero organisation: connecting another one than its
    documents were synced to is refused unless --switch-tenant is given.
    """
    settings: config.Settings = ctx.obj["settings"]
    moment = parse_moment(at) if at else None
    client_id = client_id or settings.xero_client_id
    if client_id is None and not custom_connection:
        if xero_url is None or tenant_id is None:
            raise click.UsageError(
                "give --client-id (or SYNCLEDGER_XERO_CLIENT_ID) to connect through OAuth, or "
                "--xero-url and --tenant-id to connect without it"
            )
        checked = (
            None
            if no_check
            else organisations.check_connection(_settings(ctx, db), xero_url, tenant_id)
        )
        with opened(ctx, db, create=True) as system:
            organisation, requested = service.connect(
                system, org, xero_url, tenant_id, moment, switch_tenant=switch_tenant
            )
            if checked is not None:
                organisations.remember(system, org, checked)
        tenant_label = tenant_id if checked is None else f"{checked.name} ({tenant_id})"
    else:
        if client_id is None:
            raise click.UsageError("--custom-connection needs --client-id")
        SecretBox(settings.secret_key)  # no key (or too short): say so before any prompt
        secret = client_secret or settings.xero_client_secret
        if secret is None:
            secret = click.prompt("Xero client secret", hide_input=True)
        request = OAuthRequest(
            urls=IdentityUrls.single(xero_url) if xero_url else IdentityUrls(),
            client_id=client_id,
            client_secret=secret,
            broad_scopes=broad_scopes,
            port=port,
            tenant_id=tenant_id,
            tenant_name=tenant_name,
            open_browser=not no_browser,
        )
        with opened(ctx, db, create=True) as system:
            organisation, requested, tenant = service.connect_oauth(
                system,
                org,
                request,
                moment,
                custom=custom_connection,
                echo=click.echo,
                choose=_choose_tenant,
                switch_tenant=switch_tenant,
            )
        tenant_label = f"{tenant.tenant_name} ({tenant.tenant_id})"
    connection = organisation.connection
    if connection is None:
        raise Failure(f"organisation {org} could not be connected")
    click.echo(
        f"organisation {org} connected to Xero tenant {tenant_label} at "
        f"{connection.connected_at.isoformat()}"
    )
    if requested:
        click.echo(
            f"requested {counted(len(requested), 'document')} issued since then: "
            f"{', '.join(requested)}"
        )


def _relay_lock(system: System) -> AbstractContextManager[Any]:
    """Only one relay per SQLite database; on PostgreSQL several share the work."""
    return nullcontext() if system.is_postgres else RelayLock(system.settings.db)


def _choose_tenant(tenants: Sequence[Tenant]) -> Tenant:
    click.echo("Xero organisations connected:")
    for index, tenant in enumerate(tenants, 1):
        click.echo(f"  {index}. {tenant.tenant_name} ({tenant.tenant_id})")
    choice = click.prompt("Which one", type=click.IntRange(1, len(tenants)))
    return tenants[choice - 1]


@main.command()
@click.argument("org")
@db_option
@click.pass_context
@handle_errors
def disconnect(ctx: click.Context, org: str, db: str | None) -> None:
    """Disconnect an organisation from Xero: revoke its tokens, forget them, and record it.

    Documents issued afterwards are Not Attempted; pending deliveries wait until it is
    connected again.
    """
    with opened(ctx, db) as system:
        notes = service.disconnect(system, org)
    for note in notes:
        click.echo(f"note: {note}", err=True)
    click.echo(f"organisation {org} disconnected from Xero")


@main.group("config")
def config_group() -> None:
    """Per-organisation settings: account and tax mappings, payment and rounding accounts,
    invoice status, reissue numbering."""


def _checked(system: System, org: str, code: str, purpose: str, no_check: bool) -> str:
    """What checking an account code against Xero's chart said (or that it was skipped); the
    organisation must be one the ledger knows."""
    organisations.require_organisation(system, org)
    if no_check:
        return "not checked: --no-check"
    return organisations.check_account(system, org, code, purpose)


no_check_option = click.option(
    "--no-check", is_flag=True, help="Save without checking the code against Xero's chart."
)
no_tax_check_option = click.option(
    "--no-check", is_flag=True, help="Save without checking the tax type against Xero's rates."
)


@config_group.command("map-account")
@click.argument("org")
@click.argument("category")
@click.argument("code")
@no_check_option
@db_option
@click.pass_context
@handle_errors
def map_account(
    ctx: click.Context, org: str, category: str, code: str, no_check: bool, db: str | None
) -> None:
    """Map an OpenSolar line CATEGORY (e.g. sales, incentives) to a Xero account CODE.

    When the organisation is connected, the code is first checked against its chart of accounts
    in Xero and refused if Xero would reject it (unknown, archived, a bank or system account).
    Categories match case-insensitively. Documents that failed with "Missing Ledger Account"
    need a `syncledger retry` afterwards.
    """
    with opened(ctx, db) as system:
        checked = _checked(system, org, code, "sales", no_check)
        system.ledger.map_account(org, category, code)
    click.echo(f"organisation {org}: line category '{category}' → Xero account {code} ({checked})")


@config_group.command("map-tax")
@click.argument("org")
@click.argument("tax_rate")
@click.argument("xero_tax_type")
@no_tax_check_option
@db_option
@click.pass_context
@handle_errors
def map_tax(
    ctx: click.Context,
    org: str,
    tax_rate: str,
    xero_tax_type: str,
    no_check: bool,
    db: str | None,
) -> None:
    """Map an OpenSolar TAX_RATE name (e.g. GST) to a Xero TaxType (e.g. OUTPUT).

    When the organisation is connected, the tax type is first checked against its tax rates in
    Xero and refused unless it is there, active and usable on sales. Documents that failed for
    a missing tax mapping need a `syncledger retry` afterwards.
    """
    with opened(ctx, db) as system:
        organisations.require_organisation(system, org)
        checked = (
            "not checked: --no-check"
            if no_check
            else organisations.check_tax_type(system, org, xero_tax_type)
        )
        system.ledger.map_tax(org, tax_rate, xero_tax_type)
    click.echo(
        f"organisation {org}: tax rate '{tax_rate}' → Xero tax type {xero_tax_type.upper()} "
        f"({checked})"
    )


@config_group.command("payment-account")
@click.argument("org")
@click.argument("code")
@no_check_option
@db_option
@click.pass_context
@handle_errors
def payment_account(
    ctx: click.Context, org: str, code: str, no_check: bool, db: str | None
) -> None:
    """Set the Xero account CODE that payments are received into (a BANK account, e.g. 090).

    When the organisation is connected, the code is checked against its chart in Xero first:
    it must be a BANK account or one with payments enabled.
    """
    with opened(ctx, db) as system:
        checked = _checked(system, org, code, "payment", no_check)
        system.ledger.set_payment_account(org, code)
    click.echo(f"organisation {org}: payments go to Xero account {code} ({checked})")


@config_group.command("invoice-status")
@click.argument("org")
@click.argument(
    "status", type=click.Choice(["AUTHORISED", "DRAFT", "SUBMITTED"], case_sensitive=False)
)
@db_option
@click.pass_context
@handle_errors
def invoice_status(ctx: click.Context, org: str, status: str, db: str | None) -> None:
    """Choose the STATUS new invoices get in Xero (AUTHORISED by default).

    Payments and credit-note allocations need AUTHORISED invoices in Xero.
    """
    with opened(ctx, db) as system:
        organisations.require_organisation(system, org)
        system.ledger.set_invoice_status(org, status)
    click.echo(f"organisation {org}: new invoices are created as {status.upper()}")


@config_group.command("number-suffix")
@click.argument("org")
@click.argument("setting", type=click.Choice(["on", "off"], case_sensitive=False))
@db_option
@click.pass_context
@handle_errors
def number_suffix(ctx: click.Context, org: str, setting: str, db: str | None) -> None:
    """Send reissues that reuse a cancelled invoice's number as NUMBER-2, NUMBER-3 … (on), or
    fail them with the reason (off, the default).

    Xero keeps invoice numbers unique: once a cancelled invoice holds INV-00019 there, a new
    OpenSolar invoice numbered INV-00019 cannot be sent as it is. With the suffix on it goes to
    Xero as INV-00019-2 (the second invoice OpenSolar issued with that number), and status shows
    the number Xero holds. Reissues that already failed need a `syncledger retry`.
    """
    enabled = setting.lower() == "on"
    with opened(ctx, db) as system:
        organisations.require_organisation(system, org)
        system.ledger.set_number_suffix(org, enabled)
    click.echo(
        f"organisation {org}: reissues of a cancelled invoice's number are "
        + ("sent as NUMBER-2, NUMBER-3 …" if enabled else "refused with the reason")
    )


@config_group.command("rounding-account")
@click.argument("org")
@click.argument("code")
@no_check_option
@db_option
@click.pass_context
@handle_errors
def rounding_account(
    ctx: click.Context, org: str, code: str, no_check: bool, db: str | None
) -> None:
    """Set the Xero account CODE that rounding lines go to (default 860, Xero's Rounding).

    When OpenSolar states an invoice's total and Xero's per-line tax rounding would make its own
    total a few cents different, a rounding line on this account (at a zero tax rate) makes them
    equal.
    """
    with opened(ctx, db) as system:
        checked = _checked(system, org, code, "rounding", no_check)
        system.ledger.set_rounding_account(org, code)
    click.echo(f"organisation {org}: rounding lines go to Xero account {code} ({checked})")


@config_group.command("show")
@click.argument("org")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@db_option
@click.pass_context
@handle_errors
def show(ctx: click.Context, org: str, as_json: bool, db: str | None) -> None:
    """Show an organisation's connection and settings."""
    with opened(ctx, db) as system:
        settings = organisations.require_organisation(system, org).settings()
    if as_json:
        click.echo(json.dumps(settings, indent=2))
        return
    click.echo(f"organisation {org}")
    if settings["connected"]:
        click.echo(
            f"  Xero: {settings['xero_url']} tenant {settings['tenant_id']} "
            f"since {settings['connected_at']}"
        )
    else:
        click.echo("  Xero: not connected")
    click.echo(f"  new invoices: {settings['invoice_status']}")
    click.echo(f"  payment account: {settings['payment_account'] or '(not set)'}")
    click.echo(f"  rounding account: {settings['rounding_account']}")
    click.echo(
        "  reissued numbers: "
        + ("sent as NUMBER-2, NUMBER-3 …" if settings["number_suffix"] else "refused (default)")
    )
    click.echo("  line categories → accounts:")
    for category, code in settings["accounts"].items():
        click.echo(f"    {category} → {code}")
    if not settings["accounts"]:
        click.echo("    (none)")
    click.echo("  tax rates → tax types:")
    for rate, tax in settings["tax_types"].items():
        click.echo(f"    {rate} → {tax}")
    if not settings["tax_types"]:
        click.echo("    (none)")


# relay ----------------------------------------------------------------------------------------


@main.command()
@click.option(
    "--until-idle",
    is_flag=True,
    help="Stop once nothing is left to deliver now (for scripts and tests).",
)
@db_option
@click.pass_context
@handle_errors
def relay(ctx: click.Context, until_idle: bool, db: str | None) -> None:
    """Deliver pending documents to Xero and record what Xero answers.

    Runs until SIGTERM or SIGINT (the call in flight finishes and its outcome is recorded), or
    with --until-idle until nothing is left to do. Only one relay may run against a SQLite
    database. Logs one line per delivery on stderr, and at the end a line for each organisation
    whose deliveries wait: one it could not reach (no answer, or Xero refusing or having
    dropped the connection) makes it exit 1; one disconnected on purpose is only named.
    """
    if ctx.obj.get("log_level") is None and ctx.obj["settings"].log_level == "WARNING":
        logging.getLogger("syncledger").setLevel(logging.INFO)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        with opened(ctx, db) as system, _relay_lock(system):
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
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo(
        f"delivered {report.delivered}, failed {report.failed}, retrying {report.retrying}, "
        f"skipped {report.skipped}"
    )
    for line in stuck:
        click.echo(line, err=True)
    if failing:
        ctx.exit(1)


# reading --------------------------------------------------------------------------------------


@main.command()
@org_option
@click.option("--project", metavar="PROJECT", default=None, help="Only this OpenSolar project.")
@click.option(
    "--status",
    "status_name",
    metavar="STATUS",
    default=None,
    help="Only Synced, Pending, Not Attempted (not-attempted) or Failed (any case).",
)
@click.option(
    "--kind",
    type=click.Choice(["invoice", "payment"]),
    default=None,
    help="Only invoices or payments.",
)
@click.option(
    "--all",
    "include_hidden",
    is_flag=True,
    help="Include drafts and unpaid payments (never sent to Xero).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of objects.")
@click.option(
    "--wide",
    is_flag=True,
    help="One line per document, however long (default: DETAIL wraps to the terminal width).",
)
@db_option
@click.pass_context
@handle_errors
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
    wanted = None
    if status_name is not None:
        wanted = STATUS_CHOICES.get(status_name.strip().lower())
        if wanted is None:
            raise click.BadParameter(
                f"{status_name!r}: expected one of {', '.join(STATUSES)}", param_hint="--status"
            )
    with opened(ctx, db) as system:
        views = service.statuses(
            system,
            StatusFilter(
                org=org, project=project, status=wanted, kind=kind, include_hidden=include_hidden
            ),
        )
    if as_json:
        click.echo(json.dumps([v.as_json() for v in views], indent=2))
    else:
        click.echo(present.status_table(views, None if wide else present.terminal_width()))


@main.command()
@click.argument("doc", metavar="DOC")
@org_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@db_option
@click.pass_context
@handle_errors
def history(ctx: click.Context, doc: str, org: str | None, as_json: bool, db: str | None) -> None:
    """Show every event of one document, in order, with the Xero calls each outcome made.

    DOC is an invoice number (INV-00019) or invoice:1042 / payment:3001.
    """
    with opened(ctx, db) as system:
        row, events = service.history(system, doc, org)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "org": row.org,
                    "document": row.document,
                    "number": row.number,
                    "status": row.status,
                    "events": present.history_json(events),
                },
                indent=2,
            )
        )
        return
    click.echo(f"{row.number} ({row.document}, organisation {row.org}): {row.status}")
    for line in present.history_lines(events):
        click.echo(line)


# sync, retry, replay --------------------------------------------------------------------------


def _print_report(report: service.CommandReport, nothing: str) -> None:
    for line in report.done:
        click.echo(line)
    for line in report.refused:
        click.echo(f"refused: {line}", err=True)
    if not report.done and not report.refused:
        click.echo(nothing)


@main.command()
@click.argument("docs", nargs=-1, metavar="[DOC]...")
@click.option("--failed", is_flag=True, help="Retry every Failed document (of --org, if given).")
@org_option
@db_option
@click.pass_context
@handle_errors
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
    _print_report(report, "no Failed documents")
    if report.refused:
        ctx.exit(1)


@main.command()
@click.argument("docs", nargs=-1, metavar="[DOC]...")
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
@handle_errors
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
    since_date = None
    if since is not None:
        try:
            since_date = date.fromisoformat(since)
        except ValueError:
            raise click.BadParameter(
                f"{since!r} is not a date YYYY-MM-DD", param_hint="--since"
            ) from None
    with opened(ctx, db) as system:
        plan = service.plan_sync(
            system, docs, not_attempted=not_attempted, org=org, since=since_date
        )
        for line in service.estimate(system, plan.rows):
            click.echo(line, err=True)
        with click.progressbar(
            length=len(plan.rows),
            label="requesting" if not dry_run else "planning",
            file=sys.stderr,
        ) as bar:
            report = service.sync(
                system,
                docs,
                not_attempted=not_attempted,
                org=org,
                since=since_date,
                dry_run=dry_run,
                progress=bar.update,
            )
    _print_report(report, "no Not Attempted documents")
    if report.refused:
        ctx.exit(1)


@main.command()
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
@handle_errors
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


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@db_option
@click.pass_context
@handle_errors
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
    click.echo(f"log head: {report.head}; relay running: {'yes' if running else 'no'}")
    for name, values in report.projections.items():
        click.echo(
            f"projection {name}: at {values['position']}, {counted(values['lag'], 'event')} behind"
        )
    depth = ", ".join(f"{state} {count}" for state, count in report.outbox.items())
    click.echo(f"outbox: {depth}")
    if report.oldest_pending_seconds is not None:
        click.echo(f"oldest pending delivery: {report.oldest_pending_seconds:.0f} s old")
    for org in report.organisations:
        click.echo(f"organisation {org['org']}: " + present.health_line(org))


# database -------------------------------------------------------------------------------------


@main.group("db")
def db_group() -> None:
    """The database: create or upgrade its tables, check what is there."""


@db_group.command("init")
@db_option
@click.pass_context
@handle_errors
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
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@db_option
@click.pass_context
@handle_errors
def db_check(ctx: click.Context, as_json: bool, db: str | None) -> None:
    """Say which tables the database has and which are missing (creates nothing). Exits 1 when
    any is missing: run `syncledger db init`."""
    settings = _settings(ctx, db)
    description, present, missing = service.db_check(settings)
    if as_json:
        click.echo(
            json.dumps({"database": description, "present": present, "missing": missing}, indent=2)
        )
    else:
        click.echo(
            f"{description}: {counted(len(present), 'table')} present, {len(missing)} missing"
        )
        for table in missing:
            click.echo(f"  missing: {table}")
    if missing:
        ctx.exit(1)


# sandbox and demo -----------------------------------------------------------------------------


def _attach_sandbox() -> None:
    from syncledger.sandbox.cli import command as sandbox_command

    main.add_command(sandbox_command, "sandbox")


_attach_sandbox()


def _attach_web() -> None:
    from syncledger.web.cli import serve_command, users_group, webhook_group

    main.add_command(serve_command, "serve")
    main.add_command(users_group, "users")
    main.add_command(webhook_group, "webhook")


_attach_web()


def _attach_audit() -> None:
    from syncledger.audit.cli import audit_group

    main.add_command(audit_group, "audit")


_attach_audit()


@main.command()
@click.option(
    "--db",
    metavar="PATH",
    default="syncledger-demo.db",
    show_default=True,
    help="Where the demo ledger goes (replaced on each run).",
)
@click.pass_context
@handle_errors
def demo(ctx: click.Context, db: str) -> None:
    """Run the whole path once against a local Xero sandbox and explain what happened.

    Starts a sandbox, ingests a bundled sample that shows all four statuses, runs the relay until
    idle, prints the status table, says how to fix the Failed document, and does it.
    """
    from syncledger.demo import run_demo

    run_demo(ctx.obj["settings"].with_options(db=db), click.echo)
