"""The `syncledger sandbox` command: run a Xero sandbox server in the foreground.

Options map one to one onto `SandboxConfig`; bad values are click usage errors (exit status 2),
never tracebacks. The lead attaches `command` to the main CLI; `python -m syncledger.sandbox`
runs it directly.
"""

from __future__ import annotations

from typing import Any

import click

from syncledger.sandbox.config import FAULT_KINDS, SandboxConfig
from syncledger.sandbox.errors import SandboxConfigError

HELP = """Run a Xero sandbox: a real HTTP server on 127.0.0.1 that behaves like Xero's
Accounting API (/api.xro/2.0/...) and identity service (/identity/connect/authorize,
/connect/token, /connect/revocation, /connections) for demos, end-to-end tests and benchmarks.

On start it prints one JSON line with the URL, tenant ids and client id, then serves until
SIGTERM or Ctrl-C. Without --client-id/--client-secret it runs in open mode: API calls need only
a known xero-tenant-id header.

\b
Control and inspection endpoints (never faulted or rate limited):
  GET  /sandbox/health              liveness
  GET  /sandbox/tenants             tenant ids and names
  POST /sandbox/tenants             {"name": ...} adds an organisation
  GET  /sandbox/state?tenant=ID     contacts, invoices, credit notes, allocations,
                                    payments, accounts and settings of one tenant
  GET  /sandbox/settings?tenant=ID  base currency, enabled currencies, period lock date
  POST /sandbox/settings            {"tenant": ID, "base_currency": "AUD", "currencies":
                                    ["USD"], "period_lock_date": "2026-11-15" or null}
  GET  /sandbox/requests?tenant=ID  the request log (time, method, path, status,
                                    idempotency key, replayed, fault)
  POST /sandbox/faults              {"fault_rates": {...}, "latency_ms": ..., "seed": ...}
  POST /sandbox/limits              {"minute_limit": ..., "minute_window_s": ..., ...}
  POST /sandbox/reset               clear documents and logs, keep tenants, charts
                                    and settings
"""


def _fault_rates(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> dict[str, float]:
    rates: dict[str, float] = {}
    for value in values:
        code, separator, rate_text = value.partition("=")
        code = code.strip().lower()
        if not separator or code not in FAULT_KINDS:
            raise click.BadParameter(
                f"expected CODE=RATE with CODE one of {', '.join(FAULT_KINDS)}, got {value!r}"
            )
        try:
            rate = float(rate_text)
        except ValueError:
            raise click.BadParameter(f"rate must be a number, got {rate_text!r}") from None
        if not 0.0 <= rate <= 1.0:
            raise click.BadParameter(f"rate must be between 0 and 1, got {rate_text}")
        rates[code] = rate
    return rates


_POSITIVE = click.FloatRange(min=0.0, min_open=True)


@click.command(name="sandbox", help=HELP)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port to listen on; 0 picks a free port (the URL is printed).",
)
@click.option(
    "--tenants",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help='Organisations to create; the first is "Demo Company (AU)".',
)
@click.option(
    "--base-currency",
    default="AUD",
    show_default=True,
    metavar="CODE",
    help="Base currency of every organisation (an ISO 4217 code Xero knows).",
)
@click.option(
    "--currency",
    "currencies",
    multiple=True,
    metavar="CODE",
    help="Enable a currency besides the base in every organisation, so invoices and credit "
    "notes may use it (GET /Currencies lists it). Repeatable, e.g. --currency USD --currency NZD.",
)
@click.option(
    "--client-id", default=None, help="OAuth client id to require (with --client-secret)."
)
@click.option(
    "--client-secret", default=None, help="OAuth client secret to require (with --client-id)."
)
@click.option(
    "--idempotency-window",
    type=_POSITIVE,
    default=360.0,
    show_default=True,
    help="Seconds an Idempotency-Key is remembered (Xero: 6 minutes).",
)
@click.option(
    "--minute-limit",
    type=click.IntRange(min=1),
    default=60,
    show_default=True,
    help="Calls per tenant per minute window.",
)
@click.option(
    "--day-limit",
    type=click.IntRange(min=1),
    default=5000,
    show_default=True,
    help="Calls per tenant per day window.",
)
@click.option(
    "--concurrent-limit",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Calls in progress at once per tenant.",
)
@click.option(
    "--app-minute-limit",
    type=click.IntRange(min=1),
    default=10000,
    show_default=True,
    help="Calls per minute window across all tenants.",
)
@click.option(
    "--minute-window",
    type=_POSITIVE,
    default=60.0,
    show_default=True,
    help="Length in seconds of the 'minute' window (scale time down for tests).",
)
@click.option(
    "--day-window",
    type=_POSITIVE,
    default=86400.0,
    show_default=True,
    help="Length in seconds of the 'day' window.",
)
@click.option(
    "--latency-ms",
    type=click.FloatRange(min=0.0),
    default=0.0,
    show_default=True,
    help="Milliseconds added to every API call.",
)
@click.option(
    "--fault-rate",
    "fault_rates",
    multiple=True,
    callback=_fault_rates,
    metavar="CODE=RATE",
    help="Inject a fault into a share of writes; CODE is one of "
    + ", ".join(FAULT_KINDS)
    + ". Repeatable, e.g. --fault-rate 503=0.05 --fault-rate timeout=0.02.",
)
@click.option(
    "--fault-method",
    "fault_methods",
    multiple=True,
    type=click.Choice(["GET", "PUT", "POST", "DELETE"], case_sensitive=False),
    help="HTTP methods faults apply to (repeatable; default PUT and POST).",
)
@click.option(
    "--fault-timeout",
    type=_POSITIVE,
    default=35.0,
    show_default=True,
    help="Seconds a 'timeout' fault holds the request before closing the connection.",
)
@click.option("--seed", type=int, default=None, help="Seed for reproducible faults.")
@click.option(
    "--token-ttl",
    type=_POSITIVE,
    default=1800.0,
    show_default=True,
    help="Seconds an access token lives (Xero: 30 minutes).",
)
def command(**options: Any) -> None:
    """Run a Xero sandbox server (see the command help)."""
    try:
        config = SandboxConfig(
            host=options["host"],
            port=options["port"],
            tenants=options["tenants"],
            client_id=options["client_id"],
            client_secret=options["client_secret"],
            idempotency_window_s=options["idempotency_window"],
            minute_limit=options["minute_limit"],
            day_limit=options["day_limit"],
            concurrent_limit=options["concurrent_limit"],
            app_minute_limit=options["app_minute_limit"],
            minute_window_s=options["minute_window"],
            day_window_s=options["day_window"],
            latency_ms=options["latency_ms"],
            fault_rates=options["fault_rates"],
            fault_methods=tuple(m.upper() for m in options["fault_methods"]) or ("PUT", "POST"),
            fault_timeout_s=options["fault_timeout"],
            seed=options["seed"],
            access_token_ttl_s=options["token_ttl"],
            base_currency=options["base_currency"],
            currencies=options["currencies"],
        )
    except SandboxConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    try:
        from syncledger.sandbox.runner import run_forever  # the server only when it runs

        run_forever(config)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {config.host}:{config.port}: {exc}") from exc
