"""The import direction between packages, checked by walking every module's imports with ast."""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "projections", "outbox", "syncledger")


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def modules(package: str):
    return sorted((ROOT / package).rglob("*.py"))


def top(name: str) -> str:
    return name.split(".", 1)[0]


@pytest.mark.parametrize("path", modules("domain"), ids=str)
def test_domain_imports_none_of_the_other_packages_and_no_io_library(path):
    bad = {top(n) for n in imports(path)} & {
        "projections",
        "outbox",
        "syncledger",
        "httpx",
        "psycopg",
        "click",
        "sqlite3",
    }
    assert not bad, f"{path} imports {bad}"


@pytest.mark.parametrize("package", PACKAGES)
def test_only_the_xero_package_and_the_sandbox_import_httpx(package):
    xero = ROOT / "outbox" / "xero"
    for path in modules(package):
        if "httpx" in {top(n) for n in imports(path)}:
            in_sandbox = "sandbox" in path.parts
            assert path.parent == xero or in_sandbox, f"{path} imports httpx"


@pytest.mark.parametrize("package", PACKAGES)
def test_only_postgres_modules_import_psycopg(package):
    for path in modules(package):
        if "psycopg" in {top(n) for n in imports(path)} or "psycopg_pool" in {
            top(n) for n in imports(path)
        }:
            assert path.name == "postgres.py", f"{path} imports psycopg"


@pytest.mark.parametrize("package", ("domain", "projections", "outbox"))
def test_only_the_syncledger_package_imports_click(package):
    for path in modules(package):
        assert "click" not in {top(n) for n in imports(path)}, f"{path} imports click"


@pytest.mark.parametrize("package", ("projections", "outbox"))
def test_lower_layers_never_import_the_composition_root(package):
    for path in modules(package):
        assert "syncledger" not in {top(n) for n in imports(path)}, f"{path} imports syncledger"


def imported_by(*packages: str) -> list[tuple[Path, str]]:
    """Every (module path, imported name) pair of the modules under ``packages`` (folders)."""
    return [
        (path, name)
        for package in packages
        for path in sorted((ROOT / package).rglob("*.py"))
        for name in imports(path)
    ]


def within(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_projections_never_import_the_outbox():
    bad = [(str(p), n) for p, n in imported_by("projections") if within(n, "outbox")]
    assert not bad, bad


def test_the_storage_kernel_sits_below_projections_and_outbox():
    bad = [
        (str(p), n)
        for p, n in imported_by("projections/storage")
        if within(n, "projections", "outbox", "syncledger") and not within(n, "projections.storage")
    ]
    assert not bad, bad


def test_outside_projections_only_the_kernel_and_the_projection_base_are_shared():
    """The outbox writer is a projection (``projections.base``); everything else the outbox
    and the shell take from below is storage (``projections.storage``) or, for the shell, the
    projections' own queries."""
    bad = [
        (str(p), n)
        for p, n in imported_by("outbox")
        if within(n, "projections") and not within(n, "projections.storage", "projections.base")
    ]
    assert not bad, bad


def test_use_cases_never_import_the_web_the_cli_click_or_a_database_backend():
    """Use cases reach storage only through the composition root's ``System``."""
    bad = [
        (str(p), n)
        for p, n in imported_by("syncledger/service")
        if within(n, "syncledger.web", "syncledger.cli", "click", "sqlite3", "psycopg")
        or within(n, "projections.storage.sqlite", "projections.storage.postgres")
    ]
    assert not bad, bad


def test_the_web_never_imports_the_cli():
    """(Its ``__main__`` is an entry point: ``python -m syncledger.web`` runs the CLI's group.)"""
    bad = [
        (str(p), n)
        for p, n in imported_by("syncledger/web")
        if within(n, "syncledger.cli") and p.name != "__main__.py"
    ]
    assert not bad, bad


def test_nothing_shipped_or_benchmarked_imports_the_tests():
    bad = [(str(p), n) for p, n in imported_by(*PACKAGES, "bench") if within(n, "tests")]
    assert not bad, bad


def test_the_sandbox_imports_only_the_standard_library_click_and_itself():
    """The sandbox stands in for Xero: nothing of the product it stands in for."""
    allowed = frozenset(sys.stdlib_module_names) | {"click", "__future__"}
    bad = [
        (str(p), n)
        for p, n in imported_by("syncledger/sandbox")
        if top(n) not in allowed and not within(n, "syncledger.sandbox")
    ]
    assert not bad, bad


def test_no_relative_imports_hide_an_edge():
    """The checks above read absolute imports only; relative ones would slip past them."""
    bad = []
    for package in (*PACKAGES, "bench"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text())
            bad += [
                str(path)
                for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and node.level > 0
            ]
    assert not bad, bad


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_is_over_400_lines(package):
    long = {
        str(path.relative_to(ROOT)): n
        for path in modules(package)
        if (n := len(path.read_text().splitlines())) > 400
    }
    assert not long, long


@pytest.mark.parametrize("path", sorted((ROOT / "bench").glob("*.py")), ids=lambda p: p.name)
def test_every_benchmark_module_imports(path):
    """The benchmarks run outside the default suite; a rename below them shows here at once."""
    importlib.import_module(f"bench.{path.stem}")
