"""The web side's commands: ``serve``, ``users`` (who may log in to the Payment Requests page)
and ``webhook`` (the secrets that authenticate OpenSolar's posted changes)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from outbox.secrets import SecretBox
from syncledger import config
from syncledger.cli.errors import Failure, Shell
from syncledger.cli.serve import serve_command
from syncledger.cli.shell import db_option, json_option, opened
from syncledger.organisations import require_organisation
from syncledger.web.auth import hash_password, normal_email, password_problem
from syncledger.web.changes import ORG_HEADER, SECRET_HEADER, SIGNATURE_HEADER
from syncledger.web.store import WebStore


@contextmanager
def _store(ctx: click.Context, db: str | None) -> Iterator[tuple[config.Settings, WebStore]]:
    with opened(ctx, db) as system:
        yield system.settings, system.web_store


# users ----------------------------------------------------------------------------------------


@click.group("users", cls=Shell)
def users_group() -> None:
    """Who may log in to the Payment Requests page.

    A user sees and acts on the documents of their organisation only; an administrator
    (--admin) on every organisation's.
    """


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise click.UsageError("--password-stdin: standard input held no password")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    problem = password_problem(password)
    if problem:
        raise click.BadParameter(problem, param_hint="password")
    return password


def _email(email: str) -> str:
    found = normal_email(email)
    if found is None:
        raise click.BadParameter(f"{email!r} is not an email address", param_hint="EMAIL")
    return found


password_stdin = click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of prompting.",
)


@users_group.command("add")
@click.argument("org")
@click.argument("email")
@click.option("--admin", is_flag=True, help="May see and act on every organisation's documents.")
@password_stdin
@db_option
@click.pass_context
def users_add(
    ctx: click.Context, org: str, email: str, admin: bool, password_stdin: bool, db: str | None
) -> None:
    """Create a user of organisation ORG who logs in with EMAIL.

    Prompts for the password (twice) unless --password-stdin is given. Passwords have at least
    8 characters and are stored as salted scrypt hashes.
    """
    address = _email(email)
    if not org.strip():
        raise click.BadParameter("must not be empty", param_hint="ORG")
    with opened(ctx, db) as system:
        require_organisation(system, org.strip())  # before the password prompt
        password = _password(password_stdin)
        user = system.web_store.add_user(
            org.strip(), address, hash_password(password), is_admin=admin
        )
    role = "administrator" if user.is_admin else "user"
    click.echo(f"added {role} {user.email} of organisation {user.org}")


@users_group.command("list")
@json_option("Print a JSON list of objects.")
@db_option
@click.pass_context
def users_list(ctx: click.Context, as_json: bool, db: str | None) -> None:
    """List the users (never their passwords)."""
    with _store(ctx, db) as (_, store):
        users = store.users()
    if as_json:
        found = [
            {"email": u.email, "org": u.org, "admin": u.is_admin, "created_at": u.created_at}
            for u in users
        ]
        click.echo(json.dumps(found, indent=2))
        return
    if not users:
        click.echo("no users: add one with `syncledger users add ORG EMAIL`")
    for user in users:
        role = "admin" if user.is_admin else "user"
        click.echo(f"{user.org:<10} {role:<6} {user.email}  (since {user.created_at})")


@users_group.command("remove")
@click.argument("email")
@db_option
@click.pass_context
def users_remove(ctx: click.Context, email: str, db: str | None) -> None:
    """Delete the user who logs in with EMAIL and end their sessions."""
    address = _email(email)
    with _store(ctx, db) as (_, store):
        store.remove_user(address)
    click.echo(f"removed {address}")


@users_group.command("password")
@click.argument("email")
@password_stdin
@db_option
@click.pass_context
def users_password(ctx: click.Context, email: str, password_stdin: bool, db: str | None) -> None:
    """Set a new password for EMAIL (ends the user's sessions)."""
    address = _email(email)
    password = _password(password_stdin)
    with _store(ctx, db) as (_, store):
        store.set_password(address, hash_password(password))
    click.echo(f"password changed for {address}")


# webhook secrets ------------------------------------------------------------------------------


@click.group("webhook", cls=Shell)
def webhook_group() -> None:
    """Secrets that authenticate OpenSolar's changes posted to POST /opensolar/changes."""


@webhook_group.command("secret")
@click.argument("org")
@click.option(
    "--rotate",
    is_flag=True,
    help="Replace the organisation's secret; the old one stops working at once.",
)
@db_option
@click.pass_context
def webhook_secret(ctx: click.Context, org: str, rotate: bool, db: str | None) -> None:
    """Create organisation ORG's webhook secret and print it, this once, on standard output.

    The secret is stored sealed with SYNCLEDGER_SECRET_KEY (which must be set). Configure the
    webhook in OpenSolar to send it in the X-Syncledger-Secret header, or to sign each body
    with it (X-Syncledger-Signature: sha256=<hex HMAC-SHA256 of the body>); add
    X-Syncledger-Org: ORG. An existing secret is never shown again: use --rotate to replace it.
    """
    if not org.strip() or ":" in org:
        raise click.BadParameter("not an OpenSolar organisation id", param_hint="ORG")
    with _store(ctx, db) as (settings, store):
        box = SecretBox(settings.secret_key)
        secret = store.create_webhook_secret(org.strip(), box, rotate=rotate)
    click.echo(secret)
    verb = "replaced" if rotate else "created"
    click.echo(
        f"{verb} the webhook secret of organisation {org.strip()}; it is not shown again. "
        f"Send it as {SECRET_HEADER} (or sign bodies: {SIGNATURE_HEADER}) with "
        f"{ORG_HEADER}: {org.strip()}",
        err=True,
    )


@webhook_group.command("list")
@db_option
@click.pass_context
def webhook_list(ctx: click.Context, db: str | None) -> None:
    """List the organisations that have a webhook secret (never the secrets)."""
    with _store(ctx, db) as (_, store):
        found = store.webhook_secrets()
    if not found:
        click.echo("no webhook secrets: create one with `syncledger webhook secret ORG`")
    for info in found:
        click.echo(f"{info.org}  (since {info.created_at})")


@webhook_group.command("revoke")
@click.argument("org")
@db_option
@click.pass_context
def webhook_revoke(ctx: click.Context, org: str, db: str | None) -> None:
    """Delete organisation ORG's webhook secret: its changes are refused (401) until a new one
    is created."""
    with _store(ctx, db) as (_, store):
        if not store.revoke_webhook_secret(org.strip()):
            raise Failure(f"organisation {org.strip()} has no webhook secret")
    click.echo(f"revoked the webhook secret of organisation {org.strip()}")


COMMANDS: tuple[click.Command, ...] = (serve_command, users_group, webhook_group)


def attach(group: click.Group) -> None:
    """Add ``serve``, ``users`` and ``webhook`` to a command group."""
    for command in COMMANDS:
        if command.name is not None:
            group.add_command(command, command.name)


__all__ = ["COMMANDS", "attach", "serve_command", "users_group", "webhook_group"]
