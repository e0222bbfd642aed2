"""Benchmarks for syncledger: ``python -m bench [--quick]`` builds its own data, runs every
benchmark on SQLite and (when reachable) PostgreSQL, and prints one markdown table with the
machine's description. Nothing here is a test: it asserts nothing about speed.

Modules: ``backends`` (a fresh SQLite file or PostgreSQL schema per benchmark), ``data`` (change
and ledger generators), ``bare`` (the bare eventsourcing baselines), ``procs`` (sandbox and relay
subprocesses), one module per benchmark (``ingest``, ``projections``, ``latency``,
``throughput``, ``backfill``), ``report`` (rows and the table) and ``machine``.
"""
