"""Xero's answers read back: the one object a single write or read returns (its validation
errors raised as classified errors), every element of a ``summarizeErrors=false`` batch answer
with its own messages, and the items of a collection."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from outbox.xero.errors import (
    DUPLICATE_MESSAGES,
    XeroDuplicateNumberError,
    XeroRejectedError,
    XeroTransientError,
    element_errors,
)

ELEMENT_FAILED = "Xero reported an error on this element"
GONE = frozenset({"VOIDED", "DELETED"})
"""The statuses of a document voided or deleted in Xero."""


@dataclass(frozen=True)
class Element:
    """One element of a batch answer: Xero's object, and its validation messages if it failed."""

    data: dict[str, Any]
    messages: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.messages

    @property
    def duplicate_number(self) -> bool:
        """True when the element failed only because its number is already used."""
        return bool(self.messages) and all(
            any(d in m for d in DUPLICATE_MESSAGES) for m in self.messages
        )


def _messages(element: Mapping[str, Any]) -> tuple[str, ...]:
    """Why Xero refused one element (empty when it did not)."""
    errors = element_errors(element)
    failed = bool(
        errors or element.get("HasErrors") or element.get("StatusAttributeString") == "ERROR"
    )
    return tuple(errors or ([ELEMENT_FAILED] if failed else []))


def first(data: Any, collection: str) -> dict[str, Any]:
    """The one element of ``collection`` Xero answered, or its refusal raised."""
    items = data.get(collection) if isinstance(data, Mapping) else None
    if not items or not isinstance(items[0], Mapping):
        raise XeroTransientError(f"Xero's answer has no {collection}", 200, uncertain=True)
    element: dict[str, Any] = dict(items[0])
    messages = list(_messages(element))
    if messages:
        if any(d in m for m in messages for d in DUPLICATE_MESSAGES):
            raise XeroDuplicateNumberError(messages)
        raise XeroRejectedError(messages)
    return element


def elements(data: Any, collection: str, sent: int) -> list[Element]:
    """Every element of a ``summarizeErrors=false`` answer, in the order sent."""
    items = data.get(collection) if isinstance(data, Mapping) else None
    if not isinstance(items, list) or len(items) != sent:
        raise XeroTransientError(
            f"Xero answered with {len(items) if isinstance(items, list) else 'no'} "
            f"{collection} for {sent} sent",
            200,
            uncertain=True,
        )
    found: list[Element] = []
    for item in items:
        data_item = dict(item) if isinstance(item, Mapping) else {}
        found.append(Element(data_item, _messages(data_item)))
    return found


def every(data: Any, collection: str) -> list[dict[str, Any]]:
    """The items of ``collection`` in an answer (none when it has none)."""
    items = data.get(collection) if isinstance(data, Mapping) else None
    return [dict(i) for i in items or [] if isinstance(i, Mapping)]
