"""The retry policy: a pure decision, from an attempt's failure, of what happens next, and the
mapping from Xero's errors to the failure categories it decides on.

Transient failures back off exponentially with jitter, up to ``max_attempts``, and then become
final ("gave up after 8 attempts: 503 Service Unavailable"); rejections and configuration errors
are final at once; rate limits wait exactly as long as Xero asks and do not count as attempts;
authentication failures and the daily limit park the whole organisation.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.vocabulary import FailureCategory
from outbox.xero import XeroAuthError, XeroError, XeroRateLimitError, XeroTransientError

CATEGORIES: tuple[FailureCategory, ...] = (
    FailureCategory.TRANSIENT,
    FailureCategory.UNCERTAIN,
    FailureCategory.REJECTED,
    FailureCategory.CONFIGURATION,
    FailureCategory.RATE_LIMITED,
    FailureCategory.DAILY_LIMIT,
    FailureCategory.AUTHENTICATION,
    FailureCategory.INTERNAL,
)
"""The categories a failed attempt may have (the ledger's own verdicts are not retried)."""


def category_of(exc: XeroError) -> tuple[FailureCategory, float | None]:
    """The retry category of a Xero failure, and how long Xero asked us to wait."""
    if isinstance(exc, XeroRateLimitError):
        category = FailureCategory.DAILY_LIMIT if exc.is_daily else FailureCategory.RATE_LIMITED
        return category, exc.retry_after
    if isinstance(exc, XeroTransientError):
        return (FailureCategory.UNCERTAIN if exc.uncertain else FailureCategory.TRANSIENT), None
    if isinstance(exc, XeroAuthError):
        return FailureCategory.AUTHENTICATION, None
    return FailureCategory.REJECTED, None


@dataclass(frozen=True)
class Decision:
    """What to do after a failed attempt.

    ``record`` says whether the failure is recorded on the document (rate limits and parked
    organisations are not the document's doing); ``final`` whether the document becomes Failed;
    ``delay`` seconds until the next attempt; ``park`` whether the whole organisation waits."""

    record: bool
    final: bool
    delay: float | None
    park: bool
    error: str


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter for transient failures."""

    max_attempts: int = 8
    base_delay: float = 2.0
    multiplier: float = 2.0
    max_delay: float = 300.0
    jitter: float = 0.5

    def backoff(self, attempt: int, rnd: float) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based); ``rnd`` in [0, 1)."""
        raw = min(self.max_delay, self.base_delay * self.multiplier ** max(0, attempt - 1))
        return raw * (1.0 - self.jitter) + raw * self.jitter * rnd

    def decide(
        self,
        category: str,
        error: str,
        attempt: int,
        rnd: float,
        retry_after: float | None = None,
    ) -> Decision:
        """The decision after attempt number ``attempt`` failed with ``category``."""
        if category not in CATEGORIES:
            raise ValueError(f"unknown failure category {category!r}")
        if category in (FailureCategory.REJECTED, FailureCategory.CONFIGURATION):
            return Decision(record=True, final=True, delay=None, park=False, error=error)
        if category == FailureCategory.RATE_LIMITED:
            wait = retry_after if retry_after is not None else self.backoff(attempt, rnd)
            return Decision(record=False, final=False, delay=wait, park=False, error=error)
        if category in (FailureCategory.DAILY_LIMIT, FailureCategory.AUTHENTICATION):
            return Decision(record=False, final=False, delay=retry_after, park=True, error=error)
        if attempt >= self.max_attempts:
            return Decision(
                record=True,
                final=True,
                delay=None,
                park=False,
                error=f"gave up after {attempt} attempts: {error}",
            )
        return Decision(
            record=True, final=False, delay=self.backoff(attempt, rnd), park=False, error=error
        )
