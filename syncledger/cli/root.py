"""The ``syncledger`` group: its options (``--db``, ``--log-level``, ``--log-format``), and the
families of commands attached to it: documents, connection, configuration, operations, audit,
web and the Xero sandbox."""

from __future__ import annotations

import click

from syncledger.cli import configuration, connection, documents, operations, web
from syncledger.cli.audit import audit_group
from syncledger.cli.errors import Shell
from syncledger.cli.shell import CONTEXT_SETTINGS, Invocation, configure_logging, load_settings
from syncledger.sandbox.cli import command as sandbox_command


@click.group(cls=Shell, context_settings=CONTEXT_SETTINGS)
@click.option("--db", metavar="PATH", default=None, help="Ledger database for every command.")
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
    default=None,
    help="Log level (default: $SYNCLEDGER_LOG_LEVEL, else warning; the relay logs at info).",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default=None,
    help="Log line format; json for log shippers (default: $SYNCLEDGER_LOG_FORMAT or text).",
)
@click.version_option(package_name="syncledger")
@click.pass_context
def main(ctx: click.Context, db: str | None, log_level: str | None, log_format: str | None) -> None:
    """syncledger: pushes OpenSolar invoices, credit notes and payments one-way into Xero, and
    keeps an event-sourced ledger of what was sent, what Xero answered, and why.

    \b
    Typical flow:
      syncledger connect 42 --xero-url URL --tenant-id ID
      syncledger config map-account 42 sales 200
      syncledger ingest changes.ndjson
      syncledger relay --until-idle
      syncledger status

    Try `syncledger demo` to see it all against a local Xero sandbox.
    """
    settings = load_settings()
    ctx.obj = Invocation(settings, db, log_level)
    configure_logging(log_level or settings.log_level, log_format or settings.log_format)


for family in (documents, connection, configuration, operations):
    for command in family.COMMANDS:
        main.add_command(command)
main.add_command(audit_group)
main.add_command(sandbox_command, "sandbox")
web.attach(main)
