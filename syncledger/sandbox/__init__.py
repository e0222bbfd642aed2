"""A Xero sandbox: a real HTTP server on 127.0.0.1 that behaves like Xero's Accounting API.

It serves Xero's paths (`/api.xro/2.0/...`, `/identity/connect/authorize`, `/connect/token`,
`/connect/revocation`, `/connections`) with Xero's JSON shapes, validation messages, batching,
idempotency, rate limits, OAuth token rotation and error bodies, plus sandbox-only control
endpoints under `/sandbox/` and seeded fault injection. Used by `syncledger demo`, end-to-end
tests and benchmarks. Standard library only (click for the CLI module).

```python
with Sandbox(SandboxConfig(tenants=2)) as sandbox:
    httpx.get(f"{sandbox.url}/api.xro/2.0/Invoices",
              headers={"xero-tenant-id": sandbox.tenant_ids[0], "Accept": "application/json"})
```
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from syncledger.sandbox.config import FAULT_KINDS, SandboxConfig
from syncledger.sandbox.errors import (
    SandboxConfigError,
    SandboxError,
    SandboxStateError,
    UnknownTenantError,
)

if TYPE_CHECKING:
    from syncledger.sandbox.runner import run_forever
    from syncledger.sandbox.server import Sandbox


def __getattr__(name: str) -> Any:
    """The server and its runner load on first use, so the CLI starts quickly."""
    if name == "Sandbox":
        from syncledger.sandbox.server import Sandbox

        return Sandbox
    if name == "run_forever":
        from syncledger.sandbox.runner import run_forever

        return run_forever
    raise AttributeError(name)


__all__ = [
    "FAULT_KINDS",
    "Sandbox",
    "SandboxConfig",
    "SandboxConfigError",
    "SandboxError",
    "SandboxStateError",
    "UnknownTenantError",
    "run_forever",
]
