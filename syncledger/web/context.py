"""What every handler of the web app shares: the ledger's and the web's settings, the relay
running beside the app, the clock, and the one worker thread every database call runs on
(opened and closed with the app's lifespan)."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from starlette.applications import Starlette

from outbox.relay import Relay
from projections.storage.errors import StorageError
from syncledger.config import Settings
from syncledger.web.backend import Backend, Worker
from syncledger.web.settings import WebSettings

T = TypeVar("T")


class RelayState(Protocol):
    """What the app may ask of the relay running beside it."""

    @property
    def enabled(self) -> bool: ...

    @property
    def relay(self) -> Relay | None: ...

    def alive(self) -> bool: ...


class NoRelay:
    """No relay in this process (``serve --no-relay``, or tests of the HTTP side alone)."""

    enabled = False
    relay = None

    def alive(self) -> bool:
        return False


@dataclass
class Context:
    """The app's state, shared by its handlers."""

    settings: Settings
    web: WebSettings = field(default_factory=WebSettings)
    relay: RelayState = field(default_factory=NoRelay)
    stopping: threading.Event = field(default_factory=threading.Event)
    clock: Callable[[], float] = time.time
    worker: Worker | None = None
    backend: Backend | None = None

    async def db(self, func: Callable[[Backend], T]) -> T:
        """Run ``func`` with the ``Backend`` on the worker thread (every database call)."""
        worker, backend = self.worker, self.backend
        if worker is None or backend is None:
            raise StorageError("the web service is not started")
        return await worker.call(func, backend)

    def now(self) -> int:
        """The clock, in whole seconds (as sessions are stored)."""
        return int(self.clock())

    @asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        """Open the worker thread and the ``Backend`` while the app serves; stop the live
        updates and close both when it stops."""
        worker = Worker()
        try:
            self.backend = await worker.call(Backend.open, self.settings)
        except BaseException:
            worker.close()
            raise
        self.worker = worker
        try:
            yield
        finally:
            self.stopping.set()
            backend, self.backend, self.worker = self.backend, None, None
            if backend is not None:
                await worker.call(backend.close)
            worker.close()
