"""Whether a relay reached Xero for each organisation: Xero's last answer per organisation (kept
for ``health``), and, for one run, the organisations it could not reach (no answer at all, or
Xero refusing the connection) or could not serve because they are not connected
(``relay --until-idle`` names them). An answer of any other kind, a 503 included, is Xero
reached: those failures are the documents', recorded on them with their action."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from domain.vocabulary import FailureCategory
from outbox.xero import CallRecord

LOST = "Xero connection lost"
"""How the relay's record of a connection Xero stopped accepting begins."""


@dataclass(frozen=True)
class Answer:
    """Xero's last answer to an organisation's calls: when, what, and whether it was reached."""

    at: float
    text: str
    reached: bool


def answer_of(
    calls: Sequence[CallRecord], category: str | None, error: str | None, at: float
) -> Answer | None:
    """What one delivery's calls tell of the organisation's connection (None: no call made)."""
    last = calls[-1] if calls else None
    if last is None and error is None:
        return None
    status = last.status if last is not None else None
    reached = category != FailureCategory.AUTHENTICATION and (error is None or status is not None)
    if error is not None:
        text = f"{error}" if status is not None else f"no answer: {error}"
    else:
        assert last is not None
        text = f"{last.status} to {last.method} {last.path}"
    return Answer(at, text, reached)


@dataclass
class Reach:
    """One relay's record of which organisations it reached (thread-safe)."""

    clock: Callable[[], float]
    unreachable: dict[str, str] = field(default_factory=dict)
    """Per organisation, why this run could not reach Xero for it (cleared once it does)."""
    unconnected: dict[str, int] = field(default_factory=dict)
    """Per organisation, deliveries this run left waiting because it is not connected."""
    _answers: dict[str, Answer] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def note(
        self,
        org: str,
        calls: Sequence[CallRecord],
        category: str | None = None,
        error: str | None = None,
    ) -> None:
        """Record what one delivery for ``org`` met."""
        answer = answer_of(calls, category, error, self.clock())
        if answer is None:
            return
        with self._lock:
            self._answers[org] = answer
            if answer.reached:
                self.unreachable.pop(org, None)
            else:
                self.unreachable[org] = answer.text

    def not_connected(self, org: str, count: int) -> None:
        """``count`` deliveries for ``org`` wait for a connection."""
        with self._lock:
            self.unconnected[org] = self.unconnected.get(org, 0) + count

    def connected_again(self, org: str) -> None:
        """The organisation was served after all (it was connected meanwhile)."""
        with self._lock:
            self.unconnected.pop(org, None)

    def take_answers(self) -> dict[str, tuple[float, str, bool]]:
        """The answers noted since the last call, for the operational table."""
        with self._lock:
            taken, self._answers = self._answers, {}
        return {org: (a.at, a.text, a.reached) for org, a in taken.items()}
