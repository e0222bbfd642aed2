"""One error root per package: every exception class the shell (``syncledger``, the sandbox
aside) or the storage layer defines derives from its package's root, or from the root of the
layer whose failure it names."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import click
import pytest

import projections
import syncledger
from domain.errors import DomainError
from outbox.errors import OutboxError
from projections.storage.errors import ProjectionError
from syncledger.errors import SyncledgerError

ROOTS = (SyncledgerError, DomainError, ProjectionError, OutboxError)


def defined_errors(package) -> list[type[BaseException]]:
    found = []
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if ".sandbox" in info.name or info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        found += [
            value
            for value in vars(module).values()
            if inspect.isclass(value)
            and issubclass(value, BaseException)
            and value.__module__ == module.__name__
        ]
    return found


@pytest.mark.parametrize("package", [syncledger, projections], ids=lambda p: p.__name__)
def test_every_error_a_package_defines_has_a_root(package):
    errors = defined_errors(package)
    assert errors
    # the CLI's ``Failure`` is click's own protocol for "exit 1 with this line", not an error root
    orphans = [
        e.__qualname__
        for e in errors
        if not issubclass(e, ROOTS) and not issubclass(e, click.ClickException)
    ]
    assert not orphans, orphans


def test_the_shell_s_own_errors_share_one_root():
    from syncledger.config import SettingsError
    from syncledger.connect import ConnectError
    from syncledger.locks import LockHeldError
    from syncledger.web.errors import WebError

    for error in (SettingsError, ConnectError, LockHeldError, WebError):
        assert issubclass(error, SyncledgerError), error
