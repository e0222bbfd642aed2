"""The root of every error the web package raises, with the hierarchy drawn here; the CLI turns
them into exit code 1, the app into HTTP answers::

    WebError
    ├── AccountError          a user account cannot be created, changed or found
    ├── WebhookSecretError    an organisation's webhook secret cannot be created or read
    └── BodyError             a change endpoint body is no change at all (web/changes.py; 400)
"""

from __future__ import annotations

from syncledger.errors import SyncledgerError


class WebError(SyncledgerError):
    """Base of the errors raised by the web package."""


class AccountError(WebError):
    """A user account cannot be created, changed or found."""


class WebhookSecretError(WebError):
    """An organisation's webhook secret cannot be created or read."""
