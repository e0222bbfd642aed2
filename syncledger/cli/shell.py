"""What every command shares: the settings of this invocation (the root group's options over the
``SYNCLEDGER_*`` variables), the system a command opens, the common options, how ISO 8601 dates,
timestamps and statuses given on the command line are read, and logging set-up."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import click
from eventsourcing.persistence import PersistenceError

from domain.vocabulary import DocumentKind, Status
from projections.storage.errors import StorageError
from syncledger import config
from syncledger.bootstrap import NoLedgerError, System
from syncledger.cli.errors import Failure

F = TypeVar("F", bound=Callable[..., Any])

CONTEXT_SETTINGS: dict[str, Any] = {
    "help_option_names": ["-h", "--help"],
    "max_content_width": 100,
}
ONE_DAY = timedelta(days=1)
KIND_CHOICE = click.Choice([kind.value for kind in DocumentKind])


# settings and the system ----------------------------------------------------------------------


@dataclass(frozen=True)
class Invocation:
    """What the root group's options decided, seen by every command below it."""

    settings: config.Settings
    db: str | None = None
    log_level: str | None = None


def load_settings() -> config.Settings:
    """The settings from ``SYNCLEDGER_*``; a value that cannot be used is a usage mistake."""
    try:
        return config.load()
    except config.SettingsError as exc:
        raise click.UsageError(str(exc)) from exc


def invocation(ctx: click.Context) -> Invocation:
    """The root group's choices, or the environment's when a group runs on its own."""
    found = ctx.find_object(Invocation)
    return found if found is not None else Invocation(load_settings())


def settings(ctx: click.Context, db: str | None = None) -> config.Settings:
    """This command's settings: its own ``--db``, else the root group's, else the variables."""
    given = invocation(ctx)
    return given.settings.with_options(db=db or given.db)


@contextmanager
def opened(ctx: click.Context, db: str | None, *, create: bool = False) -> Iterator[System]:
    """The system for this command's database, with errors turned into clean exits. Only the
    commands that bring a ledger into being (``db init``, ``connect``, ``ingest``) create one;
    every other command needs it to exist ("no ledger at …")."""
    chosen = settings(ctx, db)
    try:
        system = System.open(chosen, create=create)
    except NoLedgerError as exc:
        raise Failure(str(exc)) from exc
    except (StorageError, PersistenceError, OSError) as exc:
        raise Failure(f"cannot open the database {chosen.db}: {exc}") from exc
    try:
        yield system
    finally:
        system.close()


# options --------------------------------------------------------------------------------------

db_option = click.option(
    "--db",
    metavar="PATH",
    default=None,
    help="Ledger database (SQLite file). Default: $SYNCLEDGER_DB or ./syncledger.db.",
)
org_option = click.option("--org", metavar="ORG", default=None, help="OpenSolar organisation id.")


def json_option(help: str = "Print JSON.") -> Callable[[F], F]:
    """``--json`` (as ``as_json``) with this help."""
    return click.option("--json", "as_json", is_flag=True, help=help)


def status_option(help: str) -> Callable[[F], F]:
    """``--status STATUS`` (as ``status_name``; read it with ``parse_status``)."""
    return click.option("--status", "status_name", metavar="STATUS", default=None, help=help)


# values ---------------------------------------------------------------------------------------

STATUS_NAMES = {status.lower().replace(" ", "-"): status.value for status in Status} | {
    status.lower(): status.value for status in Status
}


def parse_status(value: str | None) -> str | None:
    """A status as given to ``--status`` (any case; ``not-attempted`` or ``not_attempted``)."""
    if value is None:
        return None
    wanted = STATUS_NAMES.get(value.strip().lower().replace("_", "-"))
    if wanted is None:
        names = ", ".join(status.value for status in Status)
        raise click.BadParameter(f"{value!r}: expected one of {names}", param_hint="--status")
    return wanted


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


def parse_date(value: str, hint: str, *, leading: bool = False) -> date:
    """A date YYYY-MM-DD given to option ``hint``; with ``leading``, the first ten characters
    (so the date of a timestamp will do)."""
    try:
        return date.fromisoformat(value.strip()[:10] if leading else value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date YYYY-MM-DD", param_hint=hint) from None


# logging --------------------------------------------------------------------------------------

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


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


def configure_logging(level: str, fmt: str) -> None:
    """The ``syncledger`` loggers write to stderr at ``level``, as text or JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger("syncledger")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


def log_deliveries(ctx: click.Context) -> logging.Logger:
    """The ``syncledger`` logger, at info unless a level was chosen (``--log-level``, or
    ``SYNCLEDGER_LOG_LEVEL`` other than the default): the relay logs a line per delivery."""
    given = invocation(ctx)
    ours = logging.getLogger("syncledger")
    if not ours.handlers:  # a group run on its own: nobody has set logging up
        configure_logging(given.settings.log_level, given.settings.log_format)
    if given.log_level is None and given.settings.log_level == "WARNING":
        ours.setLevel(logging.INFO)
    return ours
