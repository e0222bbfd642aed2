"""What the benchmarks ran on: CPU, memory, versions, the code measured, and the date."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "?"


def _git() -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"
    return commit + (" with uncommitted changes" if dirty else "")


def _load() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "?"
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def describe(postgres_version: str | None) -> list[str]:
    """The machine and software, one fact per line (markdown list items)."""
    return [
        f"CPU: {_cpu_model()} × {os.cpu_count()} (as the OS sees them)",
        f"RAM: {_memory_gib()}",
        f"OS: {platform.system()} {platform.release()}",
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        + (f"PostgreSQL {postgres_version}" if postgres_version else "PostgreSQL: not reachable")
        + f", eventsourcing {metadata.version('eventsourcing')}",
        f"code: {_git()}",
        f"date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}; load average at start "
        f"(1 / 5 / 15 min): {_load()}",
    ]


def load_now() -> str:
    """The load average now (to show whether something else ran during the benchmarks)."""
    return _load()
