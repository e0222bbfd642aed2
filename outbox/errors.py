"""The root of every error the outbox package raises, with the hierarchy drawn here.

Code that wants to catch "anything the outbox refused or could not do" catches
``OutboxError``; the subclasses live beside the code that raises them::

    OutboxError
     ├── SecretError                    outbox/secrets.py
     │    ├── SecretKeyMissingError
     │    └── SecretUnreadableError
     ├── PacingStoppedError             outbox/limits.py
     ├── ReconcileError                 outbox/reconcile/reader.py
     └── XeroError                      outbox/xero/errors.py
          ├── XeroTransientError
          │    └── XeroRateLimitError
          ├── XeroRejectedError
          │    └── XeroDuplicateNumberError
          ├── XeroNotFoundError
          └── XeroAuthError
"""

from __future__ import annotations


class OutboxError(Exception):
    """Base class of every error raised by the outbox package."""
