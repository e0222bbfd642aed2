"""What the audit commands share: the fresh audit index they read, the options every one of them
takes (``--org``, ``--since``, ``--until``, ``--json``, ``--csv``, ``--db``), the window those
select, and where answers go (stdout as a table, CSV or JSON; notes on stderr), redacted."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import click

from domain.redaction import redact_text
from projections.audit import Window, stamp
from syncledger.audit import queries
from syncledger.cli.audit import output
from syncledger.cli.audit.output import Column
from syncledger.cli.shell import db_option, json_option, opened, parse_moment


@contextmanager
def audit_index(ctx: click.Context, db: str | None) -> Iterator[queries.Audit]:
    """The audit index of this command's ledger, brought up to the end of the log."""
    with opened(ctx, db) as system:
        audit = queries.Audit.open(system)
        audit.refresh()
        yield audit


@dataclass(frozen=True)
class Common:
    """What the options every audit command takes were given."""

    org: str | None
    since: str | None
    until: str | None
    as_json: bool
    as_csv: bool
    db: str | None

    def format(self) -> str:
        """``output.JSON``, ``output.CSV`` or ``output.TABLE``, as chosen (at most one)."""
        return output_format(self.as_json, self.as_csv)

    def window(self) -> Window:
        """The stretch of time ``--since`` and ``--until`` select (``--until`` exclusive; a
        date includes the whole of that day)."""
        start = stamp(parse_moment(self.since)) if self.since else None
        end = stamp(parse_moment(self.until, end_of_day=True)) if self.until else None
        return Window(start, end)


def common(func: Callable[..., None]) -> Callable[..., None]:
    """``--org``, ``--since``, ``--until``, ``--json``, ``--csv`` and ``--db``, handed to the
    command as one ``Common`` (keyword ``given``)."""

    @functools.wraps(func)
    def command(
        *args: Any,
        org: str | None,
        since: str | None,
        until: str | None,
        as_json: bool,
        as_csv: bool,
        db: str | None,
        **kwargs: Any,
    ) -> None:
        func(*args, given=Common(org, since, until, as_json, as_csv, db), **kwargs)

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
        json_option("Print one JSON document."),
        click.option("--csv", "as_csv", is_flag=True, help="Print CSV with a header row."),
        db_option,
    ]
    decorated: Callable[..., None] = command
    for decorator in reversed(decorators):
        decorated = decorator(decorated)
    return decorated


def output_format(as_json: bool, as_csv: bool) -> str:
    """``output.JSON``, ``output.CSV`` or ``output.TABLE``, as chosen (at most one)."""
    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    return output.JSON if as_json else output.CSV if as_csv else output.TABLE


def emit(
    fmt: str,
    columns: Sequence[Column],
    rows: Iterator[Mapping[str, Any]],
    *,
    head: Mapping[str, Any],
    key: str,
    tail: Callable[[], Mapping[str, Any]] | None = None,
    empty: str = "nothing found",
) -> int:
    """Rows in the chosen format: JSON (``head``, ``key``: rows, ``tail``), CSV or a table."""
    if fmt == output.JSON:
        return output.write_json(echo, head, key, rows, tail)
    if fmt == output.CSV:
        return output.write_csv(echo, columns, rows)
    return output.write_table(echo, columns, rows, empty=empty)


def echo(text: str) -> None:
    """One line on stdout, with anything that looks like a credential redacted."""
    click.echo(redact_text(text))


def note(message: str) -> None:
    """One line on stderr, with anything that looks like a credential redacted."""
    click.echo(redact_text(message), err=True)
