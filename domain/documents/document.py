"""What invoices and payments share: the changes received, and the sync lifecycle.

A document asks for one delivery at a time (``request_sync``), and a request is resolved once:
by Xero's answer (``record_success``), a final failure (``record_failure``, or ``refuse`` with no
call at all) or nothing left to send (``skip_open``, ``record_skip``). A success Xero reports for a
request already resolved is still recorded, because it is a fact about Xero. A final failure is
asked for again when a person retries, or by itself once the document's content changed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from domain.documents.events import DocumentEvents, Outcome, Request
from domain.errors import InvalidRequestError
from domain.ids import document_id
from domain.opensolar import Change, InvoiceFields, PaymentFields
from domain.organisation import NO_CONNECTION, Connection, Policy
from domain.vocabulary import DocumentKind, Operation


def policy_of(given: Policy | Connection | None) -> Policy:
    """A document's view of its organisation from a ``Policy`` or (for callers and tests that
    have only a connection) a ``Connection``."""
    if isinstance(given, Policy):
        return given
    if isinstance(given, Connection):
        return Policy(given.connected_at, True, given.tenant_id)
    return NO_CONNECTION


class Document(DocumentEvents):
    """Behaviour shared by invoices and payments: changes received, and the sync lifecycle."""

    kind: ClassVar[DocumentKind]
    first_delivery: ClassVar[Operation]
    """The operation that puts the document in Xero."""

    def __init__(self, org_id: str, opensolar_id: str) -> None:
        self.org_id = org_id
        self.opensolar_id = opensolar_id
        self.seen_event_ids: set[str] = set()
        self.last_change_at: datetime | None = None
        self.open_request: Request | None = None
        self.last_outcome: Outcome | None = None
        self.resolved: set[int] = set()
        self.failed_for: dict[str, object] = {}
        """Operations that failed for good, with the content they failed for: asked again
        automatically only once the content changes (or a person retries)."""
        self.attempts = 0
        self.failures_in_row = 0
        self.amendment_error: str | None = None
        self.tenant_id: str | None = None
        """The Xero organisation the document's Xero records are in."""

    @classmethod
    def start(cls, org_id: str, opensolar_id: str) -> Any:
        """Begin the history of a document the ledger has not seen before."""
        return cls._create(
            cls.Received,
            id=document_id(org_id, cls.kind, opensolar_id),
            org_id=org_id,
            opensolar_id=opensolar_id,
        )

    @property
    def reference(self) -> str:
        """The document reference used on the CLI, e.g. ``invoice:1042``."""
        return f"{self.kind}:{self.opensolar_id}"

    # state helpers (used by the events' apply) -----------------------------------------------

    def resolve(self, request_version: int) -> None:
        """The request ``request_version`` has its final outcome."""
        self.resolved.add(request_version)
        if self.open_request is not None and self.open_request.version == request_version:
            self.open_request = None

    def mark_attempted(self, request_version: int) -> None:
        """An attempt of the open request was recorded."""
        request = self.open_request
        if request is not None and request.version == request_version and not request.attempted:
            self.open_request = Request(
                request.version,
                request.operation,
                request.reason,
                request.retry,
                True,
                request.depends_on,
            )

    def take(self, change: Change) -> None:
        """Apply a change's content to the current state (and, per kind, its fields)."""
        self.seen_event_ids.add(change.event_id)
        self.last_change_at = change.timestamp

    def content(self) -> object:
        """What the document says now, as one comparable value (per kind)."""
        return None

    def on_success(self, event: Any) -> None:
        """Apply a successful delivery to the document's Xero state (per kind)."""

    def receive(self, change: Change, policy: Policy | Connection | None) -> None:
        """Record one OpenSolar change, and ask for what it calls for in Xero (a change already
        recorded is left out; one older than the last applied is recorded as ignored)."""
        if self.has_seen(change):
            return
        if self._is_older(change):
            self._ignore_older(change)
            return
        self._receive(change, policy_of(policy))

    def _receive(self, change: Change, policy: Policy) -> None:
        """Apply a new change (per kind)."""

    def has_seen(self, change: Change) -> bool:
        """True if this change (by ``event_id``) is already recorded."""
        return change.event_id in self.seen_event_ids

    def _is_older(self, change: Change) -> bool:
        return self.last_change_at is not None and change.timestamp < self.last_change_at

    def _ignore(self, change: Change, reason: str) -> None:
        self.trigger_event(self.ChangeIgnored, change=change, reason=reason)

    def _ignore_older(self, change: Change) -> None:
        last = self.last_change_at.isoformat() if self.last_change_at else "?"
        when = change.timestamp.isoformat()
        self._ignore(change, f"older ({when}) than the change already applied ({last})")

    @property
    def is_failed(self) -> bool:
        """True while the last outcome is a final failure and nothing is requested."""
        outcome = self.last_outcome
        return (
            self.open_request is None
            and outcome is not None
            and not outcome.succeeded
            and outcome.final
        )

    def in_other_tenant(self, policy: Policy) -> bool:
        """True if the document's Xero records are in another Xero organisation than the one
        the organisation is connected to now (it was switched)."""
        return (
            self.tenant_id is not None
            and policy.tenant_id is not None
            and self.tenant_id != policy.tenant_id
        )

    # sync lifecycle --------------------------------------------------------------------------

    def request_sync(self, operation: str, reason: str) -> None:
        """Ask for a delivery to Xero."""
        if self.open_request is not None:
            raise InvalidRequestError(
                f"{self.reference} already has a delivery pending ({self.open_request.operation})"
            )
        self._ask(self.SyncRequested, operation, reason)

    def _ask_again(self, operation: str, reason: str) -> None:
        """Ask again for a delivery that failed for good."""
        self._ask(self.RetryRequested, operation, reason)

    def _ask(self, event: type[DocumentEvents.DeliveryRequested], operation: str, why: str) -> None:
        self.trigger_event(
            event,
            operation=operation,
            reason=why,
            depends_on=self.dependency(operation),
            group=self.group(operation),
        )

    def request_sync_now(self, connection: Connection | Policy | None, reason: str) -> None:
        """Ask for a Not Attempted document to be pushed (``sync``)."""
        policy = policy_of(connection)
        if policy.tenant_id is None:
            raise InvalidRequestError(
                f"{self.reference}: organisation {self.org_id} is not connected to Xero; "
                "run `syncledger connect` first"
            )
        self.check_sync_now()
        if self.open_request is not None:
            raise InvalidRequestError(f"{self.reference} is already Pending")
        if self.last_outcome is not None and not self.last_outcome.succeeded:
            raise InvalidRequestError(f"{self.reference} is Failed: use `syncledger retry`")
        self.request_sync(self.first_delivery, reason)

    def check_sync_now(self) -> None:
        """Raise ``InvalidRequestError`` if what the document is forbids a push now (per kind)."""

    def refuse(self, operation: str, error: str, category: str, action: str) -> None:
        """Record that a delivery cannot be made, with the reason and what to do, without any
        call (the open request fails; with none open, one is recorded and fails at once)."""
        if self.open_request is None:
            self.request_sync(operation, "asked for, and refused before any call")
        request = self.open_request
        if request is None:  # unreachable: a request was just recorded
            return
        self.trigger_event(
            self.SyncFailed,
            operation=request.operation,
            request_version=request.version,
            error=error,
            category=category,
            final=True,
            retry_at=None,
            calls=[],
            action=action,
        )

    def skip_open(self, reason: str) -> None:
        """End the open request with nothing sent."""
        request = self.open_request
        if request is not None:
            self.trigger_event(
                self.SyncSkipped,
                operation=request.operation,
                request_version=request.version,
                reason=reason,
                calls=[],
            )

    def dependency(self, operation: str) -> str | None:
        """The document a delivery must wait for (a payment waits for its invoice)."""
        return None

    def group(self, operation: str) -> str:
        """The invoice (ledger id) a delivery belongs with (an invoice's own id)."""
        return str(self.id)

    def check_retry(self, operation: str, policy: Policy) -> None:
        """Raise ``InvalidRequestError`` if a retry of ``operation`` could never proceed."""
        if self.in_other_tenant(policy):
            raise InvalidRequestError(
                f"{self.reference} was synced to Xero organisation {self.tenant_id}; the "
                f"organisation is now connected to {policy.tenant_id}: nothing to retry here"
            )

    def request_retry(
        self, reason: str = "retry requested", policy: Policy = NO_CONNECTION
    ) -> None:
        """Ask for the failed delivery to be tried again."""
        outcome = self.last_outcome
        if self.open_request is not None:
            raise InvalidRequestError(f"{self.reference} is already Pending; nothing to retry")
        if outcome is None or outcome.succeeded or not outcome.final:
            raise InvalidRequestError(f"{self.reference} is not Failed; nothing to retry")
        self.check_retry(outcome.operation, policy)
        self._ask_again(outcome.operation, reason)

    def _retry_if_changed(self, operation: str, reason: str) -> None:
        """A final failure of ``operation`` is tried again once the document's content changed
        (the failure was about what it said then)."""
        if (
            self.is_failed
            and self.last_outcome is not None
            and self.last_outcome.operation == operation
            and self.failed_for.get(operation, self.content()) != self.content()
        ):
            self._ask_again(operation, reason)

    def record_success(
        self,
        operation: str,
        request_version: int,
        xero_id: str,
        sent: InvoiceFields | PaymentFields | None,
        detail: str,
        calls: list[dict[str, Any]],
        *,
        tenant_id: str | None = None,
        xero: dict[str, Any] | None = None,
    ) -> bool:
        """Record that Xero accepted a delivery of ``sent``. A request resolved meanwhile (by a
        skip or a failure) still gets Xero's answer recorded, as a fact; False when nothing new
        was learned (the same success recorded before)."""
        if not self._is_open(request_version) and self._already_known(
            operation, request_version, xero_id
        ):
            return False
        self.trigger_event(
            self.SyncSucceeded,
            operation=operation,
            request_version=request_version,
            xero_id=xero_id,
            sent=sent,
            detail=detail,
            calls=calls,
            tenant_id=tenant_id,
            xero=xero,
        )
        return True

    def _already_known(self, operation: str, request_version: int, xero_id: str) -> bool:
        """True if a success for this resolved request adds nothing (per kind)."""
        return request_version in self.resolved

    def record_failure(
        self,
        operation: str,
        request_version: int,
        error: str,
        category: str,
        *,
        final: bool,
        retry_at: datetime | None,
        calls: list[dict[str, Any]],
        action: str = "",
    ) -> bool:
        """Record a failed delivery; False if the request was already resolved."""
        if not self._is_open(request_version):
            return False
        self.trigger_event(
            self.SyncFailed,
            operation=operation,
            request_version=request_version,
            error=error,
            category=category,
            final=final,
            retry_at=retry_at,
            calls=calls,
            action=action,
        )
        return True

    def record_skip(
        self, operation: str, request_version: int, reason: str, calls: list[dict[str, Any]]
    ) -> bool:
        """Record that a delivery ended with nothing to send; False if already resolved."""
        return self._record_on_open(self.SyncSkipped, operation, request_version, reason, calls)

    def record_deferral(
        self, operation: str, request_version: int, reason: str, calls: list[dict[str, Any]]
    ) -> bool:
        """Record calls of a delivery that has to wait; False if the request was resolved."""
        return self._record_on_open(self.SyncDeferred, operation, request_version, reason, calls)

    def _record_on_open(
        self,
        event: type[DocumentEvents.Noted],
        operation: str,
        request_version: int,
        reason: str,
        calls: list[dict[str, Any]],
    ) -> bool:
        if not self._is_open(request_version):
            return False
        self.trigger_event(
            event,
            operation=operation,
            request_version=request_version,
            reason=reason,
            calls=calls,
        )
        return True

    def _is_open(self, request_version: int) -> bool:
        return self.open_request is not None and self.open_request.version == request_version

    def request_next(self, policy: Policy) -> None:
        """Ask for what brings Xero in line with the document, if anything (per kind)."""


PACKAGE = "domain.documents"
"""The module name every document class and event is filed under (see ``file_under_package``)."""


def file_under_package(cls: type) -> None:
    """Give ``cls``'s own event classes the package's module name, as ``cls`` has (its body sets
    ``__module__``), so that eventsourcing stores their topics as ``domain.documents:Invoice.X``,
    the names written since the first release, although the classes live in submodules. Call it
    right after the class statement, before any topic is computed."""
    for value in vars(cls).values():
        if isinstance(value, type) and value.__module__ != PACKAGE:
            value.__module__ = PACKAGE
