"""Errors raised inside the Xero sandbox, and the one place their hierarchy is drawn.

```
SandboxError                  base of everything the sandbox raises on purpose
├── SandboxConfigError        a config or control request holds a bad value; also a ValueError
├── SandboxStateError         the Sandbox object is used out of order (.url before .start())
├── UnknownTenantError        no organisation has the tenant id asked for; also a KeyError
├── ApiError                  a complete HTTP answer that ends a request early (404, 400 ...)
├── ElementError              one element of a batch failed Xero's validation (its messages)
├── WhereError                a `where` or `order` query parameter could not be parsed or typed
└── GrantError                an OAuth error code the token endpoint answers with
```

`ApiError` carries the finished response so handlers can stop anywhere; `ElementError` is caught
per element by the batch runner and turned into `ValidationErrors`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from syncledger.sandbox.exchange import Response


class SandboxError(Exception):
    """Base class of the sandbox's own errors."""


class SandboxConfigError(SandboxError, ValueError):
    """A configuration value is out of range or inconsistent."""


class SandboxStateError(SandboxError):
    """The sandbox object was used in the wrong order."""


class UnknownTenantError(SandboxError, KeyError):
    """No organisation has this tenant id."""

    def __str__(self) -> str:
        return f"unknown tenant {self.args[0]!r}" if self.args else "unknown tenant"


class ApiError(SandboxError):
    """Stops handling a request and answers with `response`."""

    def __init__(self, response: Response) -> None:
        super().__init__(f"HTTP {response.status}")
        self.response = response


class ElementError(SandboxError):
    """An element failed validation; `messages` become its `ValidationErrors`."""

    def __init__(self, messages: Sequence[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = list(messages)


class WhereError(SandboxError):
    """A query filter or ordering could not be understood."""


class GrantError(SandboxError):
    """An OAuth error code (`invalid_grant`, `invalid_client`, ...) for the token endpoint."""

    def __init__(self, code: str, description: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.description = description
