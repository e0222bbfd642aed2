"""The sandbox stands in for Xero: it imports the standard library, click (for its command line)
and itself, and nothing of the product it is a stand-in for."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import syncledger.sandbox

SANDBOX = Path(syncledger.sandbox.__file__).parent
ALLOWED = frozenset(sys.stdlib_module_names) | {"click"}


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.append("." * node.level + (node.module or ""))
    return names


def test_the_sandbox_imports_only_the_standard_library_click_and_itself() -> None:
    foreign = {
        f"{path.relative_to(SANDBOX)}: {name}"
        for path in sorted(SANDBOX.rglob("*.py"))
        for name in _imports(path)
        if name.split(".")[0] not in ALLOWED
        and name != "syncledger.sandbox"
        and not name.startswith("syncledger.sandbox.")
    }
    assert not foreign, sorted(foreign)
