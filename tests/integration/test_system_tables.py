"""Opening a System creates exactly the tables the composition root lists, on every backend, so
``db init`` and ``db check`` agree with what the commands create."""

from __future__ import annotations

from pathlib import Path

from syncledger import service
from syncledger.bootstrap import System, expected_tables
from syncledger.config import Settings


def test_opening_a_system_creates_exactly_the_tables_its_stores_declare(system: System):
    ours = {t for t in system.database.tables() if not t.startswith("sqlite_")}  # SQLite's own

    assert ours == set(expected_tables(system.is_postgres))


def test_db_check_finds_every_table_of_an_opened_system_and_db_init_counts_them(system: System):
    description, present, missing = service.db_check(system.settings)

    assert missing == []
    assert present == list(expected_tables(system.is_postgres))
    assert description.startswith("PostgreSQL " if system.is_postgres else "SQLite ")
    assert service.db_init(system) >= set(present)


def test_db_check_of_a_missing_file_lists_every_table_and_creates_nothing(tmp_path: Path):
    db = tmp_path / "none.db"

    description, present, missing = service.db_check(Settings(db=str(db)))

    assert (description, present) == (f"SQLite {db} (no such file)", [])
    assert missing == list(expected_tables(False))
    assert not db.exists()
