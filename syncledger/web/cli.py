"""The web side's commands: ``serve``, ``users`` and ``webhook``, attached to the ``syncledger``
group by the main CLI. Usage mistakes exit 2 with a usage message; operational failures exit 1
with a one-line message, never a traceback.

This module does not import ``syncledger.cli`` (which imports it), so it keeps its own small
error mapping, equivalent to the main CLI's.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from eventsourcing.persistence import PersistenceError

from outbox.secrets import SecretBox
from projections.errors import StorageError
from syncledger import config
from syncledger.bootstrap import NoLedgerError, System
from syncledger.clierrors import Failure, handle_errors, operational
from syncledger.locks import LockHeldError, RelayLock
from syncledger.organisations import require_organisation
from syncledger.web.auth import hash_password, normal_email, password_problem
from syncledger.web.changes import (
    DEFAULT_MAX_BODY_BYTES,
    ORG_HEADER,
    SECRET_HEADER,
    SIGNATURE_HEADER,
)
from syncledger.web.errors import WebError
from syncledger.web.settings import WebSettings
from syncledger.web.store import WebStore

operational(WebError, OSError)


def _settings(ctx: click.Context, db: str | None) -> config.Settings:
    obj = ctx.obj if isinstance(ctx.obj, dict) else {}
    base = obj.get("settings")
    if not isinstance(base, config.Settings):
        try:
            base = config.load()
        except config.SettingsError as exc:
            raise click.UsageError(str(exc)) from exc
    return base.with_options(db=db or obj.get("db"))


@contextmanager
def _system(ctx: click.Context, db: str | None) -> Iterator[System]:
    settings = _settings(ctx, db)
    try:
        system = System.open(settings, create=False)
    except NoLedgerError as exc:
        raise Failure(str(exc)) from exc
    except (StorageError, PersistenceError, OSError) as exc:
        raise Failure(f"cannot open the database {settings.db}: {exc}") from exc
    try:
        yield system
    finally:
        system.close()


@contextmanager
def _store(ctx: click.Context, db: str | None) -> Iterator[tuple[config.Settings, WebStore]]:
    with _system(ctx, db) as system:
        yield system.settings, WebStore(system.database)


db_option = click.option(
    "--db",
    metavar="PATH",
    default=None,
    help="Ledger database (SQLite file). Default: $SYNCLEDGER_DB or ./syncledger.db.",
)


# serve ----------------------------------------------------------------------------------------


def _configure_logging(ctx: click.Context) -> None:
    """The relay logs a line per delivery at info, as ``syncledger relay`` does; uvicorn's own
    lines go to the same handler."""
    obj = ctx.obj if isinstance(ctx.obj, dict) else {}
    settings = _settings(ctx, None)
    ours = logging.getLogger("syncledger")
    if not ours.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        ours.handlers[:] = [handler]
        ours.propagate = False
    if obj.get("log_level") is None and settings.log_level == "WARNING":
        ours.setLevel(logging.INFO)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        theirs = logging.getLogger(name)
        theirs.handlers[:] = list(ours.handlers) if name == "uvicorn" else []
        theirs.setLevel(ours.level)
        theirs.propagate = name != "uvicorn"


@click.command("serve")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    metavar="HOST",
    help="Address to listen on (0.0.0.0 for every interface; put TLS in front).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    metavar="PORT",
    help="Port to listen on (0 picks a free one).",
)
@db_option
@click.option(
    "--no-relay",
    is_flag=True,
    help="Serve HTTP only (another process runs `syncledger relay`).",
)
@click.option(
    "--session-hours",
    type=click.FloatRange(min=0.01, max=24 * 30),
    default=8.0,
    show_default=True,
    metavar="HOURS",
    help="How long a login lasts.",
)
@click.option(
    "--max-body-bytes",
    type=click.IntRange(min=1024),
    default=DEFAULT_MAX_BODY_BYTES,
    show_default=True,
    metavar="BYTES",
    help="Largest change request accepted (larger ones get 413).",
)
@click.option(
    "--secure-cookies",
    is_flag=True,
    help="Send cookies over HTTPS only (set this behind a TLS proxy; automatic for https).",
)
@click.option(
    "--forwarded-allow-ips",
    default="127.0.0.1",
    show_default=True,
    metavar="IPS",
    help="Proxies whose X-Forwarded-For/-Proto headers are trusted (comma-separated, * for any).",
)
@click.option("--access-log", is_flag=True, help="Log one line per HTTP request.")
@click.pass_context
@handle_errors
def serve_command(
    ctx: click.Context,
    host: str,
    port: int,
    db: str | None,
    no_relay: bool,
    session_hours: float,
    max_body_bytes: int,
    secure_cookies: bool,
    forwarded_allow_ips: str,
    access_log: bool,
) -> None:
    """Run the web service and the relay in one process, until SIGTERM or SIGINT.

    \b
    Serves:
      POST /opensolar/changes   OpenSolar changes in (one object or an array; see the README)
      GET  /                    the Payment Requests page (log in; see `syncledger users`)
      GET  /healthz, /metrics   health (JSON) and Prometheus metrics

    Prints one JSON line with the `url` once it listens. The relay delivers to Xero in a
    background thread; on SIGTERM the delivery in flight finishes before the process exits.
    Only one relay may run against a SQLite database: use --no-relay if another runs.
    Webhook secrets need SYNCLEDGER_SECRET_KEY (see `syncledger webhook secret --help`).
    """
    from syncledger.web.backend import Backend
    from syncledger.web.server import bind, serve

    settings = _settings(ctx, db)
    _configure_logging(ctx)
    try:
        Backend.open(settings).close()
    except (StorageError, PersistenceError, OSError) as exc:
        raise Failure(f"cannot open the database {settings.db}: {exc}") from exc
    if settings.secret_key is None:
        logging.getLogger("syncledger.web").warning(
            "SYNCLEDGER_SECRET_KEY is not set: POST /opensolar/changes answers 503 until it is"
        )
    lock = None if no_relay or settings.is_postgres else RelayLock(settings.db)
    if lock is not None:
        try:
            lock.acquire()
        except LockHeldError as exc:
            raise Failure(f"{exc}; or run serve with --no-relay") from exc
    try:
        try:
            sock = bind(host, port)
        except OSError as exc:
            raise Failure(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
        web = WebSettings(
            session_seconds=max(60, int(session_hours * 3600)),
            max_body_bytes=max_body_bytes,
            secure_cookies=secure_cookies,
        )

        def announce(url: str) -> None:
            click.echo(json.dumps({"url": url, "relay": not no_relay, "db": settings.db}))
            sys.stdout.flush()

        code = serve(
            settings,
            sock,
            web=web,
            relay=not no_relay,
            access_log=access_log,
            on_started=announce,
            forwarded_allow_ips=forwarded_allow_ips,
        )
    finally:
        if lock is not None:
            lock.release()
    if code:
        raise Failure("the relay stopped on an error (see the log above)")


# users ----------------------------------------------------------------------------------------


@click.group("users")
def users_group() -> None:
    """Who may log in to the Payment Requests page.

    A user sees and acts on the documents of their organisation only; an administrator
    (--admin) on every organisation's.
    """


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise click.UsageError("--password-stdin: standard input held no password")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    problem = password_problem(password)
    if problem:
        raise click.BadParameter(problem, param_hint="password")
    return password


def _email(email: str) -> str:
    found = normal_email(email)
    if found is None:
        raise click.BadParameter(f"{email!r} is not an email address", param_hint="EMAIL")
    return found


password_stdin = click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of prompting.",
)


@users_group.command("add")
@click.argument("org")
@click.argument("email")
@click.option("--admin", is_flag=True, help="May see and act on every organisation's documents.")
@password_stdin
@db_option
@click.pass_context
@handle_errors
def users_add(
    ctx: click.Context, org: str, email: str, admin: bool, password_stdin: bool, db: str | None
) -> None:
    """Create a user of organisation ORG who logs in with EMAIL.

    Prompts for the password (twice) unless --password-stdin is given. Passwords have at least
    8 characters and are stored as salted scrypt hashes.
    """
    address = _email(email)
    if not org.strip():
        raise click.BadParameter("must not be empty", param_hint="ORG")
    with _system(ctx, db) as system:
        require_organisation(system, org.strip())  # before the password prompt
        password = _password(password_stdin)
        store = WebStore(system.database)
        user = store.add_user(org.strip(), address, hash_password(password), is_admin=admin)
    role = "administrator" if user.is_admin else "user"
    click.echo(f"added {role} {user.email} of organisation {user.org}")


@users_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of objects.")
@db_option
@click.pass_context
@handle_errors
def users_list(ctx: click.Context, as_json: bool, db: str | None) -> None:
    """List the users (never their passwords)."""
    with _store(ctx, db) as (_, store):
        users = store.users()
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "email": u.email,
                        "org": u.org,
                        "admin": u.is_admin,
                        "created_at": u.created_at,
                    }
                    for u in users
                ],
                indent=2,
            )
        )
        return
    if not users:
        click.echo("no users: add one with `syncledger users add ORG EMAIL`")
    for user in users:
        role = "admin" if user.is_admin else "user"
        click.echo(f"{user.org:<10} {role:<6} {user.email}  (since {user.created_at})")


@users_group.command("remove")
@click.argument("email")
@db_option
@click.pass_context
@handle_errors
def users_remove(ctx: click.Context, email: str, db: str | None) -> None:
    """Delete the user who logs in with EMAIL and end their sessions."""
    address = _email(email)
    with _store(ctx, db) as (_, store):
        store.remove_user(address)
    click.echo(f"removed {address}")


@users_group.command("password")
@click.argument("email")
@password_stdin
@db_option
@click.pass_context
@handle_errors
def users_password(ctx: click.Context, email: str, password_stdin: bool, db: str | None) -> None:
    """Set a new password for EMAIL (ends the user's sessions)."""
    address = _email(email)
    password = _password(password_stdin)
    with _store(ctx, db) as (_, store):
        store.set_password(address, hash_password(password))
    click.echo(f"password changed for {address}")


# webhook secrets ------------------------------------------------------------------------------


@click.group("webhook")
def webhook_group() -> None:
    """Secrets that authenticate OpenSolar's changes posted to POST /opensolar/changes."""


@webhook_group.command("secret")
@click.argument("org")
@click.option(
    "--rotate",
    is_flag=True,
    help="Replace the organisation's secret; the old one stops working at once.",
)
@db_option
@click.pass_context
@handle_errors
def webhook_secret(ctx: click.Context, org: str, rotate: bool, db: str | None) -> None:
    """Create organisation ORG's webhook secret and print it, this once, on standard output.

    The secret is stored sealed with SYNCLEDGER_SECRET_KEY (which must be set). Configure the
    webhook in OpenSolar to send it in the X-Syncledger-Secret header, or to sign each body
    with it (X-Syncledger-Signature: sha256=<hex HMAC-SHA256 of the body>); add
    X-Syncledger-Org: ORG. An existing secret is never shown again: use --rotate to replace it.
    """
    if not org.strip() or ":" in org:
        raise click.BadParameter("not an OpenSolar organisation id", param_hint="ORG")
    with _store(ctx, db) as (settings, store):
        box = SecretBox(settings.secret_key)
        secret = store.create_webhook_secret(org.strip(), box, rotate=rotate)
    click.echo(secret)
    verb = "replaced" if rotate else "created"
    click.echo(
        f"{verb} the webhook secret of organisation {org.strip()}; it is not shown again. "
        f"Send it as {SECRET_HEADER} (or sign bodies: {SIGNATURE_HEADER}) with "
        f"{ORG_HEADER}: {org.strip()}",
        err=True,
    )


@webhook_group.command("list")
@db_option
@click.pass_context
@handle_errors
def webhook_list(ctx: click.Context, db: str | None) -> None:
    """List the organisations that have a webhook secret (never the secrets)."""
    with _store(ctx, db) as (_, store):
        found = store.webhook_secrets()
    if not found:
        click.echo("no webhook secrets: create one with `syncledger webhook secret ORG`")
    for info in found:
        click.echo(f"{info.org}  (since {info.created_at})")


@webhook_group.command("revoke")
@click.argument("org")
@db_option
@click.pass_context
@handle_errors
def webhook_revoke(ctx: click.Context, org: str, db: str | None) -> None:
    """Delete organisation ORG's webhook secret: its changes are refused (401) until a new one
    is created."""
    with _store(ctx, db) as (_, store):
        if not store.revoke_webhook_secret(org.strip()):
            raise Failure(f"organisation {org.strip()} has no webhook secret")
    click.echo(f"revoked the webhook secret of organisation {org.strip()}")


COMMANDS: tuple[click.Command, ...] = (serve_command, users_group, webhook_group)


def attach(group: click.Group) -> None:
    """Add ``serve``, ``users`` and ``webhook`` to a command group."""
    for command in COMMANDS:
        if command.name is not None:
            group.add_command(command, command.name)
