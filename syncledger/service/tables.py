"""The database's tables as ``db init`` and ``db check`` see them: which a complete database has
(the composition root lists them from the stores' own declarations), which one holds, and which
it lacks.
"""

from __future__ import annotations

from syncledger.bootstrap import System, describe_database, existing_tables, expected_tables
from syncledger.config import Settings

__all__ = ["db_check", "db_init", "expected_tables"]


def db_init(system: System) -> set[str]:
    """Every table exists once the system is open (it creates what is missing); the tables."""
    return system.database.tables()


def db_check(settings: Settings) -> tuple[str, list[str], list[str]]:
    """What a database holds and lacks, without creating anything: (description, present,
    missing)."""
    existing = existing_tables(settings)
    description = describe_database(settings)
    if existing is None:
        return f"SQLite {description} (no such file)", [], list(expected_tables(False))
    expected = expected_tables(settings.is_postgres)
    present = [t for t in expected if t in existing]
    missing = [t for t in expected if t not in existing]
    kind = "PostgreSQL" if settings.is_postgres else "SQLite"
    return f"{kind} {description}", present, missing
