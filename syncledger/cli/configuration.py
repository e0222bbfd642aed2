"""The ``config`` commands: each organisation's account and tax mappings, payment and rounding
accounts, invoice status and reissue numbering, checked against Xero before they are saved."""

from __future__ import annotations

import json

import click

from syncledger import organisations, present
from syncledger.bootstrap import System
from syncledger.cli.errors import Shell
from syncledger.cli.shell import db_option, json_option, opened

NOT_CHECKED = "not checked: --no-check"

no_check_option = click.option(
    "--no-check", is_flag=True, help="Save without checking the code against Xero's chart."
)
no_tax_check_option = click.option(
    "--no-check", is_flag=True, help="Save without checking the tax type against Xero's rates."
)


@click.group("config", cls=Shell)
def config_group() -> None:
    """Per-organisation settings: account and tax mappings, payment and rounding accounts,
    invoice status, reissue numbering."""


def _checked(system: System, org: str, code: str, purpose: str, no_check: bool) -> str:
    """What checking an account code against Xero's chart said (or that it was skipped); the
    organisation must be one the ledger knows."""
    organisations.require_organisation(system, org)
    if no_check:
        return NOT_CHECKED
    return organisations.check_account(system, org, code, purpose)


@config_group.command("map-account")
@click.argument("org")
@click.argument("category")
@click.argument("code")
@no_check_option
@db_option
@click.pass_context
def map_account(
    ctx: click.Context, org: str, category: str, code: str, no_check: bool, db: str | None
) -> None:
    """Map an OpenSolar line CATEGORY (e.g. sales, incentives) to a Xero account CODE.

    When the organisation is connected, the code is first checked against its chart of accounts
    in Xero and refused if Xero would reject it (unknown, archived, a bank or system account).
    Categories match case-insensitively. Documents that failed with "Missing Ledger Account"
    need a `syncledger retry` afterwards.
    """
    with opened(ctx, db) as system:
        checked = _checked(system, org, code, "sales", no_check)
        system.ledger.map_account(org, category, code)
    click.echo(f"organisation {org}: line category '{category}' → Xero account {code} ({checked})")


@config_group.command("map-tax")
@click.argument("org")
@click.argument("tax_rate")
@click.argument("xero_tax_type")
@no_tax_check_option
@db_option
@click.pass_context
def map_tax(
    ctx: click.Context,
    org: str,
    tax_rate: str,
    xero_tax_type: str,
    no_check: bool,
    db: str | None,
) -> None:
    """Map an OpenSolar TAX_RATE name (e.g. GST) to a Xero TaxType (e.g. OUTPUT).

    When the organisation is connected, the tax type is first checked against its tax rates in
    Xero and refused unless it is there, active and usable on sales. Documents that failed for
    a missing tax mapping need a `syncledger retry` afterwards.
    """
    with opened(ctx, db) as system:
        organisations.require_organisation(system, org)
        checked = (
            NOT_CHECKED if no_check else organisations.check_tax_type(system, org, xero_tax_type)
        )
        system.ledger.map_tax(org, tax_rate, xero_tax_type)
    click.echo(
        f"organisation {org}: tax rate '{tax_rate}' → Xero tax type {xero_tax_type.upper()} "
        f"({checked})"
    )


@config_group.command("payment-account")
@click.argument("org")
@click.argument("code")
@no_check_option
@db_option
@click.pass_context
def payment_account(
    ctx: click.Context, org: str, code: str, no_check: bool, db: str | None
) -> None:
    """Set the Xero account CODE that payments are received into (a BANK account, e.g. 090).

    When the organisation is connected, the code is checked against its chart in Xero first:
    it must be a BANK account or one with payments enabled.
    """
    with opened(ctx, db) as system:
        checked = _checked(system, org, code, "payment", no_check)
        system.ledger.set_payment_account(org, code)
    click.echo(f"organisation {org}: payments go to Xero account {code} ({checked})")


@config_group.command("invoice-status")
@click.argument("org")
@click.argument(
    "status", type=click.Choice(["AUTHORISED", "DRAFT", "SUBMITTED"], case_sensitive=False)
)
@db_option
@click.pass_context
def invoice_status(ctx: click.Context, org: str, status: str, db: str | None) -> None:
    """Choose the STATUS new invoices get in Xero (AUTHORISED by default).

    Payments and credit-note allocations need AUTHORISED invoices in Xero.
    """
    with opened(ctx, db) as system:
        organisations.require_organisation(system, org)
        system.ledger.set_invoice_status(org, status)
    click.echo(f"organisation {org}: new invoices are created as {status.upper()}")


@config_group.command("number-suffix")
@click.argument("org")
@click.argument("setting", type=click.Choice(["on", "off"], case_sensitive=False))
@db_option
@click.pass_context
def number_suffix(ctx: click.Context, org: str, setting: str, db: str | None) -> None:
    """Send reissues that reuse a cancelled invoice's number as NUMBER-2, NUMBER-3 … (on), or
    fail them with the reason (off, the default).

    Xero keeps invoice numbers unique: once a cancelled invoice holds INV-00019 there, a new
    OpenSolar invoice numbered INV-00019 cannot be sent as it is. With the suffix on it goes to
    Xero as INV-00019-2 (the second invoice OpenSolar issued with that number), and status shows
    the number Xero holds. Reissues that already failed need a `syncledger retry`.
    """
    enabled = setting.lower() == "on"
    with opened(ctx, db) as system:
        organisations.require_organisation(system, org)
        system.ledger.set_number_suffix(org, enabled)
    click.echo(
        f"organisation {org}: reissues of a cancelled invoice's number are "
        + ("sent as NUMBER-2, NUMBER-3 …" if enabled else "refused with the reason")
    )


@config_group.command("rounding-account")
@click.argument("org")
@click.argument("code")
@no_check_option
@db_option
@click.pass_context
def rounding_account(
    ctx: click.Context, org: str, code: str, no_check: bool, db: str | None
) -> None:
    """Set the Xero account CODE that rounding lines go to (default 860, Xero's Rounding).

    When OpenSolar states an invoice's total and Xero's per-line tax rounding would make its own
    total a few cents different, a rounding line on this account (at a zero tax rate) makes them
    equal.
    """
    with opened(ctx, db) as system:
        checked = _checked(system, org, code, "rounding", no_check)
        system.ledger.set_rounding_account(org, code)
    click.echo(f"organisation {org}: rounding lines go to Xero account {code} ({checked})")


@config_group.command("show")
@click.argument("org")
@json_option()
@db_option
@click.pass_context
def show(ctx: click.Context, org: str, as_json: bool, db: str | None) -> None:
    """Show an organisation's connection and settings."""
    with opened(ctx, db) as system:
        settings = organisations.require_organisation(system, org).settings()
    if as_json:
        click.echo(json.dumps(settings, indent=2))
        return
    for line in present.settings_lines(org, settings):
        click.echo(line)


COMMANDS: tuple[click.Command, ...] = (config_group,)
