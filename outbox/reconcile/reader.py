"""Reading what Xero holds for one tenant: sales invoices, credit notes and payments page by page
through a ``XeroClient`` (so tokens, timeouts and error classification are the client's), and the
tax table, honouring 429 ``Retry-After`` and retrying transient failures a few times.

Errors: ``ReconcileError`` when Xero cannot be read completely (a limit that would take too long
to wait for, a refused token, a persistent failure); ``XeroError``s are translated here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.vocabulary import Operation
from outbox.errors import OutboxError
from outbox.reconcile.records import (
    XeroRecord,
    XeroSnapshot,
    parse_credit_note,
    parse_invoice,
    parse_payment,
)
from outbox.xero import (
    XeroClient,
    XeroError,
    XeroNotFoundError,
    XeroRateLimitError,
    XeroTransientError,
)
from outbox.xero.taxes import rates_by_tax_type, tax_types_by_account

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

Progress = Callable[[str, int, int | None], None]
"""Told after each page: the collection, pages read so far, and the page count when known."""
Parse = Callable[[Mapping[str, Any]], XeroRecord]


class ReconcileError(OutboxError):
    """What Xero holds could not be read completely."""


@dataclass(frozen=True)
class _Collection:
    name: str
    path: str
    where: str
    dated: bool
    parse: Parse


_COLLECTIONS: tuple[_Collection, ...] = (
    _Collection("Invoices", "/Invoices", 'Type=="ACCREC"', True, parse_invoice),
    _Collection("CreditNotes", "/CreditNotes", 'Type=="ACCRECCREDIT"', False, parse_credit_note),
    _Collection("Payments", "/Payments", 'PaymentType=="ACCRECPAYMENT"', True, parse_payment),
)
_BY_ID: dict[str, tuple[str, str, Parse]] = {
    Operation.INVOICE: ("/Invoices", "Invoices", parse_invoice),
    Operation.CREDIT_NOTE: ("/CreditNotes", "CreditNotes", parse_credit_note),
    Operation.PAYMENT: ("/Payments", "Payments", parse_payment),
}


def _datetime_literal(day: date) -> str:
    return f"DateTime({day.year},{day.month:02d},{day.day:02d})"


def _items(data: Any, collection: str) -> list[Mapping[str, Any]]:
    items = data.get(collection) if isinstance(data, Mapping) else None
    return [i for i in items or [] if isinstance(i, Mapping)]


class XeroReader:
    """Reads one tenant's records page by page, within Xero's rate limits."""

    def __init__(
        self,
        client: XeroClient,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        max_wait: float = 120.0,
        transient_attempts: int = 4,
        on_page: Progress | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ReconcileError(f"page size must be between 1 and {MAX_PAGE_SIZE}")
        self.client = client
        self.page_size = page_size
        self.max_wait = max_wait
        self.transient_attempts = transient_attempts
        self.on_page = on_page
        self.sleep = sleep
        self.calls = 0
        self.waited = 0.0

    def get(self, operation: str, path: str, params: Mapping[str, str] | None = None) -> Any:
        """One GET, waiting out 429s (``Retry-After``) and retrying transient failures."""
        transient = 0
        limited = 0
        while True:
            self.calls += 1
            try:
                return self.client.get(operation, path, params)
            except XeroRateLimitError as exc:
                limited += 1
                wait = max(exc.retry_after, 1.0)
                if exc.is_daily or wait > self.max_wait or limited > 50:
                    raise ReconcileError(
                        f"Xero's {exc.problem} limit was reached reading {path}; try again in "
                        f"{wait:.0f} s"
                    ) from exc
                self.waited += wait
                self.sleep(wait)
            except XeroNotFoundError:
                raise
            except XeroTransientError as exc:
                transient += 1
                if transient >= self.transient_attempts:
                    raise ReconcileError(f"reading {path} from Xero failed: {exc}") from exc
                self.sleep(min(2.0 ** (transient - 1), 8.0))
            except XeroError as exc:
                raise ReconcileError(f"reading {path} from Xero failed: {exc}") from exc

    def pages(self, name: str, path: str, where: str) -> Iterator[list[Mapping[str, Any]]]:
        """The items of a collection, one page at a time."""
        page = 1
        while True:
            params = {"page": str(page), "pageSize": str(self.page_size), "where": where}
            data = self.get(f"reconcile_{name.lower()}", path, params)
            found = _items(data, name)
            pagination = data.get("pagination") if isinstance(data, Mapping) else None
            count = None
            if isinstance(pagination, Mapping) and pagination.get("pageCount") is not None:
                count = int(pagination["pageCount"])
            if self.on_page is not None:
                self.on_page(name, page, count)
            yield found
            done = count is not None and page >= count
            if done or len(found) < self.page_size:
                return
            page += 1

    def snapshot(self, since: date | None = None, until: date | None = None) -> XeroSnapshot:
        """Everything the comparison needs from Xero (``until`` exclusive)."""
        snapshot = XeroSnapshot()
        self._tax(snapshot)
        for collection in _COLLECTIONS:
            where = collection.where
            if collection.dated and since is not None:
                where += f" AND Date>={_datetime_literal(since)}"
            if collection.dated and until is not None:
                where += f" AND Date<{_datetime_literal(until)}"
            for items in self.pages(collection.name, collection.path, where):
                for item in items:
                    snapshot.add(collection.parse(item))
        return snapshot

    def _tax(self, snapshot: XeroSnapshot) -> None:
        try:
            rates = self.get("reconcile_tax_rates", "/TaxRates")
            accounts = self.get("reconcile_accounts", "/Accounts")
        except (ReconcileError, XeroNotFoundError) as exc:
            snapshot.notes.append(
                f"tax rates could not be read ({exc}); totals of tax-exclusive invoices were "
                "not compared"
            )
            return
        snapshot.tax_rates = rates_by_tax_type(rates.get("TaxRates") or [])
        snapshot.account_tax = tax_types_by_account(accounts.get("Accounts") or [])

    def fetch(self, record: str, xero_id: str) -> XeroRecord | None:
        """One record by id, when the listing did not have it (None: Xero has no such record)."""
        path, collection, parse = _BY_ID[record]
        try:
            data = self.get(f"reconcile_get_{record}", f"{path}/{xero_id}")
        except XeroNotFoundError:
            return None
        found = _items(data, collection)
        return parse(found[0]) if found else None
