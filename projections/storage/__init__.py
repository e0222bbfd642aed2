"""The storage kernel: the ``Database`` port our own tables are written through, its SQLite and
PostgreSQL backends and the one storage error root. It sits below the projections and the
outbox and imports neither (``tests/unit/test_layers.py`` keeps it so)."""
