"""The ``serve`` command: the web service (the OpenSolar change endpoint, the Payment Requests
page, health and metrics) and the relay, in one process."""

from __future__ import annotations

import json
import logging
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from eventsourcing.persistence import PersistenceError

from projections.storage.errors import StorageError
from syncledger.cli.errors import Failure
from syncledger.cli.shell import db_option, log_deliveries, settings
from syncledger.locks import LockHeldError, RelayLock
from syncledger.web.changes import DEFAULT_MAX_BODY_BYTES
from syncledger.web.settings import WebSettings


def _share_logging(ctx: click.Context) -> None:
    """The relay logs a line per delivery at info, as ``syncledger relay`` does; uvicorn's own
    lines go to the same handler."""
    ours = log_deliveries(ctx)
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
    from syncledger.web.server import serve

    chosen = settings(ctx, db)
    _share_logging(ctx)
    try:
        Backend.open(chosen).close()
    except (StorageError, PersistenceError, OSError) as exc:
        raise Failure(f"cannot open the database {chosen.db}: {exc}") from exc
    if chosen.secret_key is None:
        logging.getLogger("syncledger.web").warning(
            "SYNCLEDGER_SECRET_KEY is not set: POST /opensolar/changes answers 503 until it is"
        )

    def announce(url: str) -> None:
        click.echo(json.dumps({"url": url, "relay": not no_relay, "db": chosen.db}))
        sys.stdout.flush()

    with _sole_relay(None if no_relay or chosen.is_postgres else RelayLock(chosen.db)):
        code = serve(
            chosen,
            _bound(host, port),
            web=WebSettings(
                session_seconds=max(60, int(session_hours * 3600)),
                max_body_bytes=max_body_bytes,
                secure_cookies=secure_cookies,
            ),
            relay=not no_relay,
            access_log=access_log,
            on_started=announce,
            forwarded_allow_ips=forwarded_allow_ips,
        )
    if code:
        raise Failure("the relay stopped on an error (see the log above)")


@contextmanager
def _sole_relay(lock: RelayLock | None) -> Iterator[None]:
    """Hold the SQLite database's relay lock (if any) while serving."""
    if lock is None:
        yield
        return
    try:
        lock.acquire()
    except LockHeldError as exc:
        raise Failure(f"{exc}; or run serve with --no-relay") from exc
    try:
        yield
    finally:
        lock.release()


def _bound(host: str, port: int) -> socket.socket:
    """A socket listening on ``host``:``port``."""
    from syncledger.web.server import bind

    try:
        return bind(host, port)
    except OSError as exc:
        raise Failure(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
