"""The domain has one error root: every exception class it defines derives from ``DomainError``,
and ``domain/errors.py`` draws each of them in its tree."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import domain
import domain.errors
from domain.errors import DomainError


def _domain_exceptions() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(domain.__path__, "domain."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__.startswith("domain.")
            ):
                found[name] = value
    return found


def test_every_domain_error_derives_from_domain_error():
    found = _domain_exceptions()

    assert "MoneyError" in found
    assert [n for n, cls in sorted(found.items()) if not issubclass(cls, DomainError)] == []


def test_the_error_tree_names_every_domain_error():
    tree = domain.errors.__doc__ or ""

    assert [name for name in sorted(_domain_exceptions()) if name not in tree] == []
