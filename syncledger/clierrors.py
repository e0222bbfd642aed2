"""How the command line turns errors into exit codes: the one mapping, used by every command.

Usage mistakes are click's (exit 2). Operational failures (a refused change of state, a database
that cannot be reached, Xero refusing, a secret that cannot be opened) become one line on stderr
and exit 1, never a traceback, with anything that looks like a credential redacted. Command
groups outside this module register their own operational errors with ``operational``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click
from eventsourcing.persistence import PersistenceError

from domain.errors import DomainError
from domain.redaction import redact_text
from outbox.secrets import SecretError
from outbox.xero import XeroError
from projections.errors import StorageError
from syncledger.connect import ConnectError
from syncledger.locks import LockHeldError

F = TypeVar("F", bound=Callable[..., Any])

_OPERATIONAL: list[type[Exception]] = [
    DomainError,
    StorageError,
    LockHeldError,
    ConnectError,
    SecretError,
]


class Failure(click.ClickException):
    """An operational failure: one line on stderr, exit code 1."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(redact_text(message))


def operational(*types: type[Exception]) -> None:
    """Treat these errors as operational failures too (exit 1 with their message)."""
    for kind in types:
        if kind not in _OPERATIONAL:
            _OPERATIONAL.append(kind)


def handle_errors(func: F) -> F:
    """Run a command, mapping operational errors to ``Failure``."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.Abort, BrokenPipeError):
            raise  # click ends a broken pipe (`| head`) silently, with exit 1
        except XeroError as exc:
            raise Failure(f"Xero: {exc}") from exc
        except PersistenceError as exc:
            raise Failure(f"database error: {exc}") from exc
        except tuple(_OPERATIONAL) as exc:
            raise Failure(str(exc)) from exc

    return wrapper  # type: ignore[return-value]
