"""``syncledger serve``: one process running uvicorn (the web app) and the relay in a background
thread, each with its own ``System``. SIGTERM or SIGINT stops both: uvicorn stops accepting,
finishes the answers in flight and ends the live-update streams; the relay finishes the delivery
in flight, records its outcome and stops.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType

import uvicorn

from outbox.relay import Relay
from syncledger import service
from syncledger.bootstrap import System
from syncledger.config import Settings
from syncledger.web.app import create_app
from syncledger.web.context import NoRelay, RelayState
from syncledger.web.settings import WebSettings

log = logging.getLogger("syncledger.web")

GRACEFUL_SHUTDOWN_SECONDS = 10


class RelayThread:
    """The relay, running on its own thread with its own ``System``."""

    enabled = True

    def __init__(self, settings: Settings, owner: str = "serve") -> None:
        self.settings = settings
        self.owner = owner
        self.stop = threading.Event()
        self.error: str | None = None
        self._relay: Relay | None = None
        self._thread = threading.Thread(target=self._run, name="syncledger-relay", daemon=True)

    @property
    def relay(self) -> Relay | None:
        return self._relay

    def start(self) -> None:
        self._thread.start()

    def alive(self) -> bool:
        return self._thread.is_alive() and not self.stop.is_set()

    def join(self, timeout: float | None = None) -> None:
        self.stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            with System.open(self.settings) as system:
                relay = system.relay(owner=self.owner)
                self._relay = relay
                log.info("relay started")
                relay.run(stop=self.stop)
                service.refresh(system)
                report = relay.report
                log.info(
                    "relay stopped: delivered %d, failed %d, retrying %d, skipped %d",
                    report.delivered,
                    report.failed,
                    report.retrying,
                    report.skipped,
                )
        # The thread's outermost boundary: whatever stops the relay is logged and reported by
        # /healthz (the web side keeps serving), instead of vanishing with the thread.
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            log.exception("the relay stopped on an error")


class _Server(uvicorn.Server):
    """uvicorn, telling us when it listens and when it is asked to stop."""

    def __init__(
        self, config: uvicorn.Config, on_started: Callable[[], None], on_stop: Callable[[], None]
    ) -> None:
        super().__init__(config)
        self._on_started = on_started
        self._on_stop = on_stop

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and not self.should_exit:
            self._on_started()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._on_stop()
        super().handle_exit(sig, frame)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port`` (port 0: any free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


@dataclass
class WebServer:
    """The web app on uvicorn, with or without a relay thread beside it."""

    settings: Settings
    web: WebSettings = field(default_factory=WebSettings)
    relay: RelayState = field(default_factory=NoRelay)
    access_log: bool = False
    forwarded_allow_ips: str = "127.0.0.1"
    stopping: threading.Event = field(default_factory=threading.Event)
    _server: _Server | None = None

    def stop(self) -> None:
        """Ask everything to stop (safe from any thread or a signal handler)."""
        self.stopping.set()
        if isinstance(self.relay, RelayThread):
            self.relay.stop.set()
        if self._server is not None:
            self._server.should_exit = True

    def run(self, sock: socket.socket, on_started: Callable[[], None] = lambda: None) -> None:
        """Serve on ``sock`` until stopped (blocks)."""
        app = create_app(self.settings, self.web, self.relay, self.stopping)
        config = uvicorn.Config(
            app,
            lifespan="on",
            http="h11",
            ws="none",
            loop="asyncio",
            log_config=None,
            access_log=self.access_log,
            server_header=False,
            proxy_headers=True,
            forwarded_allow_ips=self.forwarded_allow_ips,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )
        self._server = _Server(config, on_started, self.stop)
        self._server.run(sockets=[sock])


def serve(
    settings: Settings,
    sock: socket.socket,
    *,
    web: WebSettings,
    relay: bool,
    access_log: bool,
    on_started: Callable[[str], None],
    forwarded_allow_ips: str = "127.0.0.1",
) -> int:
    """Run the web app and (unless ``relay`` is False) the relay until SIGTERM or SIGINT.
    Returns the process exit code: 0 after a clean stop, 1 if the relay had died on an error."""
    relay_thread = RelayThread(settings) if relay else None
    server = WebServer(
        settings,
        web,
        relay_thread or NoRelay(),
        access_log=access_log,
        forwarded_allow_ips=forwarded_allow_ips,
    )

    def on_signal(signum: int, frame: FrameType | None) -> None:
        server.stop()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        if relay_thread is not None:
            relay_thread.start()
        server.run(sock, lambda: on_started(url_of(sock)))
    finally:
        server.stop()
        if relay_thread is not None:
            relay_thread.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if relay_thread is not None and relay_thread.error is not None:
        return 1
    return 0
