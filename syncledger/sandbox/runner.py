"""Running a sandbox as a foreground process until SIGTERM or SIGINT.

`run_forever` starts a `Sandbox`, prints one JSON line describing it (URL, tenants, client id)
so a parent process can read where to connect, and serves until a signal asks it to stop, then
stops cleanly and returns (the process then exits with status 0).
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from types import FrameType
from typing import TextIO

from syncledger.sandbox.config import SandboxConfig
from syncledger.sandbox.server import Sandbox


def announcement(sandbox: Sandbox) -> dict[str, object]:
    """The JSON object `run_forever` prints."""
    tenants = sandbox.app.tenant_list()
    return {
        "url": sandbox.url,
        "tenant_id": tenants[0]["tenant_id"],
        "tenant_ids": [t["tenant_id"] for t in tenants],
        "tenants": tenants,
        "client_id": sandbox.config.client_id,
    }


def run_forever(config: SandboxConfig, out: TextIO | None = None) -> None:
    """Serve until SIGTERM or SIGINT; prints one JSON line first."""
    stream = out if out is not None else sys.stdout
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    in_main = threading.current_thread() is threading.main_thread()
    previous = {}
    if in_main:
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, on_signal)
    try:
        with Sandbox(config) as sandbox:
            stream.write(json.dumps(announcement(sandbox)) + "\n")
            stream.flush()
            while not stop.wait(0.2):
                pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
