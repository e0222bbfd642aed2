"""What the web app asks of the ledger and of its own tables, as plain synchronous calls over
one ``System``. The app runs every call on a single worker thread (``Worker``), so the web side
has one System and one set of connections, used from one thread, beside the relay's own.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar
from urllib.parse import quote, urlsplit

from domain.errors import AmbiguousDocumentError, DocumentNotFoundError
from domain.vocabulary import DocumentKind, Status
from outbox.orgstate import OrgState
from outbox.secrets import SecretBox, SecretError
from projections.status import StatusFilter, StatusRow, StatusView
from syncledger import present, service
from syncledger.bootstrap import System
from syncledger.config import Settings
from syncledger.web.errors import WebError, WebhookSecretError
from syncledger.web.store import Session, User, WebStore

P = ParamSpec("P")
T = TypeVar("T")

XERO_INVOICE = "https://go.xero.com/AccountsReceivable/View.aspx?InvoiceID={id}"
XERO_CREDIT_NOTE = "https://go.xero.com/AccountsReceivable/ViewCreditNote.aspx?creditNoteID={id}"


class Worker:
    """One thread that runs every database call of the web side, in order."""

    def __init__(self, name: str = "syncledger-web-db") -> None:
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    async def call(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``func`` on the worker thread and wait for it without blocking the event loop."""
        return await asyncio.wrap_future(self._pool.submit(func, *args, **kwargs))

    def run(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``func`` on the worker thread and wait for it (from a plain thread)."""
        return self._pool.submit(func, *args, **kwargs).result()

    def close(self) -> None:
        self._pool.shutdown(wait=True)


@dataclass(frozen=True)
class Snapshot:
    """What the Payment Requests page shows for one viewer and one set of filters."""

    views: list[StatusView]
    counts: dict[str, int]
    projects: list[str]
    orgs: list[str]


@dataclass(frozen=True)
class Link:
    """A link to a document in Xero (or wherever its Xero connection points)."""

    label: str
    url: str


@dataclass(frozen=True)
class Details:
    """One document for the details panel: its row, reason, history and Xero links."""

    view: StatusView
    events: list[dict[str, Any]]
    links: list[Link] = field(default_factory=list)


class Backend:
    """The web side's calls on one System and the web tables."""

    def __init__(self, system: System, store: WebStore) -> None:
        self.system = system
        self.store = store

    @classmethod
    def open(cls, settings: Settings) -> Backend:
        """Open the system and the web tables for a database."""
        system = System.open(settings)
        try:
            if system.database is None:
                raise WebError("this ledger backend has no database for the web tables")
            return cls(system, WebStore(system.database))
        except BaseException:
            system.close()
            raise

    def close(self) -> None:
        self.system.close()

    # sessions ---------------------------------------------------------------------------------

    def user_for_login(self, email: str) -> tuple[User, str] | None:
        return self.store.user_for_login(email)

    def start_session(self, user: User, now: int, lifetime: int) -> tuple[str, Session]:
        return self.store.start_session(user, now, lifetime)

    def session(self, token: str, now: int) -> Session | None:
        return self.store.session(token, now)

    def end_session(self, token: str) -> None:
        self.store.end_session(token)

    # change endpoint --------------------------------------------------------------------------

    def webhook_secret(self, org: str) -> str | None:
        """An organisation's webhook secret (raises ``WebhookSecretError`` if it cannot be
        read, e.g. no ``SYNCLEDGER_SECRET_KEY``)."""
        try:
            box = SecretBox(self.system.settings.secret_key)
        except SecretError as exc:
            raise WebhookSecretError(str(exc)) from exc
        return self.store.webhook_secret(org, box)

    def ingest(self, objects: Sequence[Any]) -> service.IngestReport:
        """Record already validated changes in one transaction."""
        return service.ingest_objects(self.system, objects)

    # the page ---------------------------------------------------------------------------------

    def version(self) -> tuple[int, int]:
        """Changes whenever what the page shows may have changed: the log's head and the
        status projection's position."""
        return self.system.log.head(), self.system.status.position()

    def snapshot(self, org: str | None, status: str | None, project: str | None) -> Snapshot:
        """The documents of one organisation (or all, with ``org`` None), filtered, newest
        first; the counts are by status within the project filter."""
        every = service.statuses(self.system, StatusFilter(org=org))
        projects = sorted({v.row.project for v in every if v.row.project}, key=_natural)
        orgs = sorted({v.row.org for v in every}, key=_natural)
        in_project = [v for v in every if project is None or v.row.project == project]
        counts: dict[str, int] = dict.fromkeys(Status, 0)
        for view in in_project:
            counts[view.row.status] = counts.get(view.row.status, 0) + 1
        shown = [v for v in in_project if status is None or v.row.status == status]
        shown.sort(key=lambda v: (v.row.doc_date or "", _natural(v.row.number)), reverse=True)
        return Snapshot(shown, counts, projects, orgs)

    def resolve(self, doc_id: str, org: str | None) -> StatusRow:
        """The document with this id, if the viewer's scope includes it (raises
        ``DocumentNotFoundError``)."""
        try:
            row = service.resolve(self.system, doc_id, org)
        except AmbiguousDocumentError as exc:
            raise DocumentNotFoundError(str(exc)) from exc
        if row.doc_id != doc_id:
            raise DocumentNotFoundError(f"no document {doc_id!r}")
        return row

    def details(self, doc_id: str, org: str | None) -> Details:
        """A document's row, reason, history and Xero links."""
        service.refresh(self.system)
        row = self.resolve(doc_id, org)
        _, events = service.history(self.system, row.doc_id, row.org)
        view = next(
            (
                v
                for v in self.system.status_store.rows(
                    StatusFilter(org=row.org, kind=row.kind, include_hidden=True)
                )
                if v.row.doc_id == row.doc_id
            ),
            StatusView(row, None),
        )
        return Details(view, _history(events), self._links(view.row))

    def _links(self, row: StatusRow) -> list[Link]:
        organisation = self.system.ledger.organisation(row.org)
        connection = organisation.connection if organisation is not None else None
        if connection is None:
            return []
        invoice_id, credit_note_id = row.xero_id, row.credit_note_id
        if row.kind == DocumentKind.PAYMENT:
            invoice = (
                self.system.status_store.find(row.invoice_doc, row.org) if row.invoice_doc else []
            )
            invoice_id = invoice[0].xero_id if invoice else None
            credit_note_id = None
        return xero_links(connection.xero_url, connection.tenant_id, invoice_id, credit_note_id)

    # actions ----------------------------------------------------------------------------------

    def retry(self, doc_id: str, org: str | None, who: str) -> service.CommandReport:
        """Ask for a Failed document to be retried (recording who asked)."""
        service.refresh(self.system)
        row = self.resolve(doc_id, org)
        return service.retry(
            self.system, [row.doc_id], failed=False, org=row.org, reason=_asked("retry", who)
        )

    def sync(self, doc_id: str, org: str | None, who: str) -> service.CommandReport:
        """Ask for a Not Attempted document to be sent (recording who asked)."""
        service.refresh(self.system)
        row = self.resolve(doc_id, org)
        return service.sync(
            self.system, [row.doc_id], not_attempted=False, org=row.org, reason=_asked("sync", who)
        )

    def retry_failed(self, org: str | None, who: str) -> service.CommandReport:
        """Ask for every Failed document of an organisation (or of all) to be retried."""
        return service.retry(self.system, [], failed=True, org=org, reason=_asked("retry", who))

    # health -----------------------------------------------------------------------------------

    def ping(self) -> None:
        """Raise if the database cannot be read."""
        database = self.system.database
        if database is not None:
            with database.read() as tx:
                tx.one("SELECT 1")

    def lag(self) -> tuple[int, dict[str, int]]:
        """The log's head and how far behind it each projection is."""
        head = self.system.log.head()
        return head, {
            name: max(0, head - projection.position())
            for name, projection in self.system.projections.items()
        }

    def outbox_depth(self) -> dict[str, int]:
        return self.system.outbox_store.depth()

    def status_counts(self) -> dict[str, int]:
        return self.system.status_store.counts()

    def org_states(self) -> list[OrgState]:
        """Each organisation's Xero limits and parking, as the relays last saw them."""
        return self.system.org_state.all()


def _natural(text: str) -> tuple[int, int, str]:
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


def _history(events: Sequence[Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for entry, event in zip(present.history_json(events), events, strict=True):
        calls = [
            {
                "method": call.get("method"),
                "path": call.get("path"),
                "status": call.get("status"),
                "outcome": call.get("outcome"),
                "duration_ms": call.get("duration_ms"),
            }
            for call in getattr(event, "calls", None) or []
            if isinstance(call, dict)
        ]
        items.append(
            {
                "version": entry["version"],
                "time": entry["time"],
                "type": entry["type"],
                "summary": entry["summary"],
                "calls": calls,
            }
        )
    return items


def is_xero(url: str) -> bool:
    """True for Xero's own API (``https://api.xero.com``)."""
    host = (urlsplit(url).hostname or "").lower()
    return host == "xero.com" or host.endswith(".xero.com")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def xero_links(
    xero_url: str, tenant_id: str, invoice_id: str | None, credit_note_id: str | None
) -> list[Link]:
    """Where to see a document in Xero. For Xero itself, the invoice and credit note pages in
    Xero's web app; for a local sandbox, its state page; for any other Xero-compatible base URL,
    the API resources."""
    parts = urlsplit(xero_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return []
    base = xero_url.rstrip("/")
    links: list[Link] = []
    if is_xero(xero_url):
        if invoice_id:
            links.append(Link("Invoice in Xero", XERO_INVOICE.format(id=quote(invoice_id))))
        if credit_note_id:
            links.append(
                Link("Credit note in Xero", XERO_CREDIT_NOTE.format(id=quote(credit_note_id)))
            )
        return links
    if _is_loopback(parts.hostname):
        if invoice_id or credit_note_id:
            links.append(
                Link("Xero sandbox state", f"{base}/sandbox/state?tenant={quote(tenant_id)}")
            )
        return links
    if invoice_id:
        links.append(Link("Invoice (Xero API)", f"{base}/api.xro/2.0/Invoices/{quote(invoice_id)}"))
    if credit_note_id:
        links.append(
            Link(
                "Credit note (Xero API)",
                f"{base}/api.xro/2.0/CreditNotes/{quote(credit_note_id)}",
            )
        )
    return links


def _asked(action: str, who: str) -> str:
    return f"{action} requested on the Payment Requests page by {who}"
