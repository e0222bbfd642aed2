"""The ``syncledger audit`` commands: ``events``, ``calls``, ``failures``, ``as-of``, ``timings``
and ``reconcile``. Each reads a fresh audit index (brought up to the end of the log first),
takes ``--org``, ``--since`` and ``--until``, and prints a table, ``--csv`` (with a header row)
or ``--json`` (one JSON document); ``reconcile`` also exits 1 when anything differs."""

from __future__ import annotations

import click

from syncledger.cli.audit.events import calls_command, events_command
from syncledger.cli.audit.reconcile import reconcile_command
from syncledger.cli.audit.reports import as_of_command, failures_command, timings_command
from syncledger.cli.errors import Shell
from syncledger.cli.shell import CONTEXT_SETTINGS


@click.group("audit", cls=Shell, context_settings=CONTEXT_SETTINGS)
def audit_group() -> None:
    """Answer questions about the ledger's history, and reconcile it with Xero.

    \b
    Every command reads a fresh audit index of the log and takes --org, --since and --until
    (ISO 8601 dates or timestamps, UTC unless an offset is given; --until is exclusive, and a
    date includes the whole of that day), and prints a table, --csv (with a header row) or
    --json (one JSON document). Tokens and secrets never appear in the output.
    """


for command in (
    events_command,
    calls_command,
    failures_command,
    as_of_command,
    timings_command,
    reconcile_command,
):
    audit_group.add_command(command)

__all__ = ["audit_group"]
