"""Peak memory of a command, measured so that only the command counts.

``wait4``'s ``ru_maxrss`` for a child includes what the child held before it ran ``exec``, and
on Linux that is the parent's memory (a fork copies it, a vfork shares it): a command started
from a large process (a benchmark holding a big ledger in memory, a pytest worker) reports at
least that process's size whatever it uses itself. So the command is started by a small
launcher (Python without ``site``), and the launcher reports its own child's peak.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

_LAUNCHER = (
    "import os, subprocess, sys\n"
    "child = subprocess.Popen(sys.argv[2:])\n"
    "_, status, usage = os.wait4(child.pid, 0)\n"
    "with open(sys.argv[1], 'w') as out:\n"
    "    out.write(f'{usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}')\n"
)


def start(args: list[str], result: Path, **popen: Any) -> subprocess.Popen[bytes]:
    """Start ``args`` through the launcher (``popen`` keywords, such as pipes, apply to the
    command); once it has exited, ``read(result)`` gives its exit code and peak."""
    return subprocess.Popen([sys.executable, "-S", "-c", _LAUNCHER, str(result), *args], **popen)


def read(result: Path) -> tuple[int, int]:
    """(exit code, peak RSS in bytes) of a command started with ``start``."""
    fields = result.read_text().split()
    if len(fields) != 2:
        raise RuntimeError(f"the launcher reported nothing in {result}")
    maxrss, code = int(fields[0]), int(fields[1])
    return code, maxrss * (1 if sys.platform == "darwin" else 1024)


def run(args: list[str], **popen: Any) -> tuple[int, int]:
    """Run ``args`` to completion through the launcher; return (exit code, peak RSS bytes)."""
    with tempfile.TemporaryDirectory() as folder:
        result = Path(folder) / "peak"
        start(args, result, **popen).wait()
        return read(result)
