"""Batches of elements for one Xero call: at most 50 elements and about 3 MB of JSON (Xero's
limit is 3.5 MB; the rest is room for the envelope)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from outbox.xero import dumps

MAX_BATCH = 50
MAX_BATCH_BYTES = 3_000_000

E = TypeVar("E")


def chunks(entries: Sequence[E], body_of: Callable[[E], Any]) -> list[list[E]]:
    """Batches of at most 50 elements and about 3 MB (Xero's 3.5 MB limit, with room)."""
    batches: list[list[E]] = []
    current: list[E] = []
    size = 0
    for entry in entries:
        body_size = len(dumps(body_of(entry)))
        if current and (len(current) >= MAX_BATCH or size + body_size > MAX_BATCH_BYTES):
            batches.append(current)
            current, size = [], 0
        current.append(entry)
        size += body_size
    if current:
        batches.append(current)
    return batches
