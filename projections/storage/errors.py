"""Errors of the projection and storage layer; database driver errors become these at the boundary.

ProjectionError
└── StorageError            the database refused or failed an operation
    ├── StorageBusyError    another process holds the lock for longer than we wait
    ├── StorageReadOnlyError the database file (or server) does not accept writes
    └── StorageUnavailableError the database cannot be reached
"""

from __future__ import annotations


class ProjectionError(Exception):
    """Base of the errors raised by projections and their stores."""


class StorageError(ProjectionError):
    """The database refused or failed an operation."""


class StorageBusyError(StorageError):
    """The database stayed locked by another writer for longer than the configured wait."""


class StorageReadOnlyError(StorageError):
    """The database does not accept writes (read-only file, disk full, read-only server)."""


class StorageUnavailableError(StorageError):
    """The database cannot be reached or opened."""
