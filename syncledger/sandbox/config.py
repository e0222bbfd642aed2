"""The sandbox's configuration: one frozen `SandboxConfig` with Xero's real defaults.

Defaults mirror Xero (60 calls a minute, 5 concurrent, 5,000 a day, 10,000 a minute per app,
6-minute idempotency window, 30-minute access tokens and refresh grace) and an Australian demo
company (base currency AUD, no other currency enabled). Windows and rates are configurable so
tests can scale time down. Construction validates every value and raises `SandboxConfigError` (a
`ValueError`) naming the bad field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from syncledger.sandbox import iso4217
from syncledger.sandbox.errors import SandboxConfigError

FAULT_KINDS: tuple[str, ...] = ("500", "502", "503", "429", "timeout", "drop_after_commit")
"""Fault names, in the order a random draw is mapped onto them."""

HTTP_METHODS: frozenset[str] = frozenset({"GET", "PUT", "POST", "DELETE", "PATCH", "HEAD"})


def check_fault_rates(rates: Mapping[str, float]) -> dict[str, float]:
    """Return `rates` as a plain dict after checking names, ranges and that they sum to <= 1."""
    checked: dict[str, float] = {}
    for name, rate in rates.items():
        if name not in FAULT_KINDS:
            raise SandboxConfigError(
                f"unknown fault {name!r}; expected one of {', '.join(FAULT_KINDS)}"
            )
        value = float(rate)
        if not math.isfinite(value) or not 0.0 <= value <= 1.0:
            raise SandboxConfigError(f"fault rate for {name} must be between 0 and 1, got {rate}")
        checked[name] = value
    if sum(checked.values()) > 1.0 + 1e-9:
        raise SandboxConfigError("fault rates must add up to at most 1")
    return checked


def check_fault_methods(methods: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Return upper-cased HTTP methods, refusing unknown ones."""
    result = tuple(str(m).upper() for m in methods)
    for method in result:
        if method not in HTTP_METHODS:
            raise SandboxConfigError(f"unknown HTTP method {method!r} in fault_methods")
    return result


def check_positive(name: str, value: float, *, allow_zero: bool = False) -> None:
    """Raise unless `value` is a finite number above zero (or zero when allowed)."""
    if isinstance(value, bool) or not math.isfinite(float(value)):
        raise SandboxConfigError(f"{name} must be a finite number, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise SandboxConfigError(f"{name} must be {bound}, got {value!r}")


@dataclass(frozen=True)
class SandboxConfig:
    """Everything a sandbox needs to start; see the module docstring for the defaults."""

    host: str = "127.0.0.1"
    port: int = 0
    tenants: int = 1
    client_id: str | None = None
    client_secret: str | None = None
    idempotency_window_s: float = 360.0
    minute_limit: int = 60
    concurrent_limit: int = 5
    day_limit: int = 5000
    app_minute_limit: int = 10000
    minute_window_s: float = 60.0
    day_window_s: float = 86400.0
    latency_ms: float = 0.0
    fault_rates: Mapping[str, float] = field(default_factory=dict)
    fault_timeout_s: float = 35.0
    fault_methods: tuple[str, ...] = ("PUT", "POST")
    seed: int | None = None
    access_token_ttl_s: float = 1800.0
    refresh_grace_s: float = 1800.0
    base_currency: str = "AUD"
    currencies: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise SandboxConfigError(f"port must be between 0 and 65535, got {self.port}")
        if self.tenants < 1:
            raise SandboxConfigError(f"tenants must be at least 1, got {self.tenants}")
        if (self.client_id is None) != (self.client_secret is None):
            raise SandboxConfigError("give both client_id and client_secret, or neither")
        if self.client_id == "" or self.client_secret == "":
            raise SandboxConfigError("client_id and client_secret must not be empty")
        for name in ("minute_limit", "concurrent_limit", "day_limit", "app_minute_limit"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SandboxConfigError(f"{name} must be a whole number >= 1, got {value!r}")
        for name in (
            "idempotency_window_s",
            "minute_window_s",
            "day_window_s",
            "fault_timeout_s",
            "access_token_ttl_s",
        ):
            check_positive(name, getattr(self, name))
        check_positive("latency_ms", self.latency_ms, allow_zero=True)
        check_positive("refresh_grace_s", self.refresh_grace_s, allow_zero=True)
        object.__setattr__(self, "fault_rates", check_fault_rates(self.fault_rates))
        object.__setattr__(self, "fault_methods", check_fault_methods(self.fault_methods))
        object.__setattr__(
            self, "base_currency", iso4217.check("base_currency", self.base_currency)
        )
        if isinstance(self.currencies, str):
            raise SandboxConfigError("currencies must be a sequence of currency codes")
        codes = tuple(dict.fromkeys(iso4217.check("currencies", c) for c in self.currencies))
        object.__setattr__(self, "currencies", codes)

    @property
    def open_mode(self) -> bool:
        """True when no client credentials are configured: the API accepts any caller."""
        return self.client_id is None
