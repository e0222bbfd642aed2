"""Records of calls to Xero, and which documents each part of a call belongs to.

A ``CallRecord`` summarises one HTTP call (never tokens or headers). A call can carry elements of
several documents (a batch of invoices, one lookup ORed over several customers' emails), so a
record also says whose each part is: ``owners`` for a call made for documents as a whole, or a
``Split`` naming the owners of each request entry and how Xero's answer is matched back to them.
``CallRecord.view(doc)`` is the call as that document's history records it: only its own entries
and the parts of Xero's answer that belong to them, so no document's history shows another
customer's data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

_ID_FIELDS: tuple[tuple[str, str], ...] = (
    ("Contacts", "ContactID"),
    ("Invoices", "InvoiceID"),
    ("CreditNotes", "CreditNoteID"),
    ("Payments", "PaymentID"),
    ("Allocations", "AllocationID"),
)
_SUMMARY_FIELDS: tuple[str, ...] = (
    "InvoiceNumber",
    "Reference",
    "CreditNoteNumber",
    "Name",
    "EmailAddress",
    "Status",
    "StatusAttributeString",
    "CurrencyCode",
    "Total",
    "Amount",
    "AmountDue",
    "RemainingCredit",
)
MAX_SUMMARISED = 50
INDEX = "index"
"""Xero answers a batch write with one element per element sent, in order."""


@dataclass(frozen=True)
class Split:
    """How a call's parts belong to documents: ``owners[i]`` owns the i-th entry of the
    request's ``request_key`` list; Xero's answer is matched to entries by position (``INDEX``)
    or by the answer's ``match`` field equal to the entry (case-insensitive)."""

    request_key: str
    owners: tuple[tuple[str, ...], ...]
    match: str = INDEX
    entry_field: str | None = None
    """For request entries that are objects: the field compared with the answer's ``match``."""
    param: str | None = None
    """The query parameter built from the entries (a lookup's ``where``), rebuilt per document
    from its own entries by ``render``."""
    render: Callable[[Sequence[Any]], str] | None = None

    def owners_of_answer(self, request: Mapping[str, Any], index: int, item: Any) -> set[str]:
        """The documents one element of Xero's answer belongs to."""
        if self.match == INDEX:
            return set(self.owners[index]) if index < len(self.owners) else set()
        if not isinstance(item, Mapping):
            return set()
        value = str(item.get(self.match, "")).casefold()
        entries = request.get(self.request_key) or []
        found: set[str] = set()
        for position, entry in enumerate(entries):
            key = entry.get(self.entry_field) if isinstance(entry, Mapping) else entry
            if str(key).casefold() == value and position < len(self.owners):
                found |= set(self.owners[position])
        return found


@dataclass
class CallRecord:
    """One HTTP call to Xero, as the ledger records it (never tokens or headers)."""

    operation: str
    method: str
    path: str
    idempotency_key: str | None
    request: dict[str, Any]
    status: int | None = None
    outcome: str = ""
    response: dict[str, Any] = field(default_factory=dict)
    duration_ms: float = 0.0
    at: str = ""
    owners: tuple[str, ...] = ()
    """The documents a call not split by ``split`` was made for."""
    split: Split | None = None
    params: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The whole record as plain JSON data."""
        return {
            "operation": self.operation,
            "method": self.method,
            "path": self.path,
            "idempotency_key": self.idempotency_key,
            "request": self.request,
            "status": self.status,
            "outcome": self.outcome,
            "response": self.response,
            "duration_ms": self.duration_ms,
            "at": self.at,
        }

    def belongs_to(self, doc: str) -> bool:
        """True if the call carried something of ``doc``."""
        if self.split is None:
            return doc in self.owners
        return any(doc in owners for owners in self.split.owners)

    def view(self, doc: str) -> dict[str, Any] | None:
        """The call as ``doc``'s history records it, or None if it carried nothing of it."""
        if not self.belongs_to(doc):
            return None
        record = self.as_dict()
        split = self.split
        if split is None:
            return record
        entries = self.request.get(split.request_key) or []
        mine = [e for i, e in enumerate(entries) if doc in split.owners[i]]
        request = {k: v for k, v in self.request.items() if k not in (split.request_key, "count")}
        request[split.request_key] = mine
        if len(entries) > 1:
            request["batch_size"] = len(entries)
        record["request"] = request
        if split.param is not None and split.render is not None and self.params:
            params = {**self.params, split.param: split.render(mine)}
            base = self.path.split("?", 1)[0]
            record["path"] = base + "?" + "&".join(f"{k}={v}" for k, v in params.items())
        response: dict[str, Any] = {}
        for key, value in self.response.items():
            if isinstance(value, list) and key != "messages":
                response[key] = [
                    item
                    for index, item in enumerate(value)
                    if doc in split.owners_of_answer(self.request, index, item)
                ]
            else:
                response[key] = value
        record["response"] = response
        return record


def views(calls: Sequence[CallRecord], doc: str) -> list[dict[str, Any]]:
    """Every call that carried something of ``doc``, as its history records them."""
    found: list[dict[str, Any]] = []
    for call in calls:
        seen = call.view(doc)
        if seen is not None:
            found.append(seen)
    return found


def response_summary(data: Any) -> dict[str, Any]:
    """Xero ids, numbers, statuses and amounts from a response (at most 50 per collection)."""
    summary: dict[str, Any] = {}
    if not isinstance(data, Mapping):
        return summary
    for collection, id_field in _ID_FIELDS:
        items = data.get(collection)
        if not isinstance(items, list):
            continue
        summary[collection] = [
            {
                key: str(item[key])
                for key in (id_field, *_SUMMARY_FIELDS)
                if isinstance(item, Mapping) and item.get(key) is not None
            }
            for item in items[:MAX_SUMMARISED]
        ]
    return summary
