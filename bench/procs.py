"""Real processes the benchmarks drive: the Xero sandbox (``syncledger sandbox``), relays
(``syncledger relay``) and one-off commands whose wall time and peak RSS are measured.

Running the sandbox and the relays as processes of their own keeps the benchmark's own work
(ingesting, polling) from sharing their interpreter lock, as in production.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench import peak

BIN = Path(sys.executable).parent / "syncledger"


def command(*args: str) -> list[str]:
    """The installed ``syncledger`` command with arguments."""
    return [str(BIN), *args]


def environment(**settings: str) -> dict[str, str]:
    """This process's environment without any ``SYNCLEDGER_*`` variable, plus ``settings``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SYNCLEDGER_")}
    return {**clean, **settings}


def stop(process: subprocess.Popen[Any], timeout: float = 60.0) -> int:
    """SIGTERM, then wait (SIGKILL if it does not stop)."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


@dataclass
class Sandbox:
    """A running ``syncledger sandbox``."""

    process: subprocess.Popen[str]
    url: str
    tenant_ids: list[str]

    @classmethod
    def start(cls, *args: str) -> Sandbox:
        process = subprocess.Popen(
            command("sandbox", "--port", "0", *args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment(),
        )
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            error = process.stderr.read() if process.stderr else ""
            stop(process)
            raise RuntimeError(f"the sandbox did not start: {error}")
        announced = json.loads(line)
        return cls(process, announced["url"], list(announced["tenant_ids"]))

    def requests(self, tenant: str | None = None) -> list[dict[str, Any]]:
        """The sandbox's request log (arrival order), of one tenant or all."""
        params = {"tenant": tenant} if tenant else {}
        answer = httpx.get(f"{self.url}/sandbox/requests", params=params, timeout=120)
        answer.raise_for_status()
        data = answer.json()
        return list(data["requests"] if isinstance(data, dict) else data)

    def state(self, tenant: str) -> dict[str, Any]:
        answer = httpx.get(f"{self.url}/sandbox/state", params={"tenant": tenant}, timeout=120)
        answer.raise_for_status()
        return dict(answer.json())

    def stop(self) -> None:
        stop(self.process, 10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


def api_calls(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Accounting API calls in a request log (not the sandbox's control endpoints)."""
    return [r for r in requests if str(r.get("path", "")).lower().startswith("/api.xro/")]


class Relay:
    """A ``syncledger relay`` process (stderr kept in a log file)."""

    def __init__(self, db: str, log: Path, *, until_idle: bool = False, **settings: str) -> None:
        self.log_path = log
        self._log = log.open("w")
        args = ["--db", db, "relay"] + (["--until-idle"] if until_idle else [])
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            command(*args),
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            text=True,
            env=environment(**settings),
        )

    def stop(self) -> int:
        code = stop(self.process)
        self._log.close()
        return code

    def wait(self, timeout: float) -> bool:
        """Wait for the relay to exit by itself (True) or ``timeout`` to pass (False)."""
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        self._log.close()
        return True

    def log_tail(self, lines: int = 5) -> str:
        text = self.log_path.read_text(errors="replace").strip().splitlines()
        return " / ".join(text[-lines:])


@dataclass(frozen=True)
class Measured:
    """A finished command: wall seconds, peak resident memory and its output."""

    seconds: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str


def measure(args: list[str], env: dict[str, str] | None = None) -> Measured:
    """Run a command to completion; its own peak RSS comes from ``wait4`` (``ru_maxrss``),
    through ``bench.peak``'s launcher so that this process's size does not count."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        result = Path(folder) / "peak"
        process = peak.start(
            args, result, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env or environment()
        )
        # read the pipes on threads so a chatty command cannot block on a full pipe
        out: dict[str, bytes] = {}

        def drain(name: str, stream: Any) -> None:
            out[name] = stream.read()

        readers = [
            threading.Thread(target=drain, args=(name, stream))
            for name, stream in (("out", process.stdout), ("err", process.stderr))
        ]
        for reader in readers:
            reader.start()
        process.wait()
        seconds = time.perf_counter() - started
        for reader in readers:
            reader.join()
        code, peak_bytes = peak.read(result)
    return Measured(
        seconds,
        peak_bytes / 1024 / 1024,
        code,
        out.get("out", b"").decode(errors="replace"),
        out.get("err", b"").decode(errors="replace"),
    )
