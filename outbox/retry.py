"""The retry policy: a pure decision, from an attempt's failure, of what happens next.

Transient failures back off exponentially with jitter, up to ``max_attempts``, and then become
final ("gave up after 8 attempts: 503 Service Unavailable"); rejections and configuration errors
are final at once; rate limits wait exactly as long as Xero asks and do not count as attempts;
authentication failures and the daily limit park the whole organisation.
"""

from __future__ import annotations

from dataclasses import dataclass

TRANSIENT = "transient"
UNCERTAIN = "uncertain"
REJECTED = "rejected"
CONFIGURATION = "configuration"
RATE_LIMITED = "rate_limited"
DAILY_LIMIT = "daily_limit"
AUTHENTICATION = "authentication"
INTERNAL = "internal"
CATEGORIES: tuple[str, ...] = (
    TRANSIENT,
    UNCERTAIN,
    REJECTED,
    CONFIGURATION,
    RATE_LIMITED,
    DAILY_LIMIT,
    AUTHENTICATION,
    INTERNAL,
)


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
        if category in (REJECTED, CONFIGURATION):
            return Decision(record=True, final=True, delay=None, park=False, error=error)
        if category == RATE_LIMITED:
            wait = retry_after if retry_after is not None else self.backoff(attempt, rnd)
            return Decision(record=False, final=False, delay=wait, park=False, error=error)
        if category in (DAILY_LIMIT, AUTHENTICATION):
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
