"""Invoice numbers: the number an invoice is sent to Xero with.

Xero keeps sales invoice numbers unique per organisation, so one number can belong to one Xero
invoice only. The documents of an organisation that were issued with a number are known in the
order the ledger recorded their issue (the outbox keeps that index); at send time
``choose_number`` decides from their current state: the first one sends the number itself; a
later one may send it only when every earlier one is cancelled and never reached Xero. A reissue
of a cancelled invoice's number fails with that reason, unless the organisation asked for
reissues to be numbered NUMBER-2, NUMBER-3 … (by the order OpenSolar issued them, so the choice
never changes between attempts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

MAX_NUMBER_LENGTH = 255


def number_key(number: str) -> str:
    """How Xero compares invoice numbers: trimmed and case-insensitive."""
    return " ".join(number.split()).casefold()


class NumberUser(Protocol):
    """What ``choose_number`` needs to know of an invoice that used a number."""

    @property
    def reference(self) -> str: ...

    @property
    def is_cancelled(self) -> bool: ...

    def uses_number(self, number: str) -> bool:
        """True if the invoice carries ``number`` now or holds a Xero invoice with it."""
        ...

    def may_hold_number(self, number: str) -> bool:
        """True if a Xero invoice with ``number`` is (or may be) this invoice's."""
        ...


@dataclass(frozen=True)
class NumberChoice:
    """The number to send, or why the invoice cannot be sent (and what to do)."""

    number: str | None
    error: str = ""
    action: str = ""
    reissue_of: str | None = None


def suffixed(number: str, ordinal: int) -> str:
    """The number a reissue is sent as: NUMBER-2, NUMBER-3 …"""
    return f"{number}-{ordinal}"


def choose_number(
    number: str,
    earlier: list[NumberUser],
    ordinal: int,
    *,
    suffix: bool,
    org_id: str,
    reference: str,
) -> NumberChoice:
    """The Xero number for an invoice numbered ``number`` whose ``earlier`` users were recorded
    before it (it is the ``ordinal``-th user of the number)."""
    sharing = [e for e in earlier if e.uses_number(number)]
    live = [e for e in sharing if not e.is_cancelled]
    if live:
        names = ", ".join(e.reference for e in live)
        return NumberChoice(
            None,
            f"invoice number {number} is also used by {names}, which is not cancelled in "
            "OpenSolar; Xero gives each invoice a number of its own, so syncledger sent neither "
            "twice",
            f"correct the number of one of them in OpenSolar (this one follows automatically), "
            f"or cancel {names} in OpenSolar",
        )
    holding = [e for e in sharing if e.may_hold_number(number)]
    if not holding:
        return NumberChoice(number)
    held_by = holding[0].reference
    if suffix:
        chosen = suffixed(number, ordinal)
        if len(chosen) > MAX_NUMBER_LENGTH:
            return NumberChoice(
                None,
                f"reissue of {held_by}: {number} with the suffix -{ordinal} would be longer "
                f"than Xero's {MAX_NUMBER_LENGTH} characters",
                "give the reissue a shorter number in OpenSolar",
            )
        return NumberChoice(chosen, reissue_of=held_by)
    return NumberChoice(
        None,
        f"invoice number {number} belongs in Xero to {held_by}, cancelled in OpenSolar and "
        "cancelled in Xero; Xero invoice numbers are unique, so this reissue was not sent (and "
        f"{held_by}'s Xero invoice was not reused)",
        f"give the reissue a new number in OpenSolar, or run `syncledger config number-suffix "
        f"{org_id} on` and then `syncledger retry {reference}` to send it as "
        f"{suffixed(number, ordinal)}",
    )
