"""The connection commands: ``connect`` an OpenSolar organisation to a Xero organisation (through
OAuth 2.0, a custom connection, or a sandbox in open mode) and ``disconnect`` it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import click

from domain.organisation import Organisation
from domain.wording import counted
from outbox.secrets import SecretBox
from outbox.xero import IdentityUrls, Tenant
from syncledger import config, organisations, service
from syncledger.cli.errors import Failure
from syncledger.cli.shell import db_option, opened, parse_moment, settings
from syncledger.connect import OAuthRequest

Connected = tuple[Organisation, list[str], str]
"""The organisation, the documents requested at once, and how to name the Xero tenant."""


@click.command()
@click.argument("org")
@click.option(
    "--xero-url",
    metavar="URL",
    default=None,
    help="Xero base URL. With OAuth, the sandbox's URL (it serves login, identity and API); "
    "omit it for the real Xero. With --tenant-id and no client id: the API base URL.",
)
@click.option("--tenant-id", metavar="ID", default=None, help="The Xero tenant (organisation) id.")
@click.option(
    "--tenant-name", metavar="NAME", default=None, help="Pick the connected tenant by name."
)
@click.option(
    "--client-id",
    metavar="ID",
    default=None,
    help="Xero app client id (default $SYNCLEDGER_XERO_CLIENT_ID). Selects OAuth.",
)
@click.option(
    "--client-secret",
    metavar="SECRET",
    default=None,
    help="Xero app client secret (default $SYNCLEDGER_XERO_CLIENT_SECRET; asked for if missing).",
)
@click.option(
    "--custom-connection",
    is_flag=True,
    help="Use a Xero custom connection (client credentials, one organisation, no tenant header).",
)
@click.option(
    "--broad-scopes",
    is_flag=True,
    help="Ask for the broad scopes (accounting.transactions) of apps created before March 2026.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="Local port for Xero's redirect (http://localhost:PORT/callback; 0 picks one).",
)
@click.option(
    "--no-browser", is_flag=True, help="Print the authorize URL without opening a browser."
)
@click.option(
    "--at",
    "at",
    metavar="TIMESTAMP",
    default=None,
    help="When the connection began (ISO 8601; default now). Documents issued before it are "
    "Not Attempted until synced by hand.",
)
@click.option(
    "--no-check",
    is_flag=True,
    help="Without OAuth: record the connection without first asking Xero at --xero-url for "
    "the tenant's organisation.",
)
@click.option(
    "--switch-tenant",
    is_flag=True,
    help="Allow moving the organisation to another Xero organisation than the one its "
    "documents were synced to (they stay there; syncledger never acts on them again).",
)
@db_option
@click.pass_context
def connect(
    ctx: click.Context,
    org: str,
    xero_url: str | None,
    tenant_id: str | None,
    tenant_name: str | None,
    client_id: str | None,
    client_secret: str | None,
    custom_connection: bool,
    broad_scopes: bool,
    port: int,
    no_browser: bool,
    at: str | None,
    no_check: bool,
    switch_tenant: bool,
    db: str | None,
) -> None:
    """Connect an OpenSolar organisation to a Xero organisation.

    \b
    OAuth 2.0 (a Xero app's client id and secret):
      syncledger connect 42 --client-id ID
    prints the authorize URL, waits for Xero's redirect on http://localhost:PORT/callback,
    stores the tokens encrypted (SYNCLEDGER_SECRET_KEY) and lets you pick the organisation.
    --custom-connection uses client credentials instead.

    \b
    Without OAuth (a sandbox in open mode):
      syncledger connect 42 --xero-url URL --tenant-id ID
    first asks Xero at URL for the tenant's organisation and refuses (exit 1) when nothing
    answers there or the tenant is unknown; --no-check skips that.

    From the connection time on, every invoice issued and every payment paid is pushed to Xero.
    Documents already recorded as issued at or after that time are requested now, and so is
    what happened while the organisation was disconnected.

    One ledger organisation belongs to one Xero organisation: connecting another one than its
    documents were synced to is refused unless --switch-tenant is given.
    """
    base = settings(ctx)
    moment = parse_moment(at) if at else None
    client_id = client_id or base.xero_client_id
    if client_id is None and not custom_connection:
        if xero_url is None or tenant_id is None:
            raise click.UsageError(
                "give --client-id (or SYNCLEDGER_XERO_CLIENT_ID) to connect through OAuth, or "
                "--xero-url and --tenant-id to connect without it"
            )
        connected = _connect_open(
            ctx, db, org, xero_url, tenant_id, moment, not no_check, switch_tenant
        )
    else:
        if client_id is None:
            raise click.UsageError("--custom-connection needs --client-id")
        request = OAuthRequest(
            urls=IdentityUrls.single(xero_url) if xero_url else IdentityUrls(),
            client_id=client_id,
            client_secret=_client_secret(base, client_secret),
            broad_scopes=broad_scopes,
            port=port,
            tenant_id=tenant_id,
            tenant_name=tenant_name,
            open_browser=not no_browser,
        )
        connected = _connect_oauth(ctx, db, org, request, moment, custom_connection, switch_tenant)
    _say_connected(org, *connected)


def _connect_open(
    ctx: click.Context,
    db: str | None,
    org: str,
    xero_url: str,
    tenant_id: str,
    moment: datetime | None,
    with_check: bool,
    switch_tenant: bool,
) -> Connected:
    """Without OAuth: ask Xero at ``xero_url`` for the tenant's organisation first (unless told
    not to), then record the connection."""
    checked = (
        organisations.check_connection(settings(ctx, db), xero_url, tenant_id)
        if with_check
        else None
    )
    with opened(ctx, db, create=True) as system:
        organisation, requested = service.connect(
            system, org, xero_url, tenant_id, moment, switch_tenant=switch_tenant
        )
        if checked is not None:
            organisations.remember(system, org, checked)
    tenant_label = tenant_id if checked is None else f"{checked.name} ({tenant_id})"
    return organisation, requested, tenant_label


def _client_secret(base: config.Settings, given: str | None) -> str:
    """The Xero app's client secret: given, from the environment, or asked for (after checking
    that the tokens it brings could be stored)."""
    SecretBox(base.secret_key)  # no key (or too short): say so before any prompt
    secret = given or base.xero_client_secret
    if secret is None:
        secret = click.prompt("Xero client secret", hide_input=True)
    return secret


def _connect_oauth(
    ctx: click.Context,
    db: str | None,
    org: str,
    request: OAuthRequest,
    moment: datetime | None,
    custom: bool,
    switch_tenant: bool,
) -> Connected:
    """Through OAuth (or a custom connection): store the tokens, then record the connection."""
    with opened(ctx, db, create=True) as system:
        organisation, requested, tenant = service.connect_oauth(
            system,
            org,
            request,
            moment,
            custom=custom,
            echo=click.echo,
            choose=_choose_tenant,
            switch_tenant=switch_tenant,
        )
    return organisation, requested, f"{tenant.tenant_name} ({tenant.tenant_id})"


def _choose_tenant(tenants: Sequence[Tenant]) -> Tenant:
    click.echo("Xero organisations connected:")
    for index, tenant in enumerate(tenants, 1):
        click.echo(f"  {index}. {tenant.tenant_name} ({tenant.tenant_id})")
    choice = click.prompt("Which one", type=click.IntRange(1, len(tenants)))
    return tenants[choice - 1]


def _say_connected(
    org: str, organisation: Organisation, requested: list[str], tenant_label: str
) -> None:
    connection = organisation.connection
    if connection is None:
        raise Failure(f"organisation {org} could not be connected")
    click.echo(
        f"organisation {org} connected to Xero tenant {tenant_label} at "
        f"{connection.connected_at.isoformat()}"
    )
    if requested:
        click.echo(
            f"requested {counted(len(requested), 'document')} issued since then: "
            f"{', '.join(requested)}"
        )


@click.command()
@click.argument("org")
@db_option
@click.pass_context
def disconnect(ctx: click.Context, org: str, db: str | None) -> None:
    """Disconnect an organisation from Xero: revoke its tokens, forget them, and record it.

    Documents issued afterwards are Not Attempted; pending deliveries wait until it is
    connected again.
    """
    with opened(ctx, db) as system:
        notes = service.disconnect(system, org)
    for note in notes:
        click.echo(f"note: {note}", err=True)
    click.echo(f"organisation {org} disconnected from Xero")


COMMANDS: tuple[click.Command, ...] = (connect, disconnect)
