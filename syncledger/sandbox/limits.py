"""Xero's rate limits (notes §3): per tenant 60 a minute, 5 concurrent, 5,000 a day, and
10,000 a minute across the app, all configurable, with sliding windows.

`acquire` admits a call or says which limit it broke (`day`, `minute`, `appminute`,
`concurrent`) and how many whole seconds until it would be allowed; admitted calls count against
every window and hold a concurrency slot until `release`. Refused calls do not count. Every
answer can report the `X-*-Remaining` values Xero sends on each response.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass, field, replace

from syncledger.sandbox.errors import SandboxConfigError


@dataclass(frozen=True)
class LimitSettings:
    """The limits in force; windows are in seconds so tests can scale time down."""

    minute_limit: int = 60
    concurrent_limit: int = 5
    day_limit: int = 5000
    app_minute_limit: int = 10000
    minute_window_s: float = 60.0
    day_window_s: float = 86400.0


@dataclass(frozen=True)
class Remaining:
    """Calls left in each window, as Xero's response headers report them."""

    minute: int
    day: int
    app_minute: int

    def headers(self) -> list[tuple[str, str]]:
        """The `X-*Limit-Remaining` headers."""
        return [
            ("X-MinLimit-Remaining", str(self.minute)),
            ("X-DayLimit-Remaining", str(self.day)),
            ("X-AppMinLimit-Remaining", str(self.app_minute)),
        ]


@dataclass(frozen=True)
class Admission:
    """The limiter's answer: admitted, or the problem and when to retry."""

    admitted: bool
    problem: str | None = None
    retry_after: int = 0


@dataclass
class _Usage:
    minute: deque[float] = field(default_factory=deque)
    day: deque[float] = field(default_factory=deque)
    in_flight: int = 0


def _prune(stamps: deque[float], now: float, window: float) -> None:
    while stamps and stamps[0] <= now - window:
        stamps.popleft()


def _wait(stamps: deque[float], now: float, window: float, limit: int) -> int:
    """Whole seconds until the oldest call that keeps the window full falls out of it."""
    index = len(stamps) - limit
    oldest = stamps[max(index, 0)]
    return max(1, math.ceil(oldest + window - now))


class RateLimiter:
    """Counts calls per tenant and per app; thread-safe."""

    def __init__(self, settings: LimitSettings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._usage: dict[str, _Usage] = {}
        self._app: deque[float] = deque()

    @property
    def settings(self) -> LimitSettings:
        """The limits in force."""
        return self._settings

    def update(self, **changes: float) -> LimitSettings:
        """Change some limits; counters are kept."""
        with self._lock:
            try:
                updated = replace(self._settings, **changes)  # type: ignore[arg-type]
            except TypeError as exc:
                raise SandboxConfigError(str(exc)) from exc
            for name in ("minute_limit", "concurrent_limit", "day_limit", "app_minute_limit"):
                value = getattr(updated, name)
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise SandboxConfigError(f"{name} must be a whole number >= 1, got {value!r}")
            for name in ("minute_window_s", "day_window_s"):
                value = getattr(updated, name)
                if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                    raise SandboxConfigError(f"{name} must be > 0, got {value!r}")
            self._settings = updated
            return updated

    def reset(self) -> None:
        """Forget all counted calls (in-flight slots are kept)."""
        with self._lock:
            for usage in self._usage.values():
                usage.minute.clear()
                usage.day.clear()
            self._app.clear()

    def acquire(self, tenant_id: str, now: float) -> Admission:
        """Admit one call for `tenant_id`, or refuse it with the broken limit."""
        s = self._settings
        with self._lock:
            usage = self._usage.setdefault(tenant_id, _Usage())
            _prune(usage.minute, now, s.minute_window_s)
            _prune(usage.day, now, s.day_window_s)
            _prune(self._app, now, s.minute_window_s)
            if len(usage.day) >= s.day_limit:
                wait = _wait(usage.day, now, s.day_window_s, s.day_limit)
                return Admission(False, "day", wait)
            if len(usage.minute) >= s.minute_limit:
                wait = _wait(usage.minute, now, s.minute_window_s, s.minute_limit)
                return Admission(False, "minute", wait)
            if len(self._app) >= s.app_minute_limit:
                wait = _wait(self._app, now, s.minute_window_s, s.app_minute_limit)
                return Admission(False, "appminute", wait)
            if usage.in_flight >= s.concurrent_limit:
                return Admission(False, "concurrent", 1)
            usage.minute.append(now)
            usage.day.append(now)
            self._app.append(now)
            usage.in_flight += 1
            return Admission(True)

    def release(self, tenant_id: str) -> None:
        """Give back the concurrency slot of an admitted call."""
        with self._lock:
            usage = self._usage.get(tenant_id)
            if usage is not None and usage.in_flight > 0:
                usage.in_flight -= 1

    def remaining(self, tenant_id: str | None, now: float) -> Remaining:
        """Calls left for the tenant (full limits when unknown) and for the app."""
        s = self._settings
        with self._lock:
            _prune(self._app, now, s.minute_window_s)
            app_left = max(0, s.app_minute_limit - len(self._app))
            usage = self._usage.get(tenant_id) if tenant_id else None
            if usage is None:
                return Remaining(s.minute_limit, s.day_limit, app_left)
            _prune(usage.minute, now, s.minute_window_s)
            _prune(usage.day, now, s.day_window_s)
            return Remaining(
                max(0, s.minute_limit - len(usage.minute)),
                max(0, s.day_limit - len(usage.day)),
                app_left,
            )
