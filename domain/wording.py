"""Counted nouns for messages: "1 document", "2 documents", "1 credit note"."""

from __future__ import annotations

IRREGULAR = {"entry": "entries", "difference": "differences", "is": "are", "was": "were"}


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``count`` and the noun, singular for exactly one."""
    if count == 1:
        return f"1 {noun}"
    return f"{count} {plural or IRREGULAR.get(noun) or noun + 's'}"
