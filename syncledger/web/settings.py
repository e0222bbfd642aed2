"""How the web side behaves: a frozen settings object built by ``serve`` from its options (the
ledger's own settings stay in ``syncledger.config.Settings``)."""

from __future__ import annotations

from dataclasses import dataclass

from syncledger.web.changes import DEFAULT_MAX_BODY_BYTES


@dataclass(frozen=True)
class WebSettings:
    """Sessions, request limits and live-update pacing."""

    session_seconds: int = 8 * 3600
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    secure_cookies: bool = False
    live_interval: float = 0.5
    heartbeat_seconds: float = 15.0
    login_attempts: int = 10
    login_window_seconds: float = 600.0
