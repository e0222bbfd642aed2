"""One error root for the outbox package: every exception class it defines is an
``OutboxError``, so a caller can catch whatever the outbox refused or could not do."""

from __future__ import annotations

import importlib
import pkgutil

import outbox
from outbox.errors import OutboxError


def outbox_exceptions() -> list[type[BaseException]]:
    found = []
    for info in pkgutil.walk_packages(outbox.__path__, "outbox."):
        module = importlib.import_module(info.name)
        found.extend(
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, BaseException)
            and value.__module__ == info.name
        )
    return found


def test_every_outbox_error_derives_from_outbox_error():
    exceptions = outbox_exceptions()

    assert exceptions, "the outbox defines errors"
    assert [e.__qualname__ for e in exceptions if not issubclass(e, OutboxError)] == []
