"""Pacing calls to stay inside Xero's limits: at most N calls in any rolling window, per
organisation and for the whole app, adjusted by what Xero reports in its ``X-*-Remaining``
headers, and paused outright when Xero answers 429 with ``Retry-After``.

The clock and the sleep are injected, so the arithmetic is tested without waiting.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from outbox.errors import OutboxError
from outbox.xero import Limits


class PacingStoppedError(OutboxError):
    """The relay is stopping: the call was not made."""


@dataclass(frozen=True)
class Budget:
    """How many calls a limiter allows per window, and the window's length in seconds."""

    calls: int
    window: float


class SlidingWindow:
    """At most ``budget.calls`` calls in any rolling ``budget.window`` seconds; ``smooth``
    also spaces calls evenly (window / calls apart), so the budget is spent as a steady stream
    rather than in a burst at the start of each window followed by silence."""

    def __init__(
        self, budget: Budget, clock: Callable[[], float] = time.monotonic, smooth: bool = False
    ) -> None:
        self.budget = budget
        self.clock = clock
        self.smooth = smooth
        self.sent: deque[float] = deque()
        self.paused_until = 0.0
        self.lock = threading.Lock()

    def _spacing_wait(self, now: float) -> float:
        if not self.smooth or not self.sent:
            return 0.0
        return max(0.0, self.sent[-1] + self.budget.window / self.budget.calls - now)

    def _trim(self, now: float) -> None:
        horizon = now - self.budget.window
        while self.sent and self.sent[0] <= horizon:
            self.sent.popleft()

    def wait_time(self) -> float:
        """Seconds until one more call is allowed (0 when it is allowed now)."""
        with self.lock:
            now = self.clock()
            self._trim(now)
            wait = max(0.0, self.paused_until - now, self._spacing_wait(now))
            if len(self.sent) >= self.budget.calls:
                wait = max(wait, self.sent[0] + self.budget.window - now)
            return wait

    def try_take(self) -> float:
        """Take a slot now if one is free (return 0), else return how long to wait."""
        with self.lock:
            now = self.clock()
            self._trim(now)
            if now < self.paused_until:
                return self.paused_until - now
            if len(self.sent) >= self.budget.calls:
                return self.sent[0] + self.budget.window - now
            spacing = self._spacing_wait(now)
            if spacing > 0:
                return spacing
            self.sent.append(now)
            return 0.0

    def resize(self, calls: int) -> None:
        """Allow ``calls`` per window from now on (a relay's share of the app's budget)."""
        with self.lock:
            self.budget = Budget(max(1, calls), self.budget.window)

    def pause(self, seconds: float) -> None:
        """Send nothing for ``seconds`` (Xero's ``Retry-After``)."""
        with self.lock:
            self.paused_until = max(self.paused_until, self.clock() + seconds)

    def observe_remaining(self, remaining: int, margin: int) -> None:
        """Xero says ``remaining`` calls are left in its window: if that is fewer than we
        think (another process shares the connection), count the difference as spent."""
        with self.lock:
            now = self.clock()
            self._trim(now)
            ours_left = self.budget.calls - len(self.sent)
            theirs_left = max(0, remaining - margin)
            for _ in range(max(0, ours_left - theirs_left)):
                self.sent.append(now)

    def used(self) -> int:
        """Calls made in the current window."""
        with self.lock:
            self._trim(self.clock())
            return len(self.sent)


class Pacer:
    """Paces one organisation's calls against its own window and the app's window."""

    def __init__(
        self,
        org: SlidingWindow,
        app: SlidingWindow,
        stop: threading.Event,
        sleep: Callable[[float], bool] | None = None,
        margin: int = 2,
    ) -> None:
        self.org = org
        self.app = app
        self.stop = stop
        self.sleep = sleep or stop.wait
        self.margin = margin

    def __call__(self) -> None:
        """Block until a call may be made (raises ``PacingStoppedError`` if the relay stops)."""
        while True:
            if self.stop.is_set():
                raise PacingStoppedError("the relay is stopping")
            wait = self.app.wait_time()
            if wait <= 0:
                wait = self.org.try_take()
                if wait <= 0:
                    if self.app.try_take() <= 0:
                        return
                    # the app window filled in between: give the organisation's slot back
                    with self.org.lock:
                        if self.org.sent:
                            self.org.sent.pop()
                    continue
            self.sleep(min(wait, 1.0))

    def observe(self, limits: Limits) -> None:
        """Adjust to what Xero reports as remaining."""
        if limits.minute is not None:
            self.org.observe_remaining(limits.minute, self.margin)
        if limits.app_minute is not None:
            self.app.observe_remaining(limits.app_minute, self.margin)


class Budgets:
    """One relay's call windows: one per organisation (made on first use; its calls may burst)
    and the app's, shared by all; and the limits Xero last reported per organisation, kept until
    taken for the operational table."""

    def __init__(self, org_calls: int, app_calls: int, window: float) -> None:
        self.org_budget = Budget(org_calls, window)
        # the app's budget is spent as a steady stream (a call every 6 ms at 9,500 a minute):
        # a burst would leave most of each minute idle; an organisation's 55 calls may burst
        self.app = SlidingWindow(Budget(app_calls, window), smooth=True)
        self._windows: dict[str, SlidingWindow] = {}
        self._seen: dict[str, tuple[Limits, float]] = {}
        self._lock = threading.Lock()

    def window(self, org: str) -> SlidingWindow:
        """The organisation's call window (created on first use)."""
        with self._lock:
            found = self._windows.get(org)
            if found is None:
                found = self._windows[org] = SlidingWindow(self.org_budget)
            return found

    def pacer(self, org: str, stop: threading.Event) -> Pacer:
        """A pacer for one delivery's calls for ``org``."""
        return Pacer(self.window(org), self.app, stop)

    def seen(self, org: str, limits: Limits, at: float) -> None:
        """Xero reported ``limits`` for ``org`` at ``at``."""
        with self._lock:
            self._seen[org] = (limits, at)

    def take_seen(self) -> dict[str, tuple[Limits, float]]:
        """The limits reported since the last call, per organisation."""
        with self._lock:
            taken, self._seen = self._seen, {}
        return taken
