"""Settings: one frozen object built from ``SYNCLEDGER_*`` variables and CLI options.

Nothing else reads the environment; the settings are passed down explicitly, and the process
environment is never changed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from syncledger.errors import SyncledgerError

DEFAULT_DB = "./syncledger.db"
MAX_XERO_BATCH = 50


class SettingsError(SyncledgerError, ValueError):
    """A ``SYNCLEDGER_*`` variable or option has a value that cannot be used."""


@dataclass(frozen=True)
class Settings:
    """Everything configurable about a syncledger process."""

    db: str = DEFAULT_DB
    xero_timeout: float = 30.0
    retry_max_attempts: int = 8
    retry_base_seconds: float = 2.0
    retry_max_seconds: float = 300.0
    relay_poll_seconds: float = 0.25
    relay_lease_seconds: float = 300.0
    idle_max_wait_seconds: float = 900.0
    batch_size: int = 500
    relay_workers: int = 16
    org_concurrency: int = 5
    org_minute_budget: int = 55
    app_minute_budget: int = 9500
    limit_window_seconds: float = 60.0
    relay_org_lease_seconds: float = 15.0
    sqlite_busy_timeout: int = 30
    xero_batch_size: int = 50
    test_pause_after_answer_ms: float = 0.0
    log_level: str = "WARNING"
    log_format: str = "text"
    secret_key: str | None = field(default=None, repr=False)
    xero_client_id: str | None = None
    xero_client_secret: str | None = field(default=None, repr=False)

    @property
    def is_postgres(self) -> bool:
        """True when the database is a PostgreSQL URL."""
        return self.db.startswith(("postgresql://", "postgres://"))

    def with_options(self, **options: Any) -> Settings:
        """These settings with CLI options applied (None means "not given")."""
        given = {k: v for k, v in options.items() if v is not None}
        return replace(self, **given) if given else self


_VARIABLES: dict[str, tuple[str, type]] = {
    "SYNCLEDGER_DB": ("db", str),
    "SYNCLEDGER_XERO_TIMEOUT": ("xero_timeout", float),
    "SYNCLEDGER_RETRY_MAX_ATTEMPTS": ("retry_max_attempts", int),
    "SYNCLEDGER_RETRY_BASE_SECONDS": ("retry_base_seconds", float),
    "SYNCLEDGER_RETRY_MAX_SECONDS": ("retry_max_seconds", float),
    "SYNCLEDGER_RELAY_POLL_SECONDS": ("relay_poll_seconds", float),
    "SYNCLEDGER_RELAY_LEASE_SECONDS": ("relay_lease_seconds", float),
    "SYNCLEDGER_IDLE_MAX_WAIT_SECONDS": ("idle_max_wait_seconds", float),
    "SYNCLEDGER_BATCH_SIZE": ("batch_size", int),
    "SYNCLEDGER_RELAY_WORKERS": ("relay_workers", int),
    "SYNCLEDGER_ORG_CONCURRENCY": ("org_concurrency", int),
    "SYNCLEDGER_ORG_MINUTE_BUDGET": ("org_minute_budget", int),
    "SYNCLEDGER_APP_MINUTE_BUDGET": ("app_minute_budget", int),
    "SYNCLEDGER_LIMIT_WINDOW_SECONDS": ("limit_window_seconds", float),
    "SYNCLEDGER_RELAY_ORG_LEASE_SECONDS": ("relay_org_lease_seconds", float),
    "SYNCLEDGER_SQLITE_BUSY_TIMEOUT": ("sqlite_busy_timeout", int),
    "SYNCLEDGER_XERO_BATCH_SIZE": ("xero_batch_size", int),
    "SYNCLEDGER_TEST_PAUSE_AFTER_ANSWER_MS": ("test_pause_after_answer_ms", float),
    "SYNCLEDGER_LOG_LEVEL": ("log_level", str),
    "SYNCLEDGER_LOG_FORMAT": ("log_format", str),
    "SYNCLEDGER_SECRET_KEY": ("secret_key", str),
    "SYNCLEDGER_XERO_CLIENT_ID": ("xero_client_id", str),
    "SYNCLEDGER_XERO_CLIENT_SECRET": ("xero_client_secret", str),
}


def load(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from ``SYNCLEDGER_*`` variables (``os.environ`` unless given)."""
    source = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for variable, (name, kind) in _VARIABLES.items():
        raw = source.get(variable)
        if raw is None or raw == "":
            continue
        try:
            value = kind(raw)
        except ValueError:
            raise SettingsError(f"{variable}={raw!r} is not a valid {kind.__name__}") from None
        if kind in (int, float) and value < 0:
            raise SettingsError(f"{variable}={raw!r} must not be negative")
        values[name] = value
    settings = Settings(**values)
    if not 1 <= settings.xero_batch_size <= MAX_XERO_BATCH:
        raise SettingsError(
            f"SYNCLEDGER_XERO_BATCH_SIZE must be between 1 and {MAX_XERO_BATCH} (Xero takes at "
            f"most {MAX_XERO_BATCH} elements in one call), not {settings.xero_batch_size}"
        )
    if settings.log_format not in ("text", "json"):
        raise SettingsError(
            f"SYNCLEDGER_LOG_FORMAT must be text or json, not {settings.log_format!r}"
        )
    return settings


def variables() -> list[str]:
    """The names of every ``SYNCLEDGER_*`` variable read."""
    return list(_VARIABLES)
