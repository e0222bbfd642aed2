"""Faults on demand: added latency and seeded, reproducible failures of API calls.

Each API request whose method is in `methods` draws one number from a single
`random.Random(seed)`, in arrival order, and the draw is mapped onto the configured rates in
the fixed order of `FAULT_KINDS` ("500", "502", "503", "429", "timeout", "drop_after_commit").
The same seed and the same sequence of eligible requests therefore give the same faults.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from syncledger.sandbox.config import (
    FAULT_KINDS,
    check_fault_methods,
    check_fault_rates,
    check_positive,
)
from syncledger.sandbox.errors import SandboxConfigError


@dataclass(frozen=True)
class FaultSettings:
    """The fault configuration in force."""

    rates: Mapping[str, float] = field(default_factory=dict)
    latency_ms: float = 0.0
    timeout_s: float = 35.0
    methods: tuple[str, ...] = ("PUT", "POST")
    seed: int | None = None

    def as_json(self) -> dict[str, Any]:
        """The settings in the control endpoint's JSON form."""
        return {
            "fault_rates": dict(self.rates),
            "latency_ms": self.latency_ms,
            "fault_timeout_s": self.timeout_s,
            "fault_methods": list(self.methods),
            "seed": self.seed,
        }


class FaultInjector:
    """Decides, per request, whether and how it fails."""

    def __init__(self, settings: FaultSettings) -> None:
        self._lock = threading.Lock()
        self._settings = settings
        self._random = random.Random(settings.seed)

    @property
    def settings(self) -> FaultSettings:
        """The fault configuration in force."""
        return self._settings

    def configure(
        self,
        *,
        fault_rates: Mapping[str, float] | None = None,
        latency_ms: float | None = None,
        fault_timeout_s: float | None = None,
        fault_methods: tuple[str, ...] | list[str] | None = None,
        seed: int | None = None,
    ) -> FaultSettings:
        """Change some settings (None leaves one as it is); a seed restarts the sequence."""
        changes: dict[str, Any] = {}
        if fault_rates is not None:
            if not isinstance(fault_rates, Mapping):
                raise SandboxConfigError("fault_rates must be an object of CODE: RATE")
            changes["rates"] = MappingProxyType(check_fault_rates(fault_rates))
        if latency_ms is not None:
            check_positive("latency_ms", latency_ms, allow_zero=True)
            changes["latency_ms"] = float(latency_ms)
        if fault_timeout_s is not None:
            check_positive("fault_timeout_s", fault_timeout_s)
            changes["timeout_s"] = float(fault_timeout_s)
        if fault_methods is not None:
            changes["methods"] = check_fault_methods(fault_methods)
        if seed is not None:
            if isinstance(seed, bool) or not isinstance(seed, int):
                raise SandboxConfigError(f"seed must be a whole number, got {seed!r}")
            changes["seed"] = seed
        with self._lock:
            self._settings = replace(self._settings, **changes)
            if seed is not None:
                self._random = random.Random(seed)
            return self._settings

    def draw(self, method: str) -> str | None:
        """The fault for the next request with this method, or None."""
        with self._lock:
            settings = self._settings
            if method.upper() not in settings.methods:
                return None
            value = self._random.random()
        cumulative = 0.0
        for kind in FAULT_KINDS:
            cumulative += settings.rates.get(kind, 0.0)
            if value < cumulative:
                return kind
        return None
