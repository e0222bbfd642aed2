"""Shared fixtures: a fresh ledger system per test on a SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from syncledger.bootstrap import System
from syncledger.config import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for a ledger in this test's own folder, with fast retries."""
    return Settings(
        db=str(tmp_path / "ledger.db"),
        retry_base_seconds=0.05,
        retry_max_seconds=0.2,
        relay_poll_seconds=0.05,
        xero_timeout=5.0,
    )


@pytest.fixture
def system(settings: Settings) -> Iterator[System]:
    """The whole system (ledger, projections, outbox) on a fresh SQLite file."""
    with System.open(settings) as opened:
        yield opened
