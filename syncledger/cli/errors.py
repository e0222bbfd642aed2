"""How the command line turns errors into exit codes: one table, applied once, by the group at
the root of the invocation (``syncledger``, or ``audit``, ``users`` and ``webhook`` when they run
on their own).

Usage mistakes are click's (exit 2, with the usage line). Operational failures (a refused change
of state, a database that cannot be reached, Xero refusing, a secret that cannot be opened)
become one line on stderr and exit 1, never a traceback, with anything that looks like a
credential redacted. Library code raises its own errors and never exits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import click
from eventsourcing.persistence import PersistenceError

from domain.errors import DomainError
from domain.redaction import redact_text
from outbox.reconcile import ReconcileError
from outbox.secrets import SecretError
from outbox.xero import XeroError
from projections.storage.errors import StorageError
from syncledger.errors import SyncledgerError

OPERATIONAL = 1
"""The exit code of an operational failure (click's usage mistakes exit 2)."""


class Failure(click.ClickException):
    """An operational failure: one line on stderr, exit code 1."""

    exit_code = OPERATIONAL

    def __init__(self, message: str) -> None:
        super().__init__(redact_text(message))


@dataclass(frozen=True)
class Rule:
    """What one kind of error becomes: a one-line failure (exit 1) saying ``prefix`` and the
    error's message, or, when it ``passes``, what click makes of it."""

    kind: type[BaseException]
    prefix: str = ""
    passes: bool = False


ERRORS: tuple[Rule, ...] = (
    Rule(click.UsageError, passes=True),  # exit 2, with the usage line
    Rule(click.ClickException, passes=True),  # Failure and the like: exit 1, one line
    Rule(click.exceptions.Exit, passes=True),  # ctx.exit(n)
    Rule(click.Abort, passes=True),  # Ctrl-C at a prompt: "Aborted!", exit 1
    Rule(BrokenPipeError, passes=True),  # `| head`: click ends it silently, exit 1
    Rule(XeroError, prefix="Xero: "),
    Rule(PersistenceError, prefix="database error: "),
    Rule(DomainError),
    Rule(StorageError),
    Rule(SyncledgerError),  # the shell's own: connect, the relay lock, settings, the web
    Rule(SecretError),
    Rule(ReconcileError),
    Rule(OSError),
)
"""The one mapping, read top down: the first rule whose kind the error is decides."""


def failure_for(error: BaseException) -> Failure | None:
    """The failure ``error`` becomes, or None when it goes on as it is."""
    for rule in ERRORS:
        if isinstance(error, rule.kind):
            return None if rule.passes else Failure(f"{rule.prefix}{error}")
    return None


class Shell(click.Group):
    """A command group that, at the root of an invocation, maps errors through ``ERRORS``; as a
    subgroup it leaves that to the root."""

    def invoke(self, ctx: click.Context) -> Any:
        if ctx.parent is not None:
            return super().invoke(ctx)
        try:
            return super().invoke(ctx)
        except Exception as error:
            failure = failure_for(error)
            if failure is None:
                raise
            raise failure from error
