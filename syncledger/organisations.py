"""Organisations as commands meet them: which ones the ledger knows (settings are refused for
an organisation it has never seen, so a typo creates nothing), and checks against Xero before
anything is saved: that a connection's URL answers and knows the tenant, that an account code
or a tax type is one Xero would accept."""

from __future__ import annotations

import time
from dataclasses import dataclass

from domain.accounts import (
    check_payment_account,
    check_rounding_account,
    check_sales_account,
    check_sales_tax_type,
)
from domain.errors import ConfigurationError
from domain.organisation import Organisation
from domain.wording import counted
from outbox.reach import LOST, Reach
from outbox.xero import (
    CallRecord,
    XeroAuthError,
    XeroConnections,
    XeroError,
    XeroNotFoundError,
    XeroTransientError,
)
from projections.base import catch_up
from syncledger.bootstrap import System
from syncledger.config import Settings


class UnknownOrganisationError(ConfigurationError):
    """A command names an organisation the ledger has never seen."""


def known_organisations(system: System) -> list[str]:
    """The organisations the ledger knows (ingested, connected or configured), sorted."""
    catch_up(system.status, system.log)
    return sorted({row.org for row in system.status_store.organisations()})


def require_organisation(system: System, org_id: str) -> Organisation:
    """The organisation, or ``UnknownOrganisationError`` naming the ones the ledger knows."""
    found = system.ledger.organisation(org_id)
    if found is not None:
        return found
    known = known_organisations(system)
    listing = f"it knows {', '.join(known)}" if known else "it knows none yet"
    raise UnknownOrganisationError(
        f"organisation {org_id} is not known to this ledger ({listing}); connect it first with "
        f"`syncledger connect {org_id} …`, or ingest its documents"
    )


@dataclass(frozen=True)
class ConnectionCheck:
    """What Xero answered when a connection was checked: the organisation's name, and the
    answer as ``health`` shows it."""

    name: str
    answer: str
    at: float


def check_connection(settings: Settings, xero_url: str, tenant_id: str) -> ConnectionCheck:
    """Ask Xero at ``xero_url`` for tenant ``tenant_id``'s organisation before the connection is
    recorded (and before any ledger is created for it); ``ConfigurationError`` says what is
    wrong: nothing answers, not Xero's API, the tenant unknown."""
    calls: list[CallRecord] = []
    hint = "; use --no-check to connect without checking"
    pool = XeroConnections(settings.xero_timeout)
    try:
        client = pool.client(xero_url, tenant_id, on_call=calls.append)
        try:
            found = client.organisation()
        except XeroAuthError as exc:
            raise ConfigurationError(
                f"Xero at {xero_url} does not accept tenant {tenant_id} ({exc}): check the "
                "tenant id" + hint
            ) from exc
        except XeroNotFoundError as exc:
            raise ConfigurationError(
                f"{xero_url} does not serve Xero's Accounting API (GET /Organisation: {exc}): "
                "check the URL" + hint
            ) from exc
        except XeroTransientError as exc:
            raise ConfigurationError(f"cannot reach Xero at {xero_url}: {exc}" + hint) from exc
        except XeroError as exc:
            raise ConfigurationError(f"Xero at {xero_url} answered: {exc}" + hint) from exc
    finally:
        pool.close()
    name = str(found.get("Name") or tenant_id)
    last = calls[-1] if calls else None
    status = f"{last.status} to {last.method} {last.path}: " if last and last.status else ""
    return ConnectionCheck(name, f"{status}organisation {name}", time.time())


def remember(system: System, org_id: str, check: ConnectionCheck) -> None:
    """Keep a successful check as the organisation's last answer from Xero."""
    system.org_state.observe({}, {org_id: (check.at, check.answer, True)})


def check_account(system: System, org_id: str, code: str, purpose: str) -> str:
    """Check an account code against the organisation's chart in Xero before it is saved;
    raises ``ConfigurationError`` with Xero's reason to refuse it. Returns what was checked."""
    org = require_organisation(system, org_id)
    if org.connection is None:
        return "not checked against Xero: the organisation is not connected"
    client = system.xero_client(org, lambda call: None)
    try:
        data = client.get("list_accounts", "/Accounts")
    except XeroError as exc:
        raise ConfigurationError(
            f"could not read the chart of accounts from Xero ({exc}); use --no-check to save "
            "the mapping without checking"
        ) from exc
    accounts = list(data.get("Accounts") or []) if isinstance(data, dict) else []
    check = {
        "payment": check_payment_account,
        "rounding": check_rounding_account,
    }.get(purpose, check_sales_account)
    account = check(code, accounts)
    return f"checked against Xero: {account.get('Name')} ({account.get('Type')})"


def check_tax_type(system: System, org_id: str, tax_type: str) -> str:
    """Check a TaxType against the organisation's tax rates in Xero (active, usable on sales)
    before it is mapped; raises ``ConfigurationError`` saying why Xero would refuse it."""
    org = require_organisation(system, org_id)
    if org.connection is None:
        return "not checked against Xero: the organisation is not connected"
    client = system.xero_client(org, lambda call: None)
    try:
        data = client.get("list_tax_rates", "/TaxRates")
    except XeroError as exc:
        raise ConfigurationError(
            f"could not read the tax rates from Xero ({exc}); use --no-check to save the "
            "mapping without checking"
        ) from exc
    rates = list(data.get("TaxRates") or []) if isinstance(data, dict) else []
    rate = check_sales_tax_type(tax_type, rates)
    return f"checked against Xero: {rate.get('Name')}"


def unserved(system: System, reach: Reach) -> tuple[list[str], bool]:
    """Lines for the organisations whose deliveries wait because Xero cannot be reached for
    them or they are not connected: what this relay run met, and what earlier runs recorded for
    organisations that still have deliveries waiting. The flag is True when any could not be
    reached (no answer, the connection refused or lost); an organisation disconnected on purpose
    (`syncledger disconnect`) is named but is not a failure."""
    waiting = system.outbox_store.open_by_org()
    states = {state.org: state for state in system.org_state.all()}
    lines: list[str] = []
    failing = False
    for org in sorted(set(reach.unreachable) | set(reach.unconnected) | set(waiting)):
        count = waiting.get(org, 0)
        waits = f"{counted(count, 'delivery', 'deliveries')} waiting" if count else "none waiting"
        found = system.ledger.organisation(org)
        state = states.get(org)
        why = reach.unreachable.get(org)
        if why is None and count and state is not None and state.reached is False:
            why = state.answer
        if found is None or found.connection is None:
            lost = found is not None and (found.disconnect_reason or "").startswith(LOST)
            if not (count or org in reach.unconnected or org in reach.unreachable):
                continue
            failing = failing or lost or org in reach.unreachable
            reason = found.disconnect_reason if lost and found is not None else "disconnected"
            lines.append(
                f"organisation {org}: not connected to Xero ({reason}); {waits}: connect it "
                f"with `syncledger connect {org}`"
            )
            continue
        if why is not None:
            failing = True
            lines.append(
                f"organisation {org}: could not reach Xero ({why}); {waits}: see `syncledger "
                f"health` and `syncledger status --org {org}`, then fix the connection with "
                f"`syncledger connect {org}`"
            )
    return lines, failing
