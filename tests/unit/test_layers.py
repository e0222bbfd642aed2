"""The import direction between packages, checked by walking every module's imports with ast."""

from __future__ import annotations

import ast
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
