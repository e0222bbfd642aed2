"""The ``syncledger`` command line: one click group (``main``) with the command families
attached, errors mapped to exit codes in one place (``errors``: usage 2, operational 1), and the
settings, options and logging every command shares in one module (``shell``)::

    root.py           the group, its options, and the families attached to it
    errors.py         the one table of errors -> exit codes, applied by the root group
    shell.py          settings, the opened system, shared options and values, logging
    documents.py      ingest, status, history, retry, sync
    connection.py     connect, disconnect
    configuration.py  config ...
    operations.py     relay, health, replay, db ..., demo
    audit/            audit ... (events, calls, failures, as-of, timings, reconcile)
    serve.py, web.py  serve, users ..., webhook ...
"""

from __future__ import annotations

from syncledger.cli.root import main

__all__ = ["main"]
