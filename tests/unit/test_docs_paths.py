"""The README and docs/ name files and folders of this repository; each named path exists, so
the map a newcomer reads is the tree they cloned."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TOP = ("domain", "projections", "outbox", "syncledger", "tests", "bench", "docs", ".ci")
TOPS = "|".join(re.escape(t) for t in TOP)
PATH = re.compile(rf"(?<![\w./-])((?:{TOPS})/[\w./-]*[\w/])")


def named_paths(page: Path) -> set[str]:
    return {m.group(1).rstrip("/.") for m in PATH.finditer(page.read_text(encoding="utf-8"))}


def made_by_runs() -> set[str]:
    """Folders the project's own runs make (ignored by git), which a fresh clone has not yet."""
    lines = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    return {line.strip().rstrip("/") for line in lines if line.strip().startswith(TOP)}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_repository_path_a_page_names_exists(page: Path):
    made = made_by_runs()
    missing = sorted(p for p in named_paths(page) if p not in made and not (ROOT / p).exists())
    assert not missing, f"{page.name} names paths that do not exist: {missing}"


def test_the_pages_name_paths_at_all():
    assert len(named_paths(ROOT / "README.md")) >= 10
