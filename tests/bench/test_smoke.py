"""``python -m bench --quick`` runs every benchmark on both backends and prints the table: a smoke
test that the benchmarks still work. It asserts nothing about speed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.__main__ import ORDER
from tests.support.databases import require_postgres

pytestmark = [pytest.mark.bench, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]


def test_the_quick_benchmarks_run_and_fill_every_row_of_the_table():
    require_postgres()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCLEDGER_")}

    run = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert run.returncode == 0, run.stderr[-4000:]
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in run.stdout.splitlines()
        if line.startswith("| ") and not line.startswith("| figure")
    ]
    assert not [r for r in rows if "FAILED" in r[2]], rows
    for backend in ("SQLite", "PostgreSQL"):
        figures = [r[0] for r in rows if r[1] == backend]
        for figure in ORDER:
            assert any(f.startswith(figure) for f in figures), (backend, figure, figures)
    assert "CPU:" in run.stdout and "Python 3" in run.stdout, "the machine is described"
