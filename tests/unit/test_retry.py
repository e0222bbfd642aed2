"""The retry policy, as a table: failure category and attempt in, decision out."""

from __future__ import annotations

import pytest

from outbox.retry import RetryPolicy

POLICY = RetryPolicy(max_attempts=4, base_delay=2.0, multiplier=2.0, max_delay=10.0, jitter=0.5)


@pytest.mark.parametrize(
    ("category", "attempt", "rnd", "retry_after", "record", "final", "delay", "park", "error"),
    [
        ("transient", 1, 0.0, None, True, False, 1.0, False, "503"),
        ("transient", 1, 1.0, None, True, False, 2.0, False, "503"),
        ("transient", 2, 0.5, None, True, False, 3.0, False, "503"),
        ("transient", 3, 0.0, None, True, False, 4.0, False, "503"),
        ("uncertain", 3, 1.0, None, True, False, 8.0, False, "503"),
        ("transient", 4, 0.5, None, True, True, None, False, "gave up after 4 attempts: 503"),
        ("internal", 9, 0.5, None, True, True, None, False, "gave up after 9 attempts: 503"),
        ("rejected", 1, 0.5, None, True, True, None, False, "503"),
        ("configuration", 1, 0.5, None, True, True, None, False, "503"),
        ("rate_limited", 7, 0.5, 17.0, False, False, 17.0, False, "503"),
        ("daily_limit", 1, 0.5, 3600.0, False, False, 3600.0, True, "503"),
        ("authentication", 1, 0.5, None, False, False, None, True, "503"),
    ],
)
def test_decision_table(category, attempt, rnd, retry_after, record, final, delay, park, error):
    decision = POLICY.decide(category, "503", attempt, rnd, retry_after)

    assert (decision.record, decision.final, decision.delay, decision.park, decision.error) == (
        record,
        final,
        delay,
        park,
        error,
    )


def test_backoff_is_capped():
    assert POLICY.backoff(30, 1.0) == 10.0


def test_unknown_categories_are_refused():
    with pytest.raises(ValueError, match="unknown failure category"):
        POLICY.decide("cosmic rays", "x", 1, 0.0)
