"""The HTTP transport and the `Sandbox` object tests and the CLI start and stop.

A `ThreadingHTTPServer` speaking HTTP/1.1 with keep-alive, one thread per connection, turns each
request into a `Request` for `SandboxApp` and writes the `Response` back, or closes the
connection without a word when the response says `drop` (injected timeouts and
drop-after-commit). `Sandbox.start()` returns once the socket listens; `stop()` wakes sleeping
requests, closes open connections and joins the serving thread.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, cast
from urllib.parse import urlsplit

from syncledger.sandbox.app import SandboxApp
from syncledger.sandbox.config import SandboxConfig
from syncledger.sandbox.errors import SandboxStateError
from syncledger.sandbox.exchange import Request, Response, text_response

logger = logging.getLogger(__name__)

MAX_READ_BYTES = 64 * 1024 * 1024
"""Bodies up to this size are read (and then refused with 413 when over 3.5 MB)."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512

    def __init__(self, address: tuple[str, int], app: SandboxApp) -> None:
        self.app = app
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def track(self, connection: socket.socket) -> None:
        with self._open_lock:
            self._open.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._open_lock:
            self._open.discard(connection)

    def close_connections(self) -> None:
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-answer is normal (timeouts, dropped connections).
        logger.debug("connection error from %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "XeroSandbox/1.0"
    sys_version = ""
    timeout = 600
    # Buffer writes so headers and body leave together (flushed after each request).
    wbufsize = 64 * 1024

    @property
    def _server(self) -> _Server:
        return cast(_Server, self.server)

    def setup(self) -> None:
        super().setup()
        # Small answers must not wait for delayed ACKs (Nagle): send each segment at once.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self._server.untrack(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log is the record."""

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def _serve(self) -> None:
        received = time.time()
        body = self._read_body()
        if body is None:
            return
        parts = urlsplit(self.path)
        headers = {key.lower(): value for key, value in self.headers.items()}
        request = Request(
            method=self.command.upper(),
            path=parts.path or "/",
            query=parts.query,
            headers=headers,
            body=body,
            received_at=received,
        )
        response = self._server.app.handle(request)
        if response.drop:
            self._drop()
            return
        self._send(response)

    def _read_body(self) -> bytes | None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        length_text = self.headers.get("Content-Length")
        if not length_text:
            return b""
        try:
            length = int(length_text)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            self._send(text_response(400, "Invalid Content-Length"))
            return None
        if length > MAX_READ_BYTES:
            self.close_connection = True
            self._send(text_response(413, "Request body too large"))
            return None
        body = self.rfile.read(length)
        if len(body) < length:
            # the client went away mid-request: like Xero, never act on a truncated body
            self.close_connection = True
            return None
        return body

    def _read_chunked(self) -> bytes | None:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip() or b"0", 16)
            except ValueError:
                self.close_connection = True
                self._send(text_response(400, "Invalid chunked body"))
                return None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_READ_BYTES:
                self.close_connection = True
                self._send(text_response(413, "Request body too large"))
                return None
            chunk = self.rfile.read(size)
            if len(chunk) < size:
                self.close_connection = True
                return None
            chunks.append(chunk)
            self.rfile.readline(1024)

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        for key, value in response.headers:
            self.send_header(key, value)
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and response.body:
            self.wfile.write(response.body)

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


class Sandbox:
    """A Xero sandbox server on a background thread; also a context manager."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config if config is not None else SandboxConfig()
        self.app = SandboxApp(self.config)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False

    def start(self) -> Sandbox:
        """Bind, listen and serve on a background thread; returns once listening."""
        if self._server is not None or self._stopped:
            raise SandboxStateError("a Sandbox can be started only once")
        server = _Server((self.config.host, self.config.port), self.app)
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="xero-sandbox",
            daemon=True,
        )
        thread.start()
        self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        """Stop serving: wake held requests, close connections, join the thread."""
        server, thread = self._server, self._thread
        if server is None or self._stopped:
            return
        self._stopped = True
        self.app.stop_event.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Sandbox:
        if self._server is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL, e.g. `http://127.0.0.1:54321` (no trailing slash)."""
        if self._server is None:
            raise SandboxStateError("the sandbox is not started")
        host, port = self._server.server_address[:2]
        text = host.decode() if isinstance(host, bytes) else str(host)
        if ":" in text:
            text = f"[{text}]"
        return f"http://{text}:{port}"

    @property
    def tenant_ids(self) -> list[str]:
        """Tenant ids of every organisation, in creation order."""
        return self.app.tenants.ids()

    def add_tenant(self, name: str | None = None) -> str:
        """Create an organisation with the default chart; returns its tenant id."""
        return self.app.add_tenant(name)

    def state(self, tenant_id: str) -> dict[str, Any]:
        """The same JSON as `GET /sandbox/state?tenant=...`."""
        return self.app.state(tenant_id)

    def settings(self, tenant_id: str) -> dict[str, Any]:
        """The same JSON as `GET /sandbox/settings?tenant=...`."""
        return self.app.settings(tenant_id)

    def set_settings(self, tenant_id: str, **values: Any) -> dict[str, Any]:
        """Change a tenant's base_currency, currencies or period_lock_date (a date, ISO text or
        None); returns the same JSON as `POST /sandbox/settings`."""
        return self.app.set_settings(tenant_id, values)

    def requests(self, tenant_id: str | None = None) -> list[dict[str, Any]]:
        """The request log (all, or one tenant's), oldest first."""
        return self.app.requests(tenant_id)

    def set_faults(self, **settings: Any) -> dict[str, Any]:
        """Change fault settings (fault_rates, latency_ms, fault_timeout_s, fault_methods, seed)."""
        return self.app.set_faults(**settings)

    def set_limits(self, **limits: Any) -> dict[str, Any]:
        """Change limits: minute_limit, ..., minute_window_s, day_window_s, idempotency_window_s."""
        return self.app.set_limits(**limits)

    def reset(self) -> None:
        """Clear documents, logs, idempotency keys and rate counters; keep tenants, charts and
        settings."""
        self.app.reset()
