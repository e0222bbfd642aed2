"""Use cases behind the CLI: ingest a stream of changes, find documents, sync, retry, connect,
and read statuses and histories. Reads are fresh: anything that reads a projection first brings
it up to the end of the log.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import IO, Any
from uuid import UUID

from domain.documents import Document, Invoice, Payment
from domain.errors import (
    AmbiguousDocumentError,
    ChangeError,
    DocumentNotFoundError,
    FieldError,
    InvalidRequestError,
)
from domain.opensolar import Change, parse_change, parse_change_object
from domain.organisation import Organisation
from domain.wording import counted
from outbox.delivery import Delivery
from outbox.dryrun import DryRunXero
from outbox.store import OPEN_STATES, WAITING
from outbox.tokens import CUSTOM, OAUTH
from outbox.xero import Tenant, XeroError
from projections.base import catch_up
from projections.status import (
    FAILED,
    NOT_ATTEMPTED,
    PENDING,
    StatusFilter,
    StatusRow,
    StatusView,
)
from syncledger import ndjson
from syncledger.bootstrap import System, describe_database, existing_tables
from syncledger.config import Settings
from syncledger.connect import OAuthRequest, authorize, custom_connection, stored
from syncledger.locks import RelayLock
from syncledger.ndjson import MAX_LINE_BYTES


@dataclass(frozen=True)
class Rejection:
    """One input line that was not recorded, and why."""

    line: int
    reason: str


@dataclass
class IngestReport:
    """What an ingest did."""

    ingested: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"ingested {self.ingested}, duplicates {self.duplicates}, rejected {len(self.rejected)}"
        )


def parse_line(raw: bytes) -> Change:
    """Decode and parse one NDJSON line (raises ``ChangeError``)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ChangeError(
            [FieldError("(line)", f"not valid UTF-8 (byte {raw[exc.start]:#04x} at {exc.start})")]
        ) from None
    return parse_change(text)


def ingest(
    system: System,
    stream: IO[bytes],
    *,
    on_reject: Callable[[Rejection], None] | None = None,
    batch_size: int | None = None,
) -> IngestReport:
    """Record every valid change of an NDJSON stream, batch by batch; report the others."""
    size = batch_size or system.settings.batch_size
    report = IngestReport()
    batch: list[Change] = []

    def flush() -> None:
        if batch:
            result = system.ledger.ingest(batch)
            report.ingested += result.recorded
            report.duplicates += result.duplicates
            batch.clear()

    for line in ndjson.lines(stream):
        number, raw = line.number, line.raw
        if line.problem is not None:
            rejection = Rejection(number, line.problem)
        elif raw is None:
            rejection = Rejection(number, f"(line): too long (more than {MAX_LINE_BYTES} bytes)")
        elif not raw.strip():
            continue
        else:
            try:
                batch.append(parse_line(raw))
            except ChangeError as exc:
                hint = ndjson.hint_for(raw)
                rejection = Rejection(number, f"{exc}" + (f" ({hint})" if hint else ""))
            else:
                if len(batch) >= size:
                    flush()
                continue
        report.rejected.append(rejection)
        if on_reject is not None:
            on_reject(rejection)
    flush()
    return report


def ingest_objects(system: System, objects: Iterable[Any]) -> IngestReport:
    """Record already-decoded changes (e.g. a webhook's JSON array) in one transaction; each
    rejected one is reported with its index (from 0) as ``line`` and nothing of it is recorded."""
    report = IngestReport()
    batch: list[Change] = []
    for index, data in enumerate(objects):
        try:
            batch.append(parse_change_object(data))
        except ChangeError as exc:
            report.rejected.append(Rejection(index, str(exc)))
    if batch:
        result = system.ledger.ingest(batch)
        report.ingested, report.duplicates = result.recorded, result.duplicates
    return report


# reading --------------------------------------------------------------------------------------


def refresh(system: System) -> None:
    """Bring the status projection and the outbox up to the end of the log."""
    catch_up(system.outbox, system.log)
    catch_up(system.status, system.log)


def statuses(system: System, where: StatusFilter) -> list[StatusView]:
    """Current statuses (fresh); a Pending document of a parked organisation says why it waits
    ("Xero daily limit reached; resumes at 14:05 UTC")."""
    refresh(system)
    parked = system.org_state.parked(time.time())
    views = list(system.status_store.rows(where))
    if not parked:
        return views
    return [
        StatusView(v.row, parked[v.row.org][1])
        if v.row.status == PENDING and v.row.org in parked
        else v
        for v in views
    ]


def resolve(system: System, reference: str, org: str | None) -> StatusRow:
    """The one document a reference names: ``INV-00019``, ``invoice:1042`` or ``payment:3001``."""
    rows = system.status_store.find(reference.strip(), org)
    if not rows:
        where = f" in organisation {org}" if org else ""
        raise DocumentNotFoundError(
            f"no document {reference!r}{where}: use an invoice number (INV-00019) or "
            "invoice:ID / payment:ID"
        )
    orgs = sorted({r.org for r in rows})
    if len(orgs) > 1:
        raise AmbiguousDocumentError(
            f"{reference!r} names documents in organisations {', '.join(orgs)}: add --org"
        )
    if len(rows) > 1:
        kinds = ", ".join(r.document for r in rows)
        raise AmbiguousDocumentError(
            f"{reference!r} names several documents ({kinds}): use KIND:ID"
        )
    return rows[0]


def history(system: System, reference: str, org: str | None) -> tuple[StatusRow, list[Any]]:
    """A document's row and every event of its history, in order."""
    refresh(system)
    row = resolve(system, reference, org)
    return row, list(system.ledger.events_of(UUID(row.doc_id)))


# commands -------------------------------------------------------------------------------------


@dataclass
class CommandReport:
    """What a sync or retry did, document by document."""

    done: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def _rows_for(
    system: System, references: Iterable[str], org: str | None, report: CommandReport
) -> list[StatusRow]:
    rows: list[StatusRow] = []
    for reference in references:
        try:
            rows.append(resolve(system, reference, org))
        except (DocumentNotFoundError, AmbiguousDocumentError) as exc:
            report.refused.append(str(exc))
    return rows


def retry(
    system: System,
    references: Iterable[str],
    *,
    failed: bool,
    org: str | None,
    reason: str = "retry requested by a user",
) -> CommandReport:
    """Append a retry request for each Failed document named (or every Failed one); ``reason``
    (who asked, and where) is recorded with it."""
    refresh(system)
    report = CommandReport()
    if failed:
        rows = [v.row for v in system.status_store.rows(StatusFilter(org=org, status=FAILED))]
    else:
        rows = _rows_for(system, references, org, report)
    retried: set[str] = set()
    for row in sorted(rows, key=lambda r: r.kind != "invoice"):  # invoices before payments
        try:
            system.ledger.request_retry(UUID(row.doc_id), reason)
        except InvalidRequestError as exc:
            if row.invoice_doc in retried and _no_longer_failed(system, row):
                # retrying its invoice in this same command brought it back in line
                report.done.append(f"{row.number} ({row.document}): retried with its invoice")
            else:
                report.refused.append(str(exc))
        else:
            retried.add(row.doc_id)
            report.done.append(f"{row.number} ({row.document}): retry requested")
    return report


def _no_longer_failed(system: System, row: StatusRow) -> bool:
    catch_up(system.status, system.log)
    return all(
        found.status != FAILED
        for found in system.status_store.find(row.document, row.org)
        if found.doc_id == row.doc_id
    )


@dataclass
class SyncPlan:
    """The documents a ``sync`` would request, and the references it could not use."""

    rows: list[StatusRow]
    refused: list[str]


def plan_sync(
    system: System,
    references: Iterable[str],
    *,
    not_attempted: bool,
    org: str | None,
    since: date | None = None,
) -> SyncPlan:
    """The Not Attempted documents to request: the ones named, or every one (of ``org``,
    dated on or after ``since``); invoices first, oldest first."""
    refresh(system)
    report = CommandReport()
    if not_attempted:
        rows = [
            v.row
            for v in system.status_store.rows(StatusFilter(org=org, status=NOT_ATTEMPTED))
            if v.row.note is None and (since is None or (v.row.doc_date or "") >= since.isoformat())
        ]
        rows.sort(key=lambda r: (r.kind != "invoice", r.moment or "", r.number))
    else:
        rows = _rows_for(system, references, org, report)
    unique = list({r.doc_id: r for r in rows}.values())
    return SyncPlan(unique, report.refused)


def estimate(system: System, rows: Sequence[StatusRow]) -> list[str]:
    """How many Xero calls a sync will take per organisation, and how long at its limits."""
    lines: list[str] = []
    states = {s.org: s for s in system.org_state.all()}
    budget = system.settings.org_minute_budget
    window = system.settings.limit_window_seconds
    by_org: dict[str, list[StatusRow]] = {}
    for row in rows:
        by_org.setdefault(row.org, []).append(row)
    for org, docs in sorted(by_org.items()):
        customers = {r.email or r.customer for r in docs if r.kind == "invoice"}
        calls = len(docs) + len(customers)
        minutes = calls / budget * window / 60
        state = states.get(org)
        day = state.day_remaining if state is not None else None
        text = (
            f"organisation {org}: {counted(len(docs), 'document')}, "
            f"about {counted(calls, 'Xero call')} "
            f"(up to {len(customers)} contact lookups), about {minutes:.1f} minutes at "
            f"{budget} calls a minute"
        )
        if day is not None:
            text += f"; Xero reported {day} calls left today"
            if calls > day:
                text += " (more than that: the rest waits for tomorrow's allowance)"
        lines.append(text)
    return lines


def sync(
    system: System,
    references: Iterable[str],
    *,
    not_attempted: bool,
    org: str | None,
    since: date | None = None,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
    reason: str = "sync requested by a user",
) -> CommandReport:
    """Request delivery of Not Attempted documents (named, or all of them); an invoice brings
    its Not Attempted paid payments along. ``reason`` (who asked) is recorded with each."""
    plan = plan_sync(system, references, not_attempted=not_attempted, org=org, since=since)
    report = CommandReport(refused=list(plan.refused))
    seen: set[str] = set()
    for row in plan.rows:
        if progress is not None:
            progress(1)
        if row.doc_id in seen:
            continue
        seen.add(row.doc_id)
        if dry_run:
            report.done.append(f"{row.number} ({row.document}): would be sent")
            continue
        try:
            system.ledger.request_sync(UUID(row.doc_id), reason)
        except InvalidRequestError as exc:
            report.refused.append(str(exc))
            continue
        report.done.append(f"{row.number} ({row.document}): sync requested")
        if row.kind == "invoice":
            for payment in system.status_store.payments_of(row.doc_id):
                if payment.doc_id in seen or payment.status != NOT_ATTEMPTED or not payment.visible:
                    continue
                seen.add(payment.doc_id)
                try:
                    system.ledger.request_sync(
                        UUID(payment.doc_id), f"{reason}, with its invoice {row.number}"
                    )
                except InvalidRequestError:
                    continue
                report.done.append(f"{payment.number} ({payment.document}): sync requested")
    return report


def synced_documents(system: System, org_id: str) -> int:
    """How many of an organisation's documents are in Xero (fresh)."""
    refresh(system)
    return sum(
        1
        for view in system.status_store.rows(StatusFilter(org=org_id, include_hidden=True))
        if view.row.xero_id is not None or view.row.credit_note_id is not None
    )


def connect(
    system: System,
    org_id: str,
    xero_url: str,
    tenant_id: str,
    at: datetime | None,
    method: str = "manual",
    *,
    switch_tenant: bool = False,
) -> tuple[Organisation, list[str]]:
    """Record a connection; documents already recorded as issued (or paid) at or after its
    time are requested now, as they would have been had the connection come first. Moving the
    organisation to another Xero organisation than its synced documents' is refused unless
    ``switch_tenant``."""
    moment = at or datetime.now(UTC)
    org = system.ledger.connect(
        org_id,
        xero_url,
        tenant_id,
        moment,
        method,
        switch_tenant=switch_tenant,
        synced_documents=synced_documents(system, org_id),
    )
    refresh(system)
    requested: list[str] = []
    policy = org.policy()
    for view in list(system.status_store.rows(StatusFilter(org=org_id, status=NOT_ATTEMPTED))):
        row = view.row
        if row.note is not None or row.moment is None:
            continue
        document = system.ledger.document(UUID(row.doc_id))
        when = _moment_of(document)
        if when is None or not policy.covers(when):
            continue
        try:
            system.ledger.request_sync(UUID(row.doc_id), "issued after the Xero connection time")
        except InvalidRequestError:
            continue
        requested.append(row.number)
    return org, requested


def _moment_of(document: Document) -> datetime | None:
    if isinstance(document, Invoice):
        return document.issued_at
    if isinstance(document, Payment):
        return document.paid_at
    return None


def replay(
    system: System,
    which: str,
    *,
    dry_run: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, int]:
    """Drop and rebuild projections from the log; return how many events each applied.
    ``progress(name, done, total)`` is called after every batch."""
    names = list(system.projections) if which == "all" else [which]
    applied: dict[str, int] = {}
    head = system.log.head()
    if dry_run:  # a rebuild applies the whole log to each projection: count what it would
        size = log_size(system)
        return {name: size for name in names}
    for name in names:
        projection = system.projections[name]
        projection.reset()
        done = 0

        def step(count: int, name: str = name) -> None:
            nonlocal done
            done += count
            if progress is not None:
                progress(name, done, head)

        applied[name] = catch_up(projection, system.log, progress=step)
    return applied


def log_size(system: System) -> int:
    """How many events the log holds (positions may have gaps on PostgreSQL: counted, not
    inferred from the head)."""
    count, after = 0, 0
    while True:
        batch = system.log.read(after, 5000, wanted=lambda _topic: False)
        if not batch:
            return count
        count += len(batch)
        after = batch[-1].position


def replay_document(
    system: System, reference: str, org: str | None, *, dry_run: bool, echo: Callable[[str], Any]
) -> list[str]:
    """Re-drive one document's open deliveries now (idempotent: what is Synced sends nothing);
    with ``dry_run``, print each call that would be made instead."""
    refresh(system)
    row = resolve(system, reference, org)
    messages = [m for m in system.outbox_store.messages(row.doc_id) if m.state in OPEN_STATES]
    if not messages:
        return [f"nothing to send: {row.number} ({row.document}) is {row.status}"]
    lines: list[str] = []
    for message in messages:
        if message.state == WAITING:
            lines.append(f"{row.number}: {message.operation} waits for another document")
            continue
        if dry_run:
            lines.append(f"{row.number}: {message.operation} would make these calls:")
            document = system.ledger.document(UUID(row.doc_id))
            organisation = system.ledger.organisation(document.org_id)
            if organisation is None or organisation.connection is None:
                lines.append("  (the organisation is not connected)")
                continue
            client = DryRunXero(organisation.connection.tenant_id, echo)
            for line in lines:
                echo(line)
            lines = []
            outcome = Delivery(
                system.ledger,
                client,
                organisation.connection.tenant_id,
                numbers=system.outbox_store.number_users,
            ).run(message, document, organisation)
            lines.append(f"  → {type(outcome).__name__.lower()}: {_outcome_text(outcome)}")
            continue
        system.outbox_store.defer(message.id, 0.0)
        lines.append(f"{row.number}: {message.operation} is due now; the relay will send it")
    return lines


def _outcome_text(outcome: Any) -> str:
    for attribute in ("detail", "error", "reason"):
        value = getattr(outcome, attribute, None)
        if value:
            return str(value)
    return ""


@dataclass
class Health:
    """What ``health`` reports: projection lag, outbox depth, and each organisation."""

    head: int
    projections: dict[str, dict[str, int]]
    outbox: dict[str, int]
    oldest_pending_seconds: float | None
    organisations: list[dict[str, Any]]
    relay_running: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "log_head": self.head,
            "projections": self.projections,
            "outbox": self.outbox,
            "oldest_pending_seconds": self.oldest_pending_seconds,
            "organisations": self.organisations,
            "relay_running": self.relay_running,
        }


def health(system: System, relay_running: bool) -> Health:
    """A read-only report (it brings nothing up to date, so lag is real)."""
    now = time.time()
    head = system.log.head()
    projections = {
        name: {"position": p.position(), "lag": head - p.position()}
        for name, p in system.projections.items()
    }
    depth = {state: 0 for state in ("ready", "waiting", "done", "failed", "dropped")}
    depth.update(system.outbox_store.depth())
    depth["claimed"] = system.outbox_store.claimed()
    oldest = system.outbox_store.oldest_open()
    states = {s.org: s for s in system.org_state.all()}
    orgs = sorted(set(states) | {o.org for o in system.status_store.organisations()})
    organisations: list[dict[str, Any]] = []
    for org_id in orgs:
        organisation = system.ledger.organisation(org_id)
        connection = organisation.connection if organisation else None
        state = states.get(org_id)
        parked = state is not None and state.parked(now)
        organisations.append(
            {
                "org": org_id,
                "connected": connection is not None,
                "tenant_id": connection.tenant_id if connection else None,
                "connection_method": connection.method if connection else None,
                "calls_left_this_minute": state.minute_remaining if state else None,
                "calls_left_today": state.day_remaining if state else None,
                "limits_observed_at": _iso(state.observed_at) if state else None,
                "parked_until": _iso(state.parked_until) if state and parked else None,
                "parked_reason": state.parked_reason if state and parked else None,
                "last_answer": state.answer if state else None,
                "last_answer_at": _iso(state.answered_at) if state else None,
                "reached": state.reached if state else None,
            }
        )
    return Health(
        head=head,
        projections=projections,
        outbox=depth,
        oldest_pending_seconds=round(now - oldest, 1) if oldest is not None else None,
        organisations=organisations,
        relay_running=relay_running,
    )


def _iso(epoch: float | None) -> str | None:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds") if epoch else None


def connect_oauth(
    system: System,
    org_id: str,
    request: OAuthRequest,
    at: datetime | None,
    *,
    custom: bool,
    echo: Callable[[str], Any],
    choose: Callable[[Sequence[Tenant]], Tenant] | None,
    switch_tenant: bool = False,
) -> tuple[Organisation, list[str], Tenant]:
    """Connect through OAuth (or a custom connection): store the tokens sealed, then record
    the connection in the ledger (a switch of Xero organisation is refused before the tokens
    are stored, unless ``switch_tenant``)."""
    _ = system.tokens.box  # refuse before the browser dance if tokens could not be stored
    if custom:
        tokens, tenant = custom_connection(request, system.xero)
    else:
        tokens, tenant = authorize(request, system.xero, echo, choose)
    existing = system.ledger.organisation(org_id)
    if existing is not None and not switch_tenant:
        # the same check as ``connect``'s, before the new tokens replace the old ones
        existing.connect(
            request.urls.api,
            tenant.tenant_id,
            at or datetime.now(UTC),
            CUSTOM if custom else OAUTH,
            synced_documents=synced_documents(system, org_id),
        )
    now = datetime.now(UTC)
    system.tokens.save(stored(org_id, request, tokens, tenant, custom=custom, now=now))
    org, requested = connect(
        system,
        org_id,
        request.urls.api,
        tenant.tenant_id,
        at,
        CUSTOM if custom else OAUTH,
        switch_tenant=switch_tenant,
    )
    return org, requested, tenant


def disconnect(system: System, org_id: str) -> list[str]:
    """Revoke an organisation's tokens (best effort), forget them, and record the
    disconnection; returns notes on what could not be done at Xero."""
    notes: list[str] = []
    saved = system.tokens.load(org_id) if system.tokens.has(org_id) else None
    if saved is not None:
        identity = system.xero.identity(saved.urls, saved.client_id, saved.client_secret)
        try:
            if saved.connection_id and saved.access_token:
                identity.delete_connection(saved.access_token, saved.connection_id)
            if saved.refresh_token:
                identity.revoke(saved.refresh_token)
        except XeroError as exc:
            notes.append(f"Xero did not confirm the revocation ({exc}); the tokens are forgotten")
        system.tokens.delete(org_id)
    system.ledger.disconnect(org_id, "disconnected by a user")
    return notes


def relay_running(system: System) -> bool:
    """True if a relay is running against this database (the SQLite lock is held, or a
    relay heartbeated on PostgreSQL within its lease time)."""
    if system.is_postgres:
        lease = system.settings.relay_org_lease_seconds
        return bool(system.leases.live(time.time(), lease))
    return RelayLock(system.settings.db).held_elsewhere()


OUR_TABLES: tuple[str, ...] = (
    "status_documents",
    "status_organisations",
    "status_tracking",
    "outbox_messages",
    "outbox_documents",
    "outbox_organisations",
    "outbox_numbers",
    "outbox_tracking",
    "audit_aggregates",
    "audit_events",
    "audit_calls",
    "audit_failures",
    "audit_timings",
    "audit_xero_ids",
    "audit_tracking",
    "relay_organisations",
    "relay_leases",
    "relay_instances",
    "xero_connections",
    "web_users",
    "web_sessions",
    "web_webhook_secrets",
)


def expected_tables(postgres: bool) -> tuple[str, ...]:
    """Every table a complete syncledger database has."""
    return ("ledger_events" if postgres else "stored_events", *OUR_TABLES)


def db_init(system: System) -> set[str]:
    """Every table exists once the system is open (it creates what is missing); the tables."""
    return system.database.tables()


def db_check(settings: Settings) -> tuple[str, list[str], list[str]]:
    """What a database holds and lacks, without creating anything: (description, present,
    missing)."""
    existing = existing_tables(settings)
    description = describe_database(settings)
    if existing is None:
        return f"SQLite {description} (no such file)", [], list(expected_tables(False))
    expected = expected_tables(settings.is_postgres)
    present = [t for t in expected if t in existing]
    missing = [t for t in expected if t not in existing]
    kind = "PostgreSQL" if settings.is_postgres else "SQLite"
    return f"{kind} {description}", present, missing
