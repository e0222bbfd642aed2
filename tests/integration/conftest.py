"""Fixtures for integration tests: a real sandbox server and a ledger connected to it through
OAuth, with every Xero exchange checked against the official spec (see ``xero_fixtures``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from outbox.xero import XeroConnections
from syncledger.bootstrap import System
from syncledger.sandbox import Sandbox, SandboxConfig
from tests.integration.xero_fixtures import (
    CLIENT_ID,
    CLIENT_SECRET,
    SpecCheck,
    World,
    configure,
    make_settings,
    oauth_connect,
)


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    """The sandbox's configuration (tests override it by parametrising this fixture)."""
    return SandboxConfig(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)


@pytest.fixture
def world(db_location: str, sandbox_config: SandboxConfig) -> Iterator[World]:
    spec = SpecCheck()
    with Sandbox(sandbox_config) as sandbox:
        xero = XeroConnections(timeout=2.0, event_hooks={"response": [spec.hook]})
        with System.open(make_settings(db_location), xero=xero) as system:
            tenant = oauth_connect(system, sandbox)
            configure(system)
            yield World(sandbox, system, spec, tenant)
