"""The root of the errors the syncledger package (the shell around the ledger) raises itself;
the CLI turns each into exit code 1 with its message::

    SyncledgerError
    ├── SettingsError         a SYNCLEDGER_* variable or option has a bad value (config.py)
    ├── ConnectError          connecting to Xero failed (connect.py)
    ├── LockHeldError         another relay holds the ledger's relay lock (locks.py)
    └── WebError              the web package's own root (web/errors.py)

Errors of the layers below keep their own roots (``DomainError``, ``StorageError``,
``OutboxError``); the sandbox, a stand-in for Xero, has ``SandboxError`` and imports nothing of
the product.
"""

from __future__ import annotations


class SyncledgerError(Exception):
    """Base of the errors raised by the syncledger package itself."""
