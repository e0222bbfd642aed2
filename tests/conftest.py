"""Shared fixtures: a fresh ledger system per test on a SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from syncledger.bootstrap import System
from syncledger.config import Settings
from tests.support.databases import BACKENDS, database


@pytest.fixture(
    params=[
        pytest.param(b, marks=getattr(pytest.mark, b)) if b == "postgres" else b for b in BACKENDS
    ]
)
def backend(request: pytest.FixtureRequest) -> str:
    """The storage backend a test runs on (every storage test runs on both)."""
    return str(request.param)


@pytest.fixture
def db_location(backend: str, tmp_path: Path) -> Iterator[str]:
    """This test's own database: a SQLite file, or a PostgreSQL schema dropped afterwards."""
    with database(backend, tmp_path) as location:
        yield location


@pytest.fixture
def settings(db_location: str) -> Settings:
    """Settings for a ledger of this test's own, with fast retries."""
    return Settings(
        db=db_location,
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
